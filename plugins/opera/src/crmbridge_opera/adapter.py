"""Hook implementations of the OPERA Cloud adapter (`type = "opera"`).

Streams and cursors:

* reservations: a backfill by arrival-date windows (`backfill_days` back to `lookahead_days`
  ahead), resumable at `{window start, offset}`; afterwards every run drains Business Events
  into the inbox, re-reads the reservations they name, and re-reads the next
  `lookahead_days` of arrivals (the store writes only what changed);
* profiles: the profiles that Business Events name (reservations carry their guests);
* stays and folios: in-house and departed reservations by departure window, the folio
  postings of each (`getFolio` with Postings).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crmbridge.api import (
    AdapterType,
    Alert,
    Batch,
    DemoSource,
    FolioLine,
    GuestProfile,
    PushResult,
    Reservation,
    SourceContext,
    Stay,
    hookimpl,
)

from . import events
from .alerts import AlertPusher
from .budget import count_requests, shared_budget
from .client import OperaClient
from .config import OperaConfig
from .hoteltime import hotel_today
from .mapping import reservation_id
from .reading import Reader, Window, remember

log = logging.getLogger(__name__)
TYPE = "opera"
EVENT_CHUNK = 50
STAYED = {"reservationStatuses": ["InHouse", "CheckedOut"]}
SETTLE_DAYS = 2  # departed stays and folios are re-read this long after departure


@contextmanager
def make_client(ctx: SourceContext) -> Iterator[OperaClient]:
    """A client for one stream, on the source's shared request budget; what it sends is
    added to the source's request count for the sync summary."""
    cfg: OperaConfig = ctx.settings
    budget = shared_budget(ctx.name, cfg.base_url, cfg.max_requests_per_second)
    before = budget.sent
    client = OperaClient(cfg, logger=ctx.log, budget=budget)
    try:
        yield client
    finally:
        client.close()
        count_requests(ctx, budget.sent - before)


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


# -- reservations ---------------------------------------------------------------------------
def fetch_reservations(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Reservation]]:
    cfg: OperaConfig = ctx.settings
    state = {} if full or not cursor else json.loads(cursor)
    day = hotel_today(ctx)
    end = day + timedelta(days=cfg.lookahead_days)
    # Content hashes of the arrivals re-read last time: an unchanged reservation costs no
    # getProfile (profile changes arrive as Profile business events).
    hashes: dict[str, str] = dict(state.get("hashes") or {})

    def cur() -> str:
        return json.dumps({"phase": "incremental", "hashes": hashes})

    with make_client(ctx) as client:
        reader = Reader(ctx, client)
        backfilling = state.get("phase") != "incremental"
        if backfilling:
            start = (
                Window(date.fromisoformat(state["start"]), int(state.get("offset", 0)))
                if state.get("phase") == "backfill"
                else Window(day - timedelta(days=cfg.backfill_days))
            )
            for infos, nxt in reader.walk("arrival", start, end):
                batch = reader.reservations(infos, None)
                remember(infos, hashes, day)
                batch.cursor = json.dumps(
                    {
                        "phase": "backfill",
                        "start": nxt.start.isoformat(),
                        "offset": nxt.offset,
                        "hashes": hashes,
                    }
                    if nxt
                    else {"phase": "incremental", "hashes": hashes}
                )
                yield batch
            yield Batch([], cur())

        yield from _reservation_events(ctx, reader, cur())
        if not backfilling:
            # Catches what the events missed; unchanged records are not read again.
            seen: set[str] = set()
            for infos, _ in reader.walk("arrival", Window(day), end):
                batch = reader.reservations(infos, None, hashes=hashes)
                seen.update(rid for rid in (reservation_id(i) for i in infos) if rid)
                batch.cursor = cur()
                yield batch
            hashes = {rid: h for rid, h in hashes.items() if rid in seen}
            yield Batch([], cur())


