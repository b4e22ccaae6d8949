"""End to end over loopback: the adapter against the OHIP simulator, through the sync engine,
into a real store (SQLite and PostgreSQL), with the simulator's faults switched on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from crmbridge_opera import reading
from sqlalchemy import func, select

from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import folio_lines, reservations, stays

from .conftest import sim_config, source


def run(store, ctx):
    hooks = load_plugins()
    results = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("opera"))
    return {r.stream: r for r in results}


def count(store, table) -> int:
    with store.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def expected(sim, first: date, last: date) -> set[str]:
    return {
        rid
        for rid, info in sim.state.reservations.items()
        if first <= date.fromisoformat(info["roomStay"]["arrivalDate"]) <= last
    }


def test_backfill_across_many_pages_lands_completely_despite_faults(store, big_sim, today):
    sim = big_sim
    sim.fault(429, retry_after=0, times=2, operation="getHotelReservations")
    sim.fault(500, times=1, operation="getProfile")
    sim.fault(503, times=1, operation="getFolio")
    sim.fault(None, delay=0.2, times=1, operation="getHotelReservations")  # a slow page
    sim.token_ttl = 1  # tokens expire during the run: renewed, never a failure
    ctx = source(store, sim_config(sim))
    res = run(store, ctx)
    assert {s: r.status for s, r in res.items()} == dict.fromkeys(
        ("profiles", "reservations", "stays", "folios"), "ok"
    )
    want = expected(sim, today - timedelta(days=20), today + timedelta(days=14))
    assert len(want) == 300
    assert res["reservations"].counts.inserted == 300 and res["reservations"].counts.quarantined == 0
    with store.engine.connect() as c:
        assert set(c.execute(select(reservations.c.source_id)).scalars()) == want
    pages = [r for r in sim.requests if r.operation == "getHotelReservations" and r.status == 200]
    assert len(pages) > 15  # page_size 20: many pages
    assert count(store, stays) == len(sim.state.folios) and count(store, folio_lines) > count(store, stays)
    assert sim.violations() == []
    again = run(store, ctx)
    assert [(r.counts.inserted, r.counts.updated) for r in again.values()] == [(0, 0)] * 4


def test_a_second_run_writes_nothing_new(store, sim):
    ctx = source(store, sim_config(sim))
    run(store, ctx)
    again = run(store, ctx)
    for stream, r in again.items():
        assert (r.status, r.counts.inserted, r.counts.updated) == ("ok", 0, 0), stream
    # The arrivals were re-read, but unchanged ones are skipped by content hash: nothing is
    # even handed to the store, and no guest profile is fetched again.
    assert again["reservations"].requests > 0 and again["reservations"].counts.fetched == 0


def test_an_interrupted_backfill_resumes_from_its_last_committed_page(store, sim, monkeypatch):
    ctx = source(store, sim_config(sim))
    real = reading.Reader.reservations
    calls = {"n": 0}

    def dying(self, infos, cursor):
        calls["n"] += 1
        if calls["n"] == 4:
            raise ConnectionError("network cable pulled")
        return real(self, infos, cursor)

    monkeypatch.setattr(reading.Reader, "reservations", dying)
    first = run(store, ctx)["reservations"]
    assert first.status == "failed" and 0 < first.counts.inserted < 60
    monkeypatch.setattr(reading.Reader, "reservations", real)
    second = run(store, ctx)["reservations"]
    # Nothing committed before the failure is read again; nothing is missing.
    assert second.status == "ok" and second.counts.unchanged == 0
    assert second.counts.inserted == 60 - first.counts.inserted
    assert count(store, reservations) == 60


def test_business_events_lost_to_a_crash_after_dequeue_are_processed_on_the_next_run(
    store, sim, monkeypatch, today
):
    ctx = source(store, sim_config(sim))
    run(store, ctx)
    rid = next(r for r, i in sim.state.reservations.items() if i["reservationStatus"] == "Reserved")
    sim.change_reservation(rid, roomType="STE")
    pid = sim.state.reservations[rid]["reservationGuest"]["id"]
    sim.add_event("Profile", pid)
    sim.add_event("Housekeeping", "1808")
    sim.fault(429, retry_after=0, operation="getBusinessEvents")

    def crash(self, reservation):
        raise RuntimeError("killed right after the dequeue")

    monkeypatch.setattr(reading.Reader, "reread", crash)
    crashed = run(store, ctx)["reservations"]
    assert crashed.status == "failed"
    assert len(sim.state.events) == 0  # OPERA has forgotten them...
    assert ctx.inbox.counts().get("pending", 0) == 1  # ...the inbox has not
    monkeypatch.undo()
    res = run(store, ctx)
    assert res["reservations"].status == "ok" and res["reservations"].counts.updated >= 1
    assert ctx.inbox.counts() == {"done": 3} and ctx.inbox.pending() == []
    with store.engine.connect() as c:
        assert (
            c.execute(select(reservations.c.room_type).where(reservations.c.source_id == rid)).scalar_one()
            == "STE"
        )


def test_an_event_for_a_reservation_outside_the_window_is_still_read(store, sim, today):
    ctx = source(store, sim_config(sim, lookahead_days=3))
    run(store, ctx)
    far = max(sim.state.reservations, key=lambda r: sim.state.reservations[r]["roomStay"]["arrivalDate"])
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).where(reservations.c.source_id == far)).scalar_one() == 0
    sim.add_event("Reservation", far, "NEW RESERVATION")
    assert run(store, ctx)["reservations"].counts.inserted == 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_gateway_that_keeps_failing_fails_the_run_with_a_clear_error(store, sim, status):
    sim.fault(status, times=100, operation="getHotelReservations")
    res = run(store, source(store, sim_config(sim, max_attempts=3)))["reservations"]
    assert res.status == "failed"
    assert "getHotelReservations failed after 3 attempts" in res.error and str(status) in res.error
