"""Invented Ctrip messages for the tests, built by the simulator's own builder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from crmbridge_ctrip.adapter import TYPE, CtripConfig
from crmbridge_ctrip.simulator import Credentials, Guest, Messages, Order

from crmbridge.adapters.base import SourceContext
from crmbridge.store.guest_store import GuestStore

HOTEL = "SHA01"
CREDS = Credentials("ctrip-sha01", "pw-7f3a-for-tests")
CONFIG = CtripConfig(
    hotel_code=HOTEL, requestor_id=CREDS.requestor_id, message_password=CREDS.password, path="/ota/ctrip"
)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def messages(creds: Credentials = CREDS) -> Messages:
    return Messages(creds, clock=fixed_clock)


def order(order_id: str = "CT9001", **over: object) -> Order:
    o = Order(
        order_id,
        HOTEL,
        date(2026, 12, 1),
        2,
        Guest("王", "芳", pinyin=("Wang", "Fang"), phone="+86 139 0013 9000", email="wang.fang.t@example.cn"),
        requests=["高楼层，远离电梯"],
    )
    return replace(o, **over)  # type: ignore[arg-type]


def ctrip_source(store: GuestStore | None = None, name: str = "ctrip") -> SourceContext:
    ctx = SourceContext(name, TYPE, CONFIG)
    if store is not None:
        ctx.inbox, ctx.ledger = store.inbox(name), store.ledger(name)
    return ctx
