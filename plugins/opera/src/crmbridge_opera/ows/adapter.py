"""Hook glue and streams of the OPERA 5 adapter (`type = "opera-ows"`).

Streams and cursors:

* reservations: a backfill by arrival windows (`backfill_days` back to `lookahead_days`
  ahead), resumable at its next window; afterwards every run re-reads the arrival window from
  yesterday to `lookahead_days` ahead and the bookings made since yesterday. The cursor holds
  a content hash per reservation, so an unchanged one costs no FetchBooking/FetchProfile;
* profiles: the guests arriving today and tomorrow, re-read at most every
  `profile_refresh_minutes` (a change at the desk reaches the pre-arrival job in time);
* stays and folios: in-house and departed reservations by arrival window (a backfill, then the
  last `max_stay_days` each run); stays read in detail only when their summary changed; folio
  lines from `ResvAdvanced.Invoice`, re-read until `SETTLE_DAYS` after departure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from crmbridge.api import (
    AdapterType,
    Alert,
    Batch,
    FolioLine,
    GuestProfile,
    PushResult,
    Reservation,
    SourceContext,
    Stay,
)

from ..budget import count_requests, shared_budget
from ..hoteltime import hotel_today, utcnow
from .client import OwsClient
from .config import OwsConfig
from .mapping import departed_before, profile_id, reservation_ids
from .reading import OwsReader

TYPE = "opera-ows"
SETTLE_DAYS = 2
CAPABILITIES = frozenset({"reservations", "profiles", "stays", "folios", "push_alerts"})


@contextmanager
def session(ctx: SourceContext) -> Iterator[OwsClient]:
    """A client for one stream; its requests are added to the source's count."""
    cfg: OwsConfig = ctx.settings
    budget = shared_budget(ctx.name, cfg.base_url, cfg.max_requests_per_second)
    before = budget.sent
    client = OwsClient(cfg, logger=ctx.log, budget=budget)
    try:
        yield client
    finally:
        client.close()
        count_requests(ctx, budget.sent - before)


def _state(cursor: str | None, full: bool) -> dict[str, Any]:
    return {} if full or not cursor else json.loads(cursor)


# -- reservations ---------------------------------------------------------------------------
def fetch_reservations(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Reservation]]:
    cfg: OwsConfig = ctx.settings
    state = _state(cursor, full)
    hashes: dict[str, str] = dict(state.get("hashes") or {})
    day = hotel_today(ctx)
    end = day + timedelta(days=cfg.lookahead_days)
    with session(ctx) as client:
        reader = OwsReader(ctx, client)
        if state.get("phase") != "incremental":
            start = (
                date.fromisoformat(state["start"])
                if state.get("start")
                else day - timedelta(days=cfg.backfill_days)
            )
            for ws, infos in reader.windows("arrival", start, end):
                nxt = ws + timedelta(days=cfg.window_days)

                def cur(h: dict[str, str], nxt: date = nxt) -> str:
                    if nxt <= end:
                        return json.dumps({"phase": "backfill", "start": nxt.isoformat(), "hashes": h})
                    return json.dumps({"phase": "incremental", "hashes": h})

                yield reader.reservations(infos, hashes, cur)
            return
        seen: set[str] = set()

        def incremental(h: dict[str, str]) -> str:
            return json.dumps({"phase": "incremental", "hashes": h})

        for kind, start, stop in (
            ("arrival", day - timedelta(days=1), end),
            ("booked", day - timedelta(days=1), day),
        ):
            for _, infos in reader.windows(kind, start, stop):
                seen.update(r for r in (reservation_ids(i)[0] for i in infos) if r)
                yield reader.reservations(infos, hashes, incremental)
        # Reservations that left the window are not re-read again: forget their hashes.
        yield Batch([], incremental({r: h for r, h in hashes.items() if r in seen}))


