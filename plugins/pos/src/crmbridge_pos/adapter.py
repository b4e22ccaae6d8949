"""Hook implementations: ``simphony`` (Oracle Simphony BI API) and ``pos-file`` (exports).

Simphony reads, per location, every business date from the last one it finished (minus a
day, for checks closed after midnight) up to ``getLatestBusinessDate``, each with
``changedSinceUTC`` = the server time at which the previous pass started (less a minute, so
a check changed in the very second the pass started is not missed): one batch per
location and business date, the cursor remembering where a pass stopped so a killed sync
resumes there. Checks are idempotent in the store, so overlaps cost nothing.
"""

from __future__ import annotations

import csv
import glob
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from crmbridge.api import (
    AdapterConfig,
    AdapterType,
    Batch,
    DemoSource,
    PosCheck,
    Reject,
    SourceContext,
    hookimpl,
    validate_into,
)

from .auth import SimphonyAuth
from .client import SimphonyClient, SimphonyError
from .mapping import FILE_FIELDS, Malformed, map_file_check, map_guest_check

SIMPHONY = "simphony"
POS_FILE = "pos-file"
CAPS = frozenset({"pos_checks"})


def _day_start(v: str) -> str:
    time.fromisoformat(v)  # raises ValueError on a bad value: the config error names the key
    return v


class SimphonyConfig(AdapterConfig):
    base_url: str = Field(description="the R&A server, e.g. https://mtu1-ora.hospitality.oracleindustry.com")
    org: str = Field(description="enterprise (organisation) short name")
    username: str = Field(description="BI API account user")
    password: str = Field(description="BI API account password, as ${env:…} or ${file:…}")
    locations: list[str] = Field(min_length=1, description="location references (locRef) to read")
    business_day_start: str = Field(default="04:00", description="local time the business day rolls over")
    client_id: str = Field(default="SIMPHONY.BI.CRMBRIDGE", description="the API account's client id")
    auth_url: str | None = Field(default=None, description="identity provider, if not base_url")
    hotel_code: str | None = Field(default=None, description="PMS hotel code of these outlets")
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    room_charge_tenders: list[int] = Field(
        default_factory=list, description="tmedNum of room-charge tenders; by name when empty"
    )
    days_back: int = Field(default=3, ge=1, le=60, description="business dates read on the first run")
    timeout_s: float = Field(default=60.0, gt=0)

    _check_day_start = field_validator("business_day_start")(_day_start)


class PosFileConfig(AdapterConfig):
    path: str = Field(description="a file or a glob, relative to the project root")
    format: Literal["csv", "json", "jsonl"] | None = Field(default=None, description="by extension if absent")
    hotel_code: str
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    timezone: str = Field(default="Asia/Shanghai", description="zone of times written without an offset")
    business_day_start: str = Field(default="04:00")
    columns: dict[str, str] = Field(default_factory=dict, description="crmbridge field -> export column")
    room_charge_tenders: list[str] = Field(default_factory=lambda: ["Room Charge", "挂房账", "转房账"])
    batch_size: int = Field(default=500, ge=1, le=50_000)

    _check_day_start = field_validator("business_day_start")(_day_start)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(FILE_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FILE_FIELDS)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        ZoneInfo(v)
        return v


# -- Simphony ---------------------------------------------------------------------------------


def make_client(cfg: SimphonyConfig) -> SimphonyClient:
    auth = SimphonyAuth(
        cfg.auth_url or cfg.base_url,
        client_id=cfg.client_id,
        org=cfg.org,
        username=cfg.username,
        password=cfg.password,
        timeout=cfg.timeout_s,
    )
    return SimphonyClient(cfg.base_url, cfg.org, auth, timeout=cfg.timeout_s)


OVERLAP = timedelta(minutes=1)


