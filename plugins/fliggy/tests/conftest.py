"""Fixtures for the Fliggy adapter: a loopback TOP gateway with invented orders, a source on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crmbridge_fliggy import adapter
from crmbridge_fliggy.adapter import FliggyConfig
from crmbridge_fliggy.simulator import TopGatewaySimulator, invent_orders
from sqlalchemy import select

from crmbridge.adapters.base import SourceContext
from crmbridge.engine.sync import StreamResult, SyncEngine
from crmbridge.plugins import Hooks, load_plugins
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import reservations

HID = "5001"
N_ORDERS = 95  # five pages or so per 30-day window, over 85 days


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch) -> None:
    monkeypatch.setitem(adapter.CLIENT_OPTIONS, "backoff", 0.001)
    monkeypatch.setitem(adapter.CLIENT_OPTIONS, "max_wait", 0.01)


@pytest.fixture
def gateway() -> Iterator[TopGatewaySimulator]:
    orders = invent_orders(N_ORDERS, hid=HID, days=85)
    orders += invent_orders(4, hid="6002", days=20, seed=99)  # another hotel of the same seller
    for i, o in enumerate(orders[-4:]):
        o["tid"] = 3_900_000_000_000 + i
    with TopGatewaySimulator(orders=orders) as sim:
        yield sim


def settings(sim: TopGatewaySimulator, **over: Any) -> FliggyConfig:
    opts = {
        "gateway_url": sim.url,
        "app_key": sim.app_key,
        "app_secret": sim.app_secret,
        "session_key": sim.session_key,
        "sign_method": "hmac-sha256",
        "hotel_ids": [HID],
        **over,
    }
    return FliggyConfig.model_validate(opts)


@pytest.fixture
def sqlite_store(tmp_path, keyring) -> Iterator[GuestStore]:
    """For tests of what never reaches the store (refused input): one backend is enough."""
    s = GuestStore.open(f"sqlite:///{tmp_path / 'refusals.db'}", keyring)
    yield s
    s.close()


@pytest.fixture
def hooks() -> Hooks:
    return load_plugins()


def source(store: GuestStore, config: FliggyConfig, name: str = "fliggy_top") -> SourceContext:
    return SourceContext(name, "fliggy", config, inbox=store.inbox(name), ledger=store.ledger(name))


def sync(store: GuestStore, hooks: Hooks, ctx: SourceContext, **kw: Any) -> StreamResult:
    [result] = SyncEngine(store, hooks, **{k: v for k, v in kw.items() if k == "should_stop"}).sync_source(
        ctx, hooks.adapter_type("fliggy"), full=kw.get("full", False)
    )
    return result


def stored(store: GuestStore, source_name: str = "fliggy_top") -> dict[str, Any]:
    with store.engine.connect() as c:
        rows = c.execute(select(reservations).where(reservations.c.source == source_name)).all()
    return {r.source_id: r for r in rows}
