"""Background processing of push sources: inbox messages become store records within seconds.

The receiver kicks a source after every reply that committed messages; one worker thread runs
that source's fetch streams through the SyncEngine (the adapter reads its pending inbox
messages and acknowledges them with the batch). A run that fails, or that leaves messages
pending, is retried on a timer with backoff, so a failure never loses a message and a cancel
waiting for its order is looked at again without a busy loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..adapters.base import AdapterType, SourceContext
from ..engine.sync import StreamResult, SyncEngine
from ..plugins import Hooks
from ..store.guest_store import GuestStore

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 3600.0


@dataclass
class _State:
    ctx: SourceContext
    adapter: AdapterType
    lock: threading.Lock = field(default_factory=threading.Lock)
    retry_at: float | None = None  # monotonic time of the next retry, None when all is done
    backoff: float = 0.0


class Processor:
    def __init__(
        self,
        store: GuestStore,
        hooks: Hooks,
        sources: Iterable[tuple[SourceContext, AdapterType]],
        retry_seconds: float = 60.0,
    ) -> None:
        self.retry_seconds = retry_seconds
        self._sources = {ctx.name: _State(ctx, adapter) for ctx, adapter in sources}
        self._dirty: set[str] = set()
        self._running: set[str] = set()  # taken from _dirty, not yet processed
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._engine = SyncEngine(store, hooks, should_stop=self._stop.is_set)
        self._thread: threading.Thread | None = None

    def listen(self, on_reservations: Any) -> None:
        """Call `on_reservations(records)` after each reservations batch commits."""
        self._engine.on_reservations = on_reservations

    def lock(self, name: str) -> threading.Lock:
        """Held while `name` is processed; the scheduler takes it too, so runs never overlap."""
        return self._sources[name].lock

    def busy(self, name: str) -> bool:
        """Whether `name` has a run queued, running, or a retry of messages not yet done."""
        with self._cond:
            return name in self._dirty or name in self._running or self._sources[name].retry_at is not None

    def kick(self, name: str) -> None:
        with self._cond:
            self._dirty.add(name)
            self._cond.notify()

    def start(self) -> None:
        # Messages committed before a crash or restart are processed straight away.
        for name in self._sources:
            self.kick(name)
        self._thread = threading.Thread(target=self._loop, name="crmbridge-receiver-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch being written, then stop."""
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def process(self, name: str) -> list[StreamResult]:
        """Run the source's streams now (in the caller's thread) and schedule its retry."""
        st = self._sources[name]
        with st.lock:
            results = self._engine.sync_source(st.ctx, st.adapter)
            pending = st.ctx.inbox.counts().get("pending", 0) if st.ctx.inbox else 0
        failed = [r for r in results if r.status != "ok"]
        for r in failed:
            log.warning("%s/%s %s: %s; will retry", r.source, r.stream, r.status, r.error)
        progressed = any(r.counts.fetched for r in results)
        if not failed and not pending:
            st.retry_at, st.backoff = None, 0.0
        else:
            # No progress (a cancel waiting for its order, a store that stays down): back off.
            st.backoff = self.retry_seconds if progressed or not st.backoff else st.backoff * 2
            st.backoff = min(st.backoff, MAX_BACKOFF_S)
            st.retry_at = time.monotonic() + st.backoff
        return results

    def _due(self) -> tuple[set[str], float | None]:
        now = time.monotonic()
        due = {n for n, st in self._sources.items() if st.retry_at is not None and st.retry_at <= now}
        waits = [st.retry_at - now for st in self._sources.values() if st.retry_at is not None]
        return due, (max(0.0, min(waits)) if waits else None)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                due, wait = self._due()
                if not self._dirty and not due:
                    self._cond.wait(wait)
                    due, _ = self._due()
                todo, self._dirty = self._dirty | due, set()
                self._running = set(todo)
            for name in sorted(todo):
                if self._stop.is_set():
                    break
                try:
                    self.process(name)
                except Exception as exc:  # the store is down: keep the worker alive, retry later
                    log.error("processing %s failed: %s", name, type(exc).__name__)
                    st = self._sources[name]
                    st.backoff = min(max(st.backoff * 2, self.retry_seconds), MAX_BACKOFF_S)
                    st.retry_at = time.monotonic() + st.backoff
                finally:
                    with self._cond:
                        self._running.discard(name)
