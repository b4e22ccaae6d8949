"""Alerts in real time: a reservation that lands within the alert lookahead gets its alerts
planned and pushed within seconds, not at the next scheduled run.

Whatever wrote the reservation (the receiver's processing of a Ctrip or Fliggy push, an
OPERA business event, any sync) calls `notify` after its batch committed. A worker thread
waits `debounce_s` for more to arrive (a sync of 500 orders is one planning pass, not 500),
then for each PMS source plans its arrivals with the same rules as the scheduled job and
pushes those of the guests concerned through `push_plans`: the push ledger makes it
idempotent, so a reservation seen again, or the scheduled job after it, pushes nothing new.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_

from ..monitor.metrics import ALERT_LAG, count_pushes
from ..store.schema import profile_records, reservations
from .config import AlertsConfig, SegmentsConfig
from .facts import LIVE
from .prearrival import PushSummary, hotel_today, plan_arrivals, pms_sources, push_plans

if TYPE_CHECKING:
    from ..config import Config
    from ..plugins import Hooks
    from ..store.guest_store import GuestStore

log = logging.getLogger(__name__)


class RealtimeAlerts:
    def __init__(
        self,
        cfg: Config,
        hooks: Hooks,
        store: GuestStore,
        debounce_s: float | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        from ..engine.sources import build_source  # engine imports plugins, which import insights

        self.cfg, self.hooks, self.store = cfg, hooks, store
        self.today = today or (lambda: hotel_today(cfg))
        self.alerts = cfg.alerts or AlertsConfig()
        self.segments = cfg.segments or SegmentsConfig()
        self.debounce_s = self.alerts.realtime_debounce_s if debounce_s is None else debounce_s
        self.targets = {
            n: build_source(cfg, cfg.sources[n], hooks, store)[0] for n in pms_sources(cfg, hooks)
        }
        self._pending: dict[tuple[str, str], float] = {}  # (source, source_id) -> first seen
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._busy = False
        self._thread: threading.Thread | None = None
        self.passes = 0

    @property
    def enabled(self) -> bool:
        return bool(self.targets) and self.alerts.realtime

    def notify(self, records: Iterable[Any]) -> None:
        """Reservations just committed; those arriving within the lookahead are queued."""
        if not self.enabled:
            return
        today = self.today()
        last = today + timedelta(days=self.alerts.lookahead_days)
        now = time.monotonic()
        keys = [
            (r.source, r.source_id)
            for r in records
            if getattr(r, "arrival", None) is not None and today <= r.arrival <= last
        ]
        if not keys:
            return
        with self._cond:
            for k in keys:
                self._pending.setdefault(k, now)
            self._cond.notify()

    def start(self) -> RealtimeAlerts:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="crmbridge-realtime-alerts", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def idle(self) -> bool:
        with self._cond:
            return not self._pending and not self._busy

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._pending and not self._stop.is_set():
                    self._cond.wait(1.0)
                if self._stop.is_set():
                    return
            time.sleep(self.debounce_s)  # let the rest of a burst arrive
            with self._cond:
                batch, self._pending = self._pending, {}
                self._busy = True
            try:
                self.run(batch)
            except Exception as exc:  # the scheduled job catches up; the loop must live on
                log.error("real-time alerts failed: %s", type(exc).__name__)
            finally:
                with self._cond:
                    self._busy = False

    def run(self, batch: dict[tuple[str, str], float]) -> None:
        """Plan and push the alerts of the guests behind these reservations (in this thread)."""
        guests, keys = self._guests(list(batch))
        if not guests and not keys:
            return
        today = self.today()
        for name, ctx in self.targets.items():
            plans = plan_arrivals(self.store, self.hooks, name, self.alerts, self.segments, today)
            mine = [p for p in plans if p.guest_id in guests or (name, p.arrival.source_id) in keys]
            if not mine:
                continue
            summary = self._push(ctx, mine)
            count_pushes(summary)
            done = time.monotonic()
            for first_seen in batch.values():
                ALERT_LAG.labels(name).observe(done - first_seen)
            level = logging.WARNING if summary.failed else logging.INFO
            log.log(
                level,
                "real-time alerts for %s: %s",
                name,
                {k: v for k, v in summary.as_dict().items() if k != "details"},
            )
        self.passes += 1

    def _push(self, ctx: Any, plans: list[Any]) -> PushSummary:
        """Push in a few parallel slices: each arrival's alerts are their own ledger slots, and a
        PMS answers one request at a time per alert, so a burst would otherwise queue behind
        one connection."""
        n = min(self.alerts.realtime_workers, max(1, len(plans) // 4))
        if n <= 1:
            return push_plans(self.store, self.hooks, ctx, plans)
        slices = [plans[i::n] for i in range(n)]
        with ThreadPoolExecutor(n, thread_name_prefix="crmbridge-realtime-push") as pool:
            parts = list(pool.map(lambda part: push_plans(self.store, self.hooks, ctx, part), slices))
        total = PushSummary(ctx.name)
        for part in parts:
            for k in ("arrivals", "created", "replaced", "unchanged", "retired", "failed"):
                setattr(total, k, getattr(total, k) + getattr(part, k))
            total.details += part.details
        return total

    def _guests(self, keys: list[tuple[str, str]]) -> tuple[set[str], set[tuple[str, str]]]:
        found: set[str] = set()
        with self.store.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                q = (
                    select(profile_records.c.guest_id)
                    .select_from(reservations)
                    .join(profile_records, profile_records.c.id == reservations.c.guest_record_id)
                    .where(
                        tuple_(reservations.c.source, reservations.c.source_id).in_(keys[i : i + 500]),
                        reservations.c.status.in_(LIVE),
                    )
                )
                found.update(g for (g,) in conn.execute(q) if g)
        return found, set(keys)
