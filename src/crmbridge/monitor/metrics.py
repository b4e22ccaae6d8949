"""Prometheus metrics (prometheus_client), read from the store at scrape time.

Counts come from the store, not from counters in one process, so they are right whichever
process ran the sync (`run`, `sync`, a `worker` on another machine) and survive restarts.
What only a process knows (alert pushes it made, how long after a reservation arrived its
alerts reached the PMS) is kept in in-process metrics beside them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from ..store.schema import inbox, push_ledger, quarantine, sync_runs
from ..store.writer import as_utc

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROCESS = CollectorRegistry()
ALERT_PUSHES = Counter(
    "crmbridge_alert_push_results",
    "Alerts this process sent to a PMS, by outcome (created, replaced, unchanged, retired, failed)",
    ["pms_source", "result"],
    registry=PROCESS,
)
ALERT_LAG = Histogram(
    "crmbridge_alert_lag_seconds",
    "From a reservation landing in the store to its alerts being pushed (real-time alerts)",
    ["pms_source"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=PROCESS,
)


def count_pushes(summary: Any) -> None:
    for result in ("created", "replaced", "unchanged", "retired", "failed"):
        n = getattr(summary, result, 0)
        if n:
            ALERT_PUSHES.labels(summary.pms_source, result).inc(n)


class StoreCollector(Collector):
    def __init__(self, engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[Any]:
        now = self.now()
        labels = ["source", "stream"]
        last_ok = GaugeMetricFamily(
            "crmbridge_source_last_success_timestamp_seconds",
            "When the source's last successful run finished (Unix time)",
            labels=labels,
        )
        duration = GaugeMetricFamily(
            "crmbridge_source_last_run_duration_seconds", "How long the last finished run took", labels=labels
        )
        runs = {
            k: CounterMetricFamily(f"crmbridge_records_{k}", f"Records {k} by sync runs", labels=labels)
            for k in ("fetched", "written", "quarantined")
        }
        errors = CounterMetricFamily("crmbridge_sync_errors", "Sync runs that failed", labels=labels)
        pending = GaugeMetricFamily(
            "crmbridge_inbox_pending", "Inbox messages not yet processed", labels=["source"]
        )
        oldest = GaugeMetricFamily(
            "crmbridge_inbox_oldest_pending_age_seconds",
            "Age of the oldest unprocessed message",
            labels=["source"],
        )
        open_q = GaugeMetricFamily(
            "crmbridge_quarantine_open", "Quarantined records not yet resolved", labels=["source"]
        )
        ledger = GaugeMetricFamily(
            "crmbridge_alerts_in_pms",
            "Alerts the push ledger holds, by status",
            labels=["pms_source", "status"],
        )
        with self.engine.connect() as conn:
            totals = select(
                sync_runs.c.source,
                sync_runs.c.stream,
                func.sum(sync_runs.c.fetched),
                func.sum(sync_runs.c.inserted + sync_runs.c.updated),
                func.sum(sync_runs.c.quarantined),
                func.sum(case((sync_runs.c.status == "failed", 1), else_=0)),
                func.max(sync_runs.c.id),
            ).group_by(sync_runs.c.source, sync_runs.c.stream)
            last_ids = []
            for source, stream, fetched, written, quarantined, failed, last_id in conn.execute(totals):
                runs["fetched"].add_metric([source, stream], float(fetched or 0))
                runs["written"].add_metric([source, stream], float(written or 0))
                runs["quarantined"].add_metric([source, stream], float(quarantined or 0))
                errors.add_metric([source, stream], float(failed or 0))
                last_ids.append(last_id)
            ok = select(sync_runs.c.source, sync_runs.c.stream, func.max(sync_runs.c.finished_at)).where(
                sync_runs.c.status == "ok"
            )
            for source, stream, finished in conn.execute(ok.group_by(sync_runs.c.source, sync_runs.c.stream)):
                if finished is not None:
                    last_ok.add_metric([source, stream], as_utc(finished).timestamp())
            if last_ids:
                q = select(sync_runs).where(
                    sync_runs.c.id.in_(last_ids), sync_runs.c.finished_at.is_not(None)
                )
                for r in conn.execute(q):
                    took = (as_utc(r.finished_at) - as_utc(r.started_at)).total_seconds()
                    duration.add_metric([r.source, r.stream], max(0.0, took))
            q = (
                select(inbox.c.source, func.count(), func.min(inbox.c.received_at))
                .where(inbox.c.status == "pending")
                .group_by(inbox.c.source)
            )
            seen = set()
            for source, n, first in conn.execute(q):
                seen.add(source)
                pending.add_metric([source], float(n))
                oldest.add_metric([source], max(0.0, (now - as_utc(first)).total_seconds()))
            for (source,) in conn.execute(select(inbox.c.source).distinct()):
                if source not in seen:  # a source with an empty queue says 0, not nothing
                    pending.add_metric([source], 0.0)
                    oldest.add_metric([source], 0.0)
            q = select(quarantine.c.source, func.count()).where(quarantine.c.resolved_at.is_(None))
            for source, n in conn.execute(q.group_by(quarantine.c.source)):
                open_q.add_metric([source], float(n))
            q = select(push_ledger.c.pms_source, push_ledger.c.status, func.count()).group_by(
                push_ledger.c.pms_source, push_ledger.c.status
            )
            for source, status, n in conn.execute(q):
                ledger.add_metric([source, status], float(n))
        yield from (last_ok, duration, *runs.values(), errors, pending, oldest, open_q, ledger)


def exposition(engine: Engine) -> bytes:
    """The /metrics page: the store's metrics and this process's own."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine))
    return generate_latest(registry) + generate_latest(PROCESS)