# -- profiles -------------------------------------------------------------------------------
def fetch_profiles(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[GuestProfile]]:
    cfg: OwsConfig = ctx.settings
    state = _state(cursor, full)
    read_at: dict[str, str] = dict(state.get("read_at") or {})
    now = utcnow()
    stale = now - timedelta(minutes=cfg.profile_refresh_minutes)
    day = hotel_today(ctx)
    with session(ctx) as client:
        reader = OwsReader(ctx, client)
        arriving = reader.summaries("arrival", day, day + timedelta(days=1))
        pids = [p for p in dict.fromkeys(profile_id(hr) for hr in arriving) if p]
        due = [p for p in pids if p not in read_at or datetime.fromisoformat(read_at[p]) < stale]
        for p in due:
            read_at[p] = now.isoformat()
        keep = {p: t for p, t in read_at.items() if p in set(pids)}
        yield reader.profiles(due, json.dumps({"read_at": keep}))


# -- stays and folios -----------------------------------------------------------------------
def _lived(
    ctx: SourceContext, reader: OwsReader, state: dict[str, Any]
) -> Iterator[tuple[list[Any], dict[str, Any], bool]]:
    """(summaries, cursor, settling) by arrival window: a backfill from `backfill_days` ago,
    then every run the arrivals of the last `max_stay_days` (who may still be in house).
    FutureBookingSummary filters on arrival or booked date only, not on departure."""
    cfg: OwsConfig = ctx.settings
    day = hotel_today(ctx)
    done = {"phase": "incremental"}
    if state.get("phase") == "incremental":
        for _, infos in reader.windows("arrival", day - timedelta(days=cfg.max_stay_days), day):
            yield infos, done, True
        return
    start = (
        date.fromisoformat(state["start"]) if state.get("start") else day - timedelta(days=cfg.backfill_days)
    )
    for ws, infos in reader.windows("arrival", start, day):
        nxt = ws + timedelta(days=cfg.window_days)
        yield infos, ({"phase": "backfill", "start": nxt.isoformat()} if nxt <= day else done), False


def fetch_stays(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Stay]]:
    state = _state(cursor, full)
    hashes: dict[str, str] = dict(state.get("hashes") or {})
    with session(ctx) as client:
        reader = OwsReader(ctx, client)
        for infos, cur, _ in _lived(ctx, reader, state):
            yield reader.stays(infos, hashes, lambda h, cur=cur: json.dumps({**cur, "hashes": h}))


def fetch_folios(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[FolioLine]]:
    state = _state(cursor, full)
    settled = hotel_today(ctx) - timedelta(days=SETTLE_DAYS)
    with session(ctx) as client:
        reader = OwsReader(ctx, client)
        for infos, cur, settling in _lived(ctx, reader, state):
            if settling:  # a folio departed days ago no longer changes
                infos = [i for i in infos if not departed_before(i, settled)]
            yield reader.folios(infos, json.dumps(cur))


def push_alerts(ctx: SourceContext, alerts: list[Alert]) -> list[PushResult]:
    from .pushing import OwsPusher

    with session(ctx) as client:
        return OwsPusher(ctx, client).push(alerts)


def check(ctx: SourceContext) -> str:
    with session(ctx) as client:
        day = hotel_today(ctx)
        n = len(OwsReader(ctx, client).summaries("arrival", day, day))
    return f"OWS answers for hotel {ctx.settings.hotel_code} ({n} arrival(s) today)"


FETCHERS = {
    "reservations": fetch_reservations,
    "profiles": fetch_profiles,
    "stays": fetch_stays,
    "folios": fetch_folios,
}


def adapter_type() -> AdapterType:
    return AdapterType(
        TYPE,
        OwsConfig,
        CAPABILITIES,
        "Oracle OPERA 5 on premises through OWS (SOAP)",
        check,
        fetch=FETCHERS,
        push_alerts=push_alerts,
    )


def demo_sources() -> Iterable[Any]:
    from crmbridge.api import DemoSource

    from .simulator import demo_options, demo_simulator

    sim = demo_simulator()
    return [DemoSource("opera5_demo", TYPE, demo_options(sim), sim)]
