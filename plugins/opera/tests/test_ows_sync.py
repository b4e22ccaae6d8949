"""End to end over loopback: the OPERA 5 adapter against the OWS simulator, through the sync
engine, into a real store (SQLite and PostgreSQL), with the simulator's faults switched on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crmbridge.store.schema import folio_lines, profile_records, reservations, stays

from .ows_support import ows_config, ows_source, run

STREAMS = ("profiles", "reservations", "stays", "folios")


def count(store, table) -> int:
    with store.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_backfill_lands_every_reservation_profile_and_folio_despite_faults(store, ows_sim, ows_today):
    sim = ows_sim
    sim.fault("soap_fault", "FutureBookingSummary")
    sim.fault("http503", "FetchBooking", times=2)
    sim.fault("slow", "FetchProfile", delay=0.2)
    sim.fault("soap_fault", "Invoice")
    res = run(store, ows_source(store, ows_config(sim)))
    assert {s: r.status for s, r in res.items()} == dict.fromkeys(STREAMS, "ok"), {
        s: r.error for s, r in res.items()
    }
    first, last = ows_today - timedelta(days=20), ows_today + timedelta(days=14)
    want = {r.rid for r in sim.state.reservations.values() if first <= r.arrival <= last}
    assert len(want) == 60
    with store.engine.connect() as c:
        assert set(c.execute(select(reservations.c.source_id)).scalars()) == want
        pids = set(
            c.execute(
                select(profile_records.c.source_id).where(profile_records.c.source == "opera5")
            ).scalars()
        )
    assert pids == {r.pid for r in sim.state.reservations.values()}
    lived = [r for r in sim.state.reservations.values() if r.status in ("INHOUSE", "CHECKEDOUT")]
    assert count(store, stays) == len(lived)
    assert count(store, folio_lines) == sum(len(r.folio) for r in lived) > 0


def test_a_second_run_writes_nothing_and_reads_no_unchanged_booking(store, ows_sim):
    ctx = ows_source(store, ows_config(ows_sim))
    run(store, ctx)
    bookings = ows_sim.calls("FetchBooking")
    again = run(store, ctx)
    for stream, r in again.items():
        assert (r.status, r.counts.inserted, r.counts.updated) == ("ok", 0, 0), stream
    # The summaries are unchanged, so no reservation was read in detail again.
    assert ows_sim.calls("FetchBooking") == bookings
