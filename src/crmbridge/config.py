"""Loading ``crmbridge.toml``: the store, the keys and the configured sources.

Secrets are given only by reference (``${env:NAME}`` or ``${file:PATH}``); a literal value in a
key named like a secret is refused, so a config file can be shared or committed safely.
Every error names the file, the table and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from .insights.config import AlertsConfig, SegmentsConfig

DEFAULT_CONFIG = Path("config/crmbridge.toml")
SECRET_KEY = re.compile(r"(password|secret|token|session_key|app_key|api_key)$")
_REF = re.compile(r"^\$\{(env|file):([^}]+)\}$")


class ConfigError(Exception):
    def __init__(self, path: Path | str, where: str, message: str):
        self.path, self.where = path, where
        super().__init__(f"{path}: [{where}] {message}" if where else f"{path}: {message}")


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: str | None = Field(default=None, description="interval such as 30s, 15m, 2h")
    cron: str | None = Field(default=None, description="crontab expression, hotel local time")

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of `every` or `cron`")
        if self.every is not None:
            self.interval_seconds()
            if self.interval_seconds() <= 0:
                raise ValueError("`every` must be longer than 0")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:  # what `crmbridge run` will build: refuse here what would kill it there
                CronTrigger.from_crontab(self.cron, timezone="UTC")
            except ValueError as exc:
                raise ValueError(
                    f"cron {self.cron!r} is not a crontab expression (minute hour day month weekday): {exc}"
                ) from None
        return self

    def interval_seconds(self) -> int:
        m = re.fullmatch(r"(\d+)\s*([smhd])", (self.every or "").strip())
        if not m:
            raise ValueError("`every` must look like 30s, 15m, 2h or 1d")
        return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = "sqlite:///var/crmbridge.db"
    key_file: Path | None = Path("var/crmbridge.key")
    # The key store (data keys wrapped by the master key): its own file or database, never
    # the data database, so backups of the data cannot bring back an erased guest.
    key_store: str = "sqlite:///var/crmbridge-keys.db"
    phone_region: str = "CN"
    match_on_documents: bool = False


class ReceiverConfig(BaseModel):
    """`[receiver]`: the HTTP endpoint push sources (Ctrip, Fliggy direct connect) call."""

    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # OTA messages are a few KiB; anything near this is a mistake or an attack.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    retry_seconds: float = Field(default=60.0, gt=0, description="how often failed messages are retried")
    # Slow clients are cut off: the request line and headers, then the body, each within a
    # deadline (not per byte, so one byte every few seconds does not keep a connection open).
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    idle_timeout_s: float = Field(default=15.0, gt=0, le=600, description="keep-alive between requests")
    max_connections: int = Field(default=500, ge=1, le=100_000, description="more are closed at once")
    # Addresses of the TLS proxy in front: only their X-Forwarded-For is believed (else the
    # peer address is logged, whatever a client claims).
    trusted_proxies: list[str] = Field(default_factory=list)
    # /healthz: a scheduled source is stale this long after its next run was due
    health_grace_s: float = Field(default=600.0, ge=0)


class LoggingConfig(BaseModel):
    """`[logging]`: what `run`, `serve` and `worker` write to stderr."""

    model_config = ConfigDict(extra="forbid")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class IdentityConfig(BaseModel):
    """[identity]: how records are matched into guests (see README, "Identity resolution")."""

    model_config = ConfigDict(extra="forbid")
    merge_threshold: float = 15.0
    review_threshold: float = 11.0
    # source name -> trust; the shown value of a field comes from the most trusted source,
    # the most recent observation among equals
    source_trust: dict[str, int] = Field(default_factory=dict)
    # per field, per agreement level: log2(m/u); what is not given keeps its default
    weights: dict[str, dict[str, float]] = Field(default_factory=dict)
    # relay/masked e-mail domains of your OTAs, added to the built-in list
    relay_email_domains: list[str] = Field(default_factory=list)
    # E.164 prefixes of OTA privacy/virtual numbers, added to the built-in ranges
    # (+86162, +86165, +86167, +86170, +86171): such numbers are never identity evidence
    virtual_phone_prefixes: list[str] = Field(default_factory=list)
    max_bucket: int = Field(default=200, ge=2)
    # different given names block an automatic merge (twins share phone, birth date, address)
    given_name_veto: bool = True

    @model_validator(mode="after")
    def _check(self) -> IdentityConfig:
        from .identity.scoring import LEVELS

        if self.review_threshold > self.merge_threshold:
            raise ValueError("review_threshold must not be above merge_threshold")
        for f, levels in self.weights.items():
            if f not in LEVELS:
                raise ValueError(f"weights.{f}: unknown field (known: {', '.join(LEVELS)})")
            bad = set(levels) - set(LEVELS[f])
            if bad:
                raise ValueError(
                    f"weights.{f}: unknown level {', '.join(sorted(bad))} (known: {', '.join(LEVELS[f])})"
                )
        return self


class PrivacyConfig(BaseModel):
    """[privacy]: retention and the staff API."""

    model_config = ConfigDict(extra="forbid")
    # guests with no stay and no contact for this long are erased by `privacy purge`
    retain_years: int = Field(default=3, ge=1, le=50)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8081, ge=0, le=65535)


@dataclass
class SourceConfig:
    name: str
    type: str
    schedule: Schedule | None
    # The adapter's own keys as written: secrets still as ${env:…}/${file:…} references,
    # resolved only when a command uses the source (`resolved_options`), so a read-only
    # command does not fail on an unrelated source's unset secret.
    options: dict[str, Any]
    config_path: Path | None = None

    def resolved_options(self) -> dict[str, Any]:
        """The options with secrets resolved; ConfigError naming file, table and key if one is missing."""
        return _resolve_options(
            self.options, path=self.config_path or Path("."), table=f"sources.{self.name}"
        )


@dataclass
class Config:
    path: Path
    store: StoreConfig
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    alerts: AlertsConfig | None = None  # set by load_config; defaults when the table is absent
    segments: SegmentsConfig | None = None
    receiver: ReceiverConfig = field(default_factory=ReceiverConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


def resolve_secret(value: str, *, path: Path, where: str) -> str:
    m = _REF.match(value)
    if not m:
        return value
    kind, ref = m.groups()
    if kind == "env":
        if ref not in os.environ:
            raise ConfigError(path, where, f"environment variable {ref} is not set")
        return os.environ[ref]
    secret_path = (path.parent / ref) if not Path(ref).is_absolute() else Path(ref)
    try:
        return secret_path.read_text().strip()
    except OSError as exc:
        raise ConfigError(path, where, f"cannot read secret file {ref}: {exc.strerror}") from None


def _refuse_literal_secrets(opts: dict[str, Any], *, path: Path, table: str) -> None:
    for key, value in opts.items():
        if isinstance(value, str) and SECRET_KEY.search(key) and not _REF.match(value):
            raise ConfigError(
                path,
                f"{table}.{key}",
                "looks like a secret written in clear; give it as ${env:NAME} or ${file:PATH}",
            )


def _resolve_options(opts: dict[str, Any], *, path: Path, table: str) -> dict[str, Any]:
    # Literal secrets were refused when the file was read (`load_config`).
    out: dict[str, Any] = {}
    for key, value in opts.items():
        if isinstance(value, str):
            value = resolve_secret(value, path=path, where=f"{table}.{key}")
            # An empty password would let in anyone who sends an empty one (or none at all).
            if SECRET_KEY.search(key) and not value.strip():
                raise ConfigError(
                    path,
                    f"{table}.{key}",
                    f"{opts[key]} resolves to an empty secret; set it to the credential, "
                    "or remove the source",
                )
        out[key] = value
    return out


def _pydantic_problem(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    )


def load_config(path: Path = DEFAULT_CONFIG) -> Config:
    if not path.exists():
        raise ConfigError(path, "", "not found; run `crmbridge init` to create it from the example")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"is not valid TOML: {exc}") from None
    tables = {
        "store",
        "sources",
        "timezone",
        "receiver",
        "alerts",
        "segments",
        "identity",
        "privacy",
        "logging",
    }
    unknown = set(data) - tables
    if unknown:
        raise ConfigError(path, "", f"unknown top-level tables: {', '.join(sorted(unknown))}")
    store_table = dict(data.get("store", {}))
    if isinstance(store_table.get("url"), str):  # a URL may carry a password: allow a reference
        store_table["url"] = resolve_secret(store_table["url"], path=path, where="store.url")
    try:
        store = StoreConfig.model_validate(store_table)
    except ValidationError as exc:
        raise ConfigError(path, "store", _pydantic_problem(exc)) from None
    if store.key_file is not None and not store.key_file.is_absolute():
        store.key_file = project_root(path) / store.key_file
    store.url = _relative_sqlite(store.url, path)
    if isinstance(store_table.get("key_store"), str):
        store.key_store = resolve_secret(store_table["key_store"], path=path, where="store.key_store")
    store.key_store = _relative_sqlite(store.key_store, path)
    try:
        receiver = ReceiverConfig.model_validate(data.get("receiver", {}))
    except ValidationError as exc:
        raise ConfigError(path, "receiver", _pydantic_problem(exc)) from None
    try:
        identity = IdentityConfig.model_validate(data.get("identity", {}))
    except ValidationError as exc:
        raise ConfigError(path, "identity", _pydantic_problem(exc)) from None
    try:
        privacy = PrivacyConfig.model_validate(data.get("privacy", {}))
    except ValidationError as exc:
        raise ConfigError(path, "privacy", _pydantic_problem(exc)) from None
    try:
        logging_cfg = LoggingConfig.model_validate(data.get("logging", {}))
    except ValidationError as exc:
        raise ConfigError(path, "logging", _pydantic_problem(exc)) from None
    cfg = Config(
        privacy=privacy,
        path=path,
        store=store,
        timezone=_timezone(data.get("timezone", "Asia/Shanghai"), path),
        receiver=receiver,
        identity=identity,
        logging=logging_cfg,
    )

    from .insights.config import AlertsConfig, SegmentsConfig  # insights imports this module

    for table, model in (("alerts", AlertsConfig), ("segments", SegmentsConfig)):
        try:
            setattr(cfg, table, model.model_validate(data.get(table, {})))
        except ValidationError as exc:
            raise ConfigError(path, table, _pydantic_problem(exc)) from None
    for name, table in (data.get("sources") or {}).items():
        where = f"sources.{name}"
        if not isinstance(table, dict) or "type" not in table:
            raise ConfigError(path, where, 'needs a `type` key (e.g. type = "file")')
        opts = dict(table)
        stype = opts.pop("type")
        sched = opts.pop("schedule", None)
        try:
            schedule = Schedule.model_validate(sched) if sched is not None else None
        except ValidationError as exc:
            raise ConfigError(path, f"{where}.schedule", _pydantic_problem(exc)) from None
        _refuse_literal_secrets(opts, path=path, table=where)
        cfg.sources[name] = SourceConfig(name, stype, schedule, opts, path)
    return cfg


def _timezone(value: Any, path: Path) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(
            path, "timezone", f"{value!r} is not a time zone; use an IANA name such as Asia/Shanghai"
        ) from None
    return str(value)


def project_root(config_path: Path) -> Path:
    """Relative paths in config/crmbridge.toml are relative to the project root."""
    parent = config_path.resolve().parent
    return parent.parent if parent.name == "config" else parent


def _relative_sqlite(url: str, path: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + str(project_root(path) / url.removeprefix(prefix))
    return url


def validate_options(model: type[BaseModel], src: SourceConfig, path: Path) -> Any:
    try:
        return model.model_validate(src.resolved_options())
    except ValidationError as exc:
        raise ConfigError(path, f"sources.{src.name}", _pydantic_problem(exc)) from None