def _overlap(cur_utc: str) -> str:
    """The server's time, a little earlier: re-reading a check costs nothing, missing one does."""
    try:
        ts = datetime.fromisoformat(cur_utc.replace("Z", ""))
    except ValueError:
        raise SimphonyError(f"getLatestBusinessDate: curUTC {cur_utc[:40]!r} is not a date-time") from None
    return (ts.replace(tzinfo=None) - OVERLAP).strftime("%Y-%m-%dT%H:%M:%S")


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)] if first <= last else []


def fetch_simphony(
    ctx: SourceContext, cursor: str | None, full: bool, client: SimphonyClient | None = None
) -> Iterator[Batch[PosCheck]]:
    cfg: SimphonyConfig = ctx.settings
    state: dict[str, Any] = (json.loads(cursor) if cursor and not full else {}).get("locations", {})
    day_start = time.fromisoformat(cfg.business_day_start)
    if cfg.hotel_code is None:
        ctx.log.warning(
            "source %s: no hotel_code; checks get their locRef instead and will not link to PMS "
            "stays unless the PMS uses the same code",
            ctx.name,
        )
    owned = client is None
    client = client or make_client(cfg)

    def dump() -> str:
        return json.dumps({"v": 1, "locations": state}, sort_keys=True)

    try:
        for loc in cfg.locations:
            st = dict(state.get(loc, {}))
            latest, cur_utc = client.latest_business_date(loc)
            if "pass" in st:  # resume an interrupted pass where its last batch ended
                since, started = st["pass"]["since"], st["pass"]["started"]
                todo = _dates(date.fromisoformat(st["pass"]["next"]), latest)
            else:
                since, started = st.get("since"), _overlap(cur_utc)
                first = (
                    date.fromisoformat(st["bus_dt"]) - timedelta(days=1)
                    if st.get("bus_dt")
                    else latest - timedelta(days=cfg.days_back - 1)
                )
                todo = _dates(first, latest)
            dims = client.dimensions(loc)
            for day in todo:
                data = client.guest_checks(loc, day, since)
                batch: Batch[PosCheck] = Batch([], None)
                for n, raw in enumerate(data.get("guestChecks") or []):
                    text = json.dumps(raw, ensure_ascii=False, default=str)
                    sid = f"{loc}:{raw.get('guestCheckId')}" if isinstance(raw, dict) else f"{loc}:#{n}"
                    try:
                        if not isinstance(raw, dict):
                            raise Malformed("guest check is not an object")
                        mapped = map_guest_check(
                            raw,
                            dims,
                            source=ctx.name,
                            loc_ref=loc,
                            hotel_code=cfg.hotel_code or loc,
                            currency=cfg.currency,
                            room_charge_tenders=set(cfg.room_charge_tenders),
                            business_day_start=day_start,
                        )
                    except Malformed as exc:
                        batch.rejects.append(Reject(sid, f"record {ctx.name}/{sid} is invalid: {exc}", text))
                        continue
                    validate_into(PosCheck, mapped, text, batch)
                st["pass"] = {
                    "since": since,
                    "started": started,
                    "next": (day + timedelta(days=1)).isoformat(),
                }
                state[loc] = st
                batch.cursor = dump()
                yield batch
            state[loc] = {"since": started, "bus_dt": latest.isoformat()}
            yield Batch([], dump())
    finally:
        if owned:
            client.close()


def check_simphony(ctx: SourceContext) -> str:
    cfg: SimphonyConfig = ctx.settings
    with make_client(cfg) as client:
        dates = [f"{loc} {client.latest_business_date(loc)[0].isoformat()}" for loc in cfg.locations]
    return "signed in; latest business date: " + ", ".join(dates)


# -- POS file exports -------------------------------------------------------------------------


def _files(ctx: SourceContext) -> list[Path]:
    pattern = ctx.settings.path
    if not os.path.isabs(pattern):
        pattern = str(ctx.base_dir / pattern)
    return [Path(p) for p in sorted(glob.glob(pattern))]


