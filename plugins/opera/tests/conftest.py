"""Fixtures for the OPERA adapter: configs, a fast backoff, the loopback simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crmbridge_opera import client as client_module
from crmbridge_opera.config import OperaConfig
from crmbridge_opera.oauth import clear_token_cache
from crmbridge_opera.simulator import OhipSimulator, demo_options

from crmbridge.adapters.base import SourceContext
from crmbridge.store.guest_store import GuestStore

APP_KEY = "3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c"
CLIENT_SECRET = "s3cr3t-Client-Value"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch) -> None:
    """Retries wait milliseconds, not seconds; tokens never leak from one test to the next."""
    monkeypatch.setattr(client_module, "BACKOFF_INITIAL_S", 0.001)
    monkeypatch.setattr(client_module, "BACKOFF_MAX_S", 0.01)
    clear_token_cache()


def make_config(**over: Any) -> OperaConfig:
    values: dict[str, Any] = {
        "gateway_url": "https://ohip.example.test",
        "app_key": APP_KEY,
        "client_id": "crmbridge-client",
        "client_secret": CLIENT_SECRET,
        "hotel_id": "SHA01",
        "external_system": "CRMBRIDGE",
        "timeout_s": 2,
        "max_attempts": 4,
    }
    values.update(over)
    return OperaConfig.model_validate(values)


@pytest.fixture
def today():
    return datetime.now(UTC).date()


def _sim(n: int, today) -> Iterator[OhipSimulator]:
    s = OhipSimulator(app_key=APP_KEY, client_secret=CLIENT_SECRET)
    s.populate(n, first_arrival=today - timedelta(days=20), days=34, seed=11, today=today)
    with s:
        yield s
    # Whatever the test did, the adapter never sent a request the OHIP specs refuse.
    assert [r.violation for r in s.violations()] == []


@pytest.fixture
def sim(today) -> Iterator[OhipSimulator]:
    """60 invented reservations arriving from 20 days ago to 13 days ahead."""
    yield from _sim(60, today)


@pytest.fixture
def big_sim(today) -> Iterator[OhipSimulator]:
    """300 invented reservations over the same days: many pages."""
    yield from _sim(300, today)


def sim_config(sim: OhipSimulator, **over: Any) -> OperaConfig:
    values = demo_options(sim)
    values.update(backfill_days=20, lookahead_days=14, page_size=20, timeout_s=2, max_attempts=4)
    values.update(over)
    return OperaConfig.model_validate(values)


@pytest.fixture
def sqlite_store(tmp_path, keyring) -> Iterator[GuestStore]:
    """For tests about what goes over the wire or into logs: one backend is enough."""
    s = GuestStore.open(f"sqlite:///{tmp_path / 'store.db'}", keyring)
    yield s
    s.close()


def source(store, cfg: OperaConfig, name: str = "opera") -> SourceContext:
    return SourceContext(name, "opera", cfg, inbox=store.inbox(name), ledger=store.ledger(name))


# The OPERA 5 (OWS) fixtures live in their own module.
from .ows_support import fast_ows_backoff, ows_sim, ows_today  # noqa: E402, F401
