"""One sync run of one source: fetch batches, write each with its cursor in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from ..adapters.base import STREAMS, AdapterType, Batch, SourceContext
from ..insights.dining import guests_of_reservations, refresh_dining_insights
from ..plugins import Hooks
from ..store.guest_store import GuestStore
from ..store.inbox import Inbox
from ..store.pos_links import LinkResult, link_pos_checks
from ..store.schema import sync_runs, sync_state
from ..store.writer import BatchWriter, Counts, utcnow

log = logging.getLogger(__name__)

# Profiles first, so reservations in the same run find their guests already resolved.
# POS checks last: linking them needs the stays and folio postings of the same run.
STREAM_ORDER = ("profiles", "reservations", "stays", "folios", "feedback", "pos_checks")
assert set(STREAM_ORDER) == set(STREAMS)

Progress = Callable[[str, str, Counts], None]
# Streams whose new data can change which stay a POS check belongs to.
LINKING_STREAMS = frozenset({"reservations", "stays", "folios", "pos_checks"})


class Stop(Exception):
    """Raised between batches when a graceful shutdown was requested."""


@dataclass
class StreamResult:
    source: str
    stream: str
    status: str
    counts: Counts
    duration_s: float
    error: str | None = None
    run_id: int | None = None
    requests: int | None = None  # requests the adapter sent to the source, when it counts them

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stream": self.stream,
            "status": self.status,
            **self.counts.as_dict(),
            "duration_s": round(self.duration_s, 3),
            "requests": self.requests,
            "error": self.error,
        }


@dataclass
class SyncEngine:
    store: GuestStore
    hooks: Hooks
    should_stop: Callable[[], bool] = field(default=lambda: False)
    last_links: LinkResult | None = None
    # Called with each reservations batch after it committed (real-time alerts listen here).
    on_reservations: Callable[[list[Any]], None] | None = None

    def _write(self, w: BatchWriter, stream: str, batch: Batch[Any]) -> Counts:
        method = {
            "reservations": w.upsert_reservations,
            "profiles": lambda b: w.upsert_profiles(b).counts,
            "stays": w.upsert_stays,
            "folios": w.upsert_folios,
            "feedback": w.upsert_feedback,
            "pos_checks": w.upsert_pos_checks,
        }[stream]
        return method(batch.records)  # type: ignore[operator]

    def cursor(self, source: str, stream: str) -> str | None:
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(sync_state.c.cursor).where(
                    sync_state.c.source == source, sync_state.c.stream == stream
                )
            ).scalar()

    def _start_run(self, source: str, stream: str, full: bool) -> int:
        with self.store.engine.begin() as conn:
            # A run still marked running was killed: it resumes from its last committed batch.
            conn.execute(
                update(sync_runs)
                .where(
                    sync_runs.c.source == source,
                    sync_runs.c.stream == stream,
                    sync_runs.c.status == "running",
                )
                .values(status="interrupted")
            )
            return conn.execute(
                insert(sync_runs).values(
                    source=source,
                    stream=stream,
                    started_at=utcnow(),
                    status="running",
                    full=int(full),
                    fetched=0,
                    inserted=0,
                    updated=0,
                    unchanged=0,
                    quarantined=0,
                )
            ).inserted_primary_key[0]

    def sync_stream(
        self, ctx: SourceContext, stream: str, full: bool = False, progress: Progress | None = None
    ) -> StreamResult:
        started = time.monotonic()
        sent_before = ctx.stats.get("requests")
        run_id = self._start_run(ctx.name, stream, full)
        total = Counts()
        status, error = "ok", None
        try:
            cursor = None if full else self.cursor(ctx.name, stream)
            for batch in self.hooks.fetch(stream, ctx, cursor, full):  # type: ignore[arg-type]
                with self.store.transaction() as w:
                    counts = self._write(w, stream, batch) if batch.records else Counts()
                    counts.fetched = batch.size
                    counts.quarantined = w.quarantine(ctx.name, stream, batch.rejects, run_id)
                    w.save_cursor(ctx.name, stream, batch.cursor)
                    Inbox.mark_done(w.conn, batch.ack)
                    total.add(counts)
                    # The summary commits with the batch, so it is true even after a kill.
                    w.conn.execute(
                        update(sync_runs).where(sync_runs.c.id == run_id).values(**total.as_dict())
                    )
                if self.on_reservations and stream == "reservations" and batch.records:
                    try:
                        self.on_reservations(batch.records)
                    except Exception as exc:  # a listener never fails the sync
                        log.error("reservation listener failed: %s", type(exc).__name__)
                if progress:
                    progress(ctx.name, stream, total)
                if self.should_stop():
                    raise Stop
        except Stop:
            status = "interrupted"
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            log.error("sync of %s/%s failed: %s", ctx.name, stream, error)
        duration = time.monotonic() - started
        with self.store.engine.begin() as conn:
            conn.execute(
                update(sync_runs)
                .where(sync_runs.c.id == run_id)
                .values(status=status, error=error, finished_at=utcnow(), **total.as_dict())
            )
        sent = ctx.stats.get("requests")
        requests = None if sent is None else sent - (sent_before or 0)
        return StreamResult(ctx.name, stream, status, total, duration, error, run_id, requests)

    def sync_source(
        self,
        ctx: SourceContext,
        adapter: AdapterType,
        full: bool = False,
        progress: Progress | None = None,
    ) -> list[StreamResult]:
        results = []
        for stream in STREAM_ORDER:
            if stream in adapter.capabilities:
                r = self.sync_stream(ctx, stream, full, progress)
                results.append(r)
                if r.status == "interrupted":
                    break
        if adapter.capabilities & LINKING_STREAMS:
            self.link_pos_checks()
        return results

    def link_pos_checks(self) -> LinkResult | None:
        """Link POS checks to stays and refresh the dining insights of the guests affected.

        Derived data in its own transaction: if it fails, the synced batches stay committed
        and the next run links again (linking is idempotent)."""
        try:
            with self.store.engine.begin() as conn:
                result = link_pos_checks(conn, self.store.keyring)
                if result.affected_reservations:
                    guests = guests_of_reservations(conn, result.affected_reservations)
                    refresh_dining_insights(conn, self.store.keyring, guests)
        except Exception as exc:
            log.error("linking POS checks failed: %s: %s", type(exc).__name__, exc)
            return None
        if result.evaluated:
            log.info(
                "POS checks: %d examined, %d linked, %d unlinked, %d changed",
                result.evaluated, result.linked, result.unlinked, result.changed,
            )  # fmt: skip
        self.last_links = result
        return result