def _rows(path: Path, fmt: str) -> Iterator[tuple[dict[str, Any] | None, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if fmt == "csv":
            for row in csv.DictReader(fh):
                yield {k.strip(): v for k, v in row.items() if k}, json.dumps(row, ensure_ascii=False)
            return
        if fmt == "jsonl":
            for line in fh:
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError:
                        obj = None
                    yield (obj if isinstance(obj, dict) else None), line
            return
        try:
            data = json.load(fh)
        except json.JSONDecodeError:
            yield None, path.name
            return
        for obj in data if isinstance(data, list) else [data]:
            yield (obj if isinstance(obj, dict) else None), json.dumps(obj, ensure_ascii=False)


def _signature(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def fetch_pos_file(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[PosCheck]]:
    """Each file whose size or modification time changed is read whole, grouped by check."""
    cfg: PosFileConfig = ctx.settings
    done: dict[str, list[int]] = (json.loads(cursor) if cursor and not full else {}).get("files", {})
    rename = {v: k for k, v in cfg.columns.items()}
    tz = ZoneInfo(cfg.timezone)
    day_start = time.fromisoformat(cfg.business_day_start)
    tenders = {t.casefold() for t in cfg.room_charge_tenders}
    for path in _files(ctx):
        sig = _signature(path)
        if done.get(str(path)) == sig:
            continue
        fmt = cfg.format or {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(
            path.suffix.lower(), "csv"
        )
        groups: dict[str, list[dict[str, Any]]] = {}
        raws: dict[str, list[str]] = {}
        batch: Batch[PosCheck] = Batch([], None)
        for n, (row, raw) in enumerate(_rows(path, fmt), start=1):
            if row is None:
                batch.rejects.append(Reject(f"{path.name}:{n}", "not a JSON object", raw))
                continue
            canon = {rename.get(k, k): v for k, v in row.items()}
            cid = str(canon.get("check_id") or "").strip()
            if not cid:
                batch.rejects.append(Reject(f"{path.name}:{n}", "check_id is missing", raw))
                continue
            groups.setdefault(cid, []).append(canon)
            raws.setdefault(cid, []).append(raw)
        for cid, rows in groups.items():
            text = "\n".join(raws[cid])
            try:
                mapped = map_file_check(
                    rows,
                    source=ctx.name,
                    hotel_code=cfg.hotel_code,
                    currency=cfg.currency,
                    tz=tz,
                    business_day_start=day_start,
                    room_charge_tenders=tenders,
                )
            except Malformed as exc:
                batch.rejects.append(Reject(cid, f"record {ctx.name}/{cid} is invalid: {exc}", text))
                continue
            validate_into(PosCheck, mapped, text, batch)
            if batch.size >= cfg.batch_size:
                batch.cursor = json.dumps({"files": done}, sort_keys=True)  # file not done yet
                yield batch
                batch = Batch([], None)
        done[str(path)] = sig
        batch.cursor = json.dumps({"files": done}, sort_keys=True)
        yield batch


def check_pos_file(ctx: SourceContext) -> str:
    files = _files(ctx)
    if not files:
        raise FileNotFoundError(f"no file matches {ctx.settings.path}")
    return f"{len(files)} file(s) match"


# -- hooks ------------------------------------------------------------------------------------


SIMPHONY_TYPE = AdapterType(
    SIMPHONY,
    SimphonyConfig,
    CAPS,
    "Oracle Simphony BI API guest checks",
    check_simphony,
    fetch={"pos_checks": fetch_simphony},
)
POS_FILE_TYPE = AdapterType(
    POS_FILE,
    PosFileConfig,
    CAPS,
    "POS check exports as CSV, JSON or JSON Lines",
    check_pos_file,
    fetch={"pos_checks": fetch_pos_file},
)


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [SIMPHONY_TYPE, POS_FILE_TYPE]


@hookimpl
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    from .demo import demo_simulator

    sim, options = demo_simulator()

    @contextmanager
    def running() -> Iterator[None]:
        with sim:
            yield

    return [DemoSource("restaurant_pos", SIMPHONY, options, running())]