def _reservation_events(ctx: SourceContext, reader: Reader, cursor: str) -> Iterator[Batch[Reservation]]:
    events.drain(ctx, reader.client)
    other = events.pending(ctx, [events.OTHER])
    if other:  # modules this adapter does not read (housekeeping, rates...): done with
        yield Batch([], cursor, ack=[e.inbox_id for e in other])
    for chunk in _chunks(events.pending(ctx, [events.RESERVATION]), EVENT_CHUNK):
        infos, seen = [], set()
        for ev in chunk:
            if ev.primary_key and ev.primary_key not in seen:
                seen.add(ev.primary_key)
                info = reader.reread(ev.primary_key)
                if info is not None:
                    infos.append(info)
        batch = reader.reservations(infos, cursor)
        batch.ack = [e.inbox_id for e in chunk]
        yield batch


# -- profiles -------------------------------------------------------------------------------
def fetch_profiles(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[GuestProfile]]:
    with make_client(ctx) as client:
        reader = Reader(ctx, client)
        events.drain(ctx, client)
        for chunk in _chunks(events.pending(ctx, [events.PROFILE]), EVENT_CHUNK):
            pids = list(dict.fromkeys(e.primary_key for e in chunk if e.primary_key))
            yield reader.profiles(pids, "events", ack=[e.inbox_id for e in chunk])


# -- stays and folios -----------------------------------------------------------------------
def _stayed_pages(
    ctx: SourceContext, reader: Reader, cursor: str | None, full: bool
) -> Iterator[tuple[list[dict[str, Any]], str]]:
    cfg: OperaConfig = ctx.settings
    state = {} if full or not cursor else json.loads(cursor)
    day = hotel_today(ctx)
    start = (
        Window(date.fromisoformat(state["start"]), int(state.get("offset", 0)))
        if state
        else Window(day - timedelta(days=cfg.backfill_days))
    )
    settled = {"start": (day - timedelta(days=SETTLE_DAYS)).isoformat(), "offset": 0}
    for infos, nxt in reader.walk("departure", start, day + timedelta(days=cfg.lookahead_days), STAYED):
        cur = {"start": nxt.start.isoformat(), "offset": nxt.offset} if nxt else settled
        yield infos, json.dumps(cur)


def fetch_stays(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Stay]]:
    with make_client(ctx) as client:
        reader = Reader(ctx, client)
        for infos, cur in _stayed_pages(ctx, reader, cursor, full):
            yield reader.stays(infos, cur)


def fetch_folios(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[FolioLine]]:
    with make_client(ctx) as client:
        reader = Reader(ctx, client)
        for infos, cur in _stayed_pages(ctx, reader, cursor, full):
            yield reader.folios(infos, cur)


def check(ctx: SourceContext) -> str:
    with make_client(ctx) as client:
        day = hotel_today(ctx).isoformat()
        infos, _ = Reader(ctx, client).search({"arrivalStartDate": day, "arrivalEndDate": day, "limit": 1})
    arrivals = "arrivals today" if infos else "no arrivals today"
    return f"token ok; hotel {ctx.settings.hotel_id} answers ({arrivals})"


def push_alerts(ctx: SourceContext, alerts: list[Alert]) -> list[PushResult]:
    with make_client(ctx) as client:
        return AlertPusher(ctx, client).push(alerts)


# -- hooks ----------------------------------------------------------------------------------
OPERA = AdapterType(
    TYPE,
    OperaConfig,
    {"reservations", "profiles", "stays", "folios", "push_alerts"},
    "Oracle OPERA Cloud through OHIP REST",
    check,
    fetch={
        "reservations": fetch_reservations,
        "profiles": fetch_profiles,
        "stays": fetch_stays,
        "folios": fetch_folios,
    },
    push_alerts=push_alerts,
)


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [OPERA]


@hookimpl
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    try:  # the simulator is behind the `testing` extra (jsonschema checks its requests)
        from .simulator import demo_options, demo_simulator
    except ImportError as exc:
        log.warning(
            "opera: no demo source, the simulator needs %s: pip install 'crmbridge-opera[testing]'", exc.name
        )
        return []
    sim = demo_simulator()
    return [DemoSource("opera_demo", TYPE, demo_options(sim), sim)]
