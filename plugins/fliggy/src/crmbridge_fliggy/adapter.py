"""Hook implementations of the Fliggy adapter (``type = "fliggy"``).

A source pulls from the TOP gateway (``gateway_url``, ``app_key``, ``app_secret``,
``session_key``, ``sign_method``), takes direct-connect pushes (``username``, ``password``,
``path``), or both; ``hotel_ids`` limits it to some Fliggy hotels of the seller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from crmbridge.api import AdapterConfig, AdapterType, Batch, DemoSource, Reservation, SourceContext, hookimpl

from . import pull, push
from .client import TopClient, top_time

TYPE = "fliggy"
# Retry policy of the TOP client; tests shorten the waits.
CLIENT_OPTIONS: dict[str, Any] = {"max_attempts": 4, "backoff": 1.0, "max_wait": 30.0, "timeout": 30.0}


class FliggyConfig(AdapterConfig):
    gateway_url: str | None = Field(
        default=None, description="TOP gateway, e.g. https://eco.taobao.com/router/rest"
    )
    app_key: str | None = None
    app_secret: str | None = None
    session_key: str | None = Field(default=None, description="the hotel seller's authorised TOP session")
    sign_method: Literal["md5", "hmac", "hmac-sha256"] = "hmac-sha256"
    hotel_ids: list[str] = Field(
        default_factory=list, description="Fliggy hotel ids (hid) to take; all if empty"
    )
    username: str | None = Field(default=None, description="direct-connect AuthenticationToken username")
    password: str | None = None
    path: str | None = Field(default=None, description="receiver path Fliggy posts to, e.g. /push/fliggy")

    @field_validator("hotel_ids", mode="before")
    @classmethod
    def _ids_as_text(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v

    @property
    def pull_enabled(self) -> bool:
        return self.gateway_url is not None

    @property
    def push_enabled(self) -> bool:
        return self.path is not None

    @model_validator(mode="after")
    def _complete(self) -> FliggyConfig:
        pull_keys = {"gateway_url": self.gateway_url, "app_key": self.app_key, "app_secret": self.app_secret,
                     "session_key": self.session_key}  # fmt: skip
        push_keys = {"username": self.username, "password": self.password, "path": self.path}
        for group in (pull_keys, push_keys):
            given = [k for k, v in group.items() if v]
            if given and len(given) < len(group):
                missing = ", ".join(k for k in group if k not in given)
                raise ValueError(f"{', '.join(given)} given but {missing} missing")
        if not self.gateway_url and not self.path:
            raise ValueError("give the TOP pull keys (gateway_url, app_key, app_secret, session_key), "
                             "the direct-connect keys (username, password, path), or both")  # fmt: skip
        if self.path is not None and not self.path.startswith("/"):
            raise ValueError('path must start with "/"')
        return self


def client_for(cfg: FliggyConfig) -> TopClient:
    assert cfg.gateway_url and cfg.app_key and cfg.app_secret
    return TopClient(cfg.gateway_url, cfg.app_key, cfg.app_secret, cfg.session_key, cfg.sign_method,
                     **CLIENT_OPTIONS)  # fmt: skip


def fetch(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Reservation]]:
    cfg: FliggyConfig = ctx.settings
    if cfg.push_enabled and ctx.inbox is not None:
        yield from push.drain(ctx, cursor)
    if cfg.pull_enabled:
        with client_for(cfg) as client:
            yield from pull.fetch_orders(ctx, client, cursor, full, datetime.now(UTC))


def check(ctx: SourceContext) -> str:
    cfg: FliggyConfig = ctx.settings
    if not cfg.pull_enabled:
        return f"direct-connect push at {cfg.path}"
    now = datetime.now(UTC)
    with client_for(cfg) as client:
        resp = client.call(
            pull.SEARCH,
            {"created_start": top_time(now - timedelta(days=1)), "created_end": top_time(now)},
        )
    return f"TOP gateway answered; {resp.get('total_results', 0)} order(s) created in the last day"


FLIGGY = AdapterType(
    TYPE,
    FliggyConfig,
    {"reservations", "receive"},
    "Fliggy (飞猪) hotel orders: TOP xhotel order pull and direct-connect push",
    check,
    fetch={"reservations": fetch},
    receive=push.receive,
)


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [FLIGGY]


@hookimpl
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    from .simulator import TopGatewaySimulator, invent_orders  # test and demo code, loaded only here

    sim = TopGatewaySimulator(orders=invent_orders(64, hid="5001", days=80))
    url = sim.bind()  # the port is known now; the demo serves it while syncing
    options = {
        "gateway_url": url,
        "app_key": sim.app_key,
        "app_secret": sim.app_secret,
        "session_key": sim.session_key,
        "sign_method": "hmac-sha256",
        "hotel_ids": ["5001"],
    }
    return [DemoSource("fliggy_demo", TYPE, options, sim)]
