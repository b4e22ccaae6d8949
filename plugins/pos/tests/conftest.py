"""A Simphony BI simulator on loopback with a clock the test moves, and sources that read it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from crmbridge_pos.adapter import SimphonyConfig
from crmbridge_pos.simulator import SimphonySimulator, stock_location

from crmbridge.adapters.base import SourceContext

LOC = "SHA01-FB"
BUS = date(2026, 11, 20)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 14, 0, tzinfo=UTC))


@pytest.fixture
def sim(clock) -> Iterator[SimphonySimulator]:
    s = SimphonySimulator(clock=clock, password="test-only-password")
    stock_location(s, LOC, BUS)
    with s:
        yield s


def simphony_source(sim: SimphonySimulator, **over) -> SourceContext:
    options = {
        "base_url": sim.url,
        "org": sim.org,
        "username": sim.username,
        "password": sim.password,
        "client_id": sim.client_id,
        "locations": [LOC],
        "hotel_code": "SHA01",
        "business_day_start": "04:00",
        "days_back": 2,
    }
    cfg = SimphonyConfig(**(options | over))
    return SourceContext("restaurant_pos", "simphony", cfg)
