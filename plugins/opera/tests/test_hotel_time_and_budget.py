"""Both OPERA adapters work on the hotel's day, keep to their request budget, and say how many
requests a run made; re-runs do not re-read every arriving guest's profile."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs

import pytest
from crmbridge_opera import hoteltime

from crmbridge.config import Config, SourceConfig, StoreConfig
from crmbridge.engine.sync import SyncEngine
from crmbridge.insights import prearrival
from crmbridge.insights.config import AlertsConfig, SegmentsConfig
from crmbridge.plugins import load_plugins

from .conftest import sim_config, source
from .ows_support import ows_config, ows_source
from .ows_support import run as run_ows

SHANGHAI_1AM_UTC = time(17, 0)  # 01:00 in Shanghai is 17:00 UTC of the day before


@pytest.fixture
def one_am_in_shanghai(monkeypatch, today) -> date:
    """The clock stands at 01:00 Asia/Shanghai: the UTC date is still yesterday."""
    now = datetime.combine(today - timedelta(days=1), SHANGHAI_1AM_UTC, tzinfo=UTC)
    monkeypatch.setattr(hoteltime, "utcnow", lambda: now)
    return today


def run_ohip(store, ctx):
    hooks = load_plugins()
    return {r.stream: r for r in SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("opera"))}


def test_ohip_reads_the_shanghai_day_at_one_in_the_morning(store, sim, one_am_in_shanghai):
    shanghai_day = one_am_in_shanghai
    run_ohip(store, source(store, sim_config(sim, backfill_days=0)))
    starts = [
        parse_qs(r.query)["arrivalStartDate"][0]
        for r in sim.requests
        if r.operation == "getHotelReservations" and "arrivalStartDate" in r.query
    ]
    assert min(starts) == shanghai_day.isoformat()


def test_ows_reads_the_shanghai_day_at_one_in_the_morning(store, ows_sim, one_am_in_shanghai, monkeypatch):
    seen: list[date] = []
    from crmbridge_opera.ows.reading import OwsReader

    real = OwsReader.summaries

    def spy(self, kind, start, end):
        seen.append(start)
        return real(self, kind, start, end)

    monkeypatch.setattr(OwsReader, "summaries", spy)
    run_ows(store, ows_source(store, ows_config(ows_sim, backfill_days=0)))
    assert min(seen) == one_am_in_shanghai


def test_the_prearrival_job_plans_the_shanghai_day_at_one_in_the_morning(
    store, sim, tmp_path, today, monkeypatch
):
    zone_now = datetime.combine(today, time(1, 0))
    monkeypatch.setattr(prearrival, "now_in", lambda zone: zone_now.replace(tzinfo=zone))
    cfg = Config(
        path=tmp_path / "crmbridge.toml",
        store=StoreConfig(),
        sources={"opera": SourceConfig("opera", "opera", None, {**sim_config(sim).model_dump(mode="json")})},
        alerts=AlertsConfig(language="en", lookahead_days=0),
        segments=SegmentsConfig(),
        timezone="Asia/Shanghai",
    )
    assert prearrival.hotel_today(cfg) == today


def test_a_second_ohip_run_reads_no_unchanged_guest_profile(store, sim):
    ctx = source(store, sim_config(sim))
    run_ohip(store, ctx)  # the backfill records the hashes of the arrivals to come
    before = sum(1 for r in sim.requests if r.operation == "getProfile")
    again = run_ohip(store, ctx)
    assert sum(1 for r in sim.requests if r.operation == "getProfile") == before
    assert again["reservations"].counts.updated == 0 and again["reservations"].requests > 0


def test_a_changed_arrival_is_still_read_with_its_guest(store, sim, today):
    ctx = source(store, sim_config(sim))
    run_ohip(store, ctx)
    rid = next(r for r, i in sim.state.reservations.items() if i["reservationStatus"] == "Reserved")
    with sim._lock:  # changed at the desk, and its business event lost
        sim.state.reservations[rid]["roomStay"]["roomType"] = "STE"
    res = run_ohip(store, ctx)["reservations"]
    assert res.counts.updated == 1


def test_an_ohip_run_never_exceeds_the_configured_request_rate(store, sim):
    ctx = source(store, sim_config(sim, max_requests_per_second=10, lookahead_days=5, backfill_days=8))
    res = run_ohip(store, ctx)
    assert all(r.status == "ok" for r in res.values())
    assert len(sim.requests) > 20 and sim.max_rate(1.0) <= 10
    assert sum(r.requests for r in res.values()) == len(sim.requests)
