"""Fixtures for the OPERA 5 (OWS) adapter tests: the loopback simulator, configs, a fast backoff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crmbridge_opera.ows import client as ows_client
from crmbridge_opera.ows.config import OwsConfig
from crmbridge_opera.ows.simulator import OwsSimulator, demo_options

from crmbridge.adapters.base import SourceContext
from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins

PASSWORD = "Ows-Test-Passw0rd"


@pytest.fixture(autouse=True)
def fast_ows_backoff(monkeypatch) -> None:
    monkeypatch.setattr(ows_client, "BACKOFF_INITIAL_S", 0.001)
    monkeypatch.setattr(ows_client, "BACKOFF_MAX_S", 0.01)


def make_sim(n: int, today, seed: int = 11) -> OwsSimulator:
    sim = OwsSimulator(password=PASSWORD)
    sim.populate(n, first_arrival=today - timedelta(days=20), days=34, seed=seed, today=today)
    return sim


@pytest.fixture
def ows_today():
    return datetime.now(UTC).date()


@pytest.fixture
def ows_sim(ows_today) -> Iterator[OwsSimulator]:
    """60 invented reservations arriving from 20 days ago to 13 days ahead."""
    with make_sim(60, ows_today) as s:
        yield s
    # Whatever the test did, every request the adapter sent validated against the WSDLs.
    assert [r.violation for r in s.violations()] == []


def ows_config(sim: OwsSimulator, **over: Any) -> OwsConfig:
    values = demo_options(sim)
    values.update(
        backfill_days=20, lookahead_days=14, timeout_s=2, max_attempts=4, max_requests_per_second=100
    )
    values.update(over)
    return OwsConfig.model_validate(values)


def ows_source(store, cfg: OwsConfig, name: str = "opera5") -> SourceContext:
    return SourceContext(name, "opera-ows", cfg, inbox=store.inbox(name), ledger=store.ledger(name))


def run(store, ctx: SourceContext) -> dict[str, Any]:
    hooks = load_plugins()
    results = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("opera-ows"))
    return {r.stream: r for r in results}
