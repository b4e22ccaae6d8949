"""Per-source freshness: has each scheduled source succeeded since its schedule last fired?

A source is stale when the first scheduled run after its last success (or after the process
started, if it never succeeded) is more than `grace` seconds past. The grace covers a run's
own duration and a slow start; a source that keeps failing, or whose worker died, goes stale
one period plus the grace after its last success."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ..config import Config, Schedule
from ..store.schema import sync_runs
from ..store.writer import as_utc


def trigger(schedule: Schedule, tz: str) -> Any:
    """The APScheduler trigger `crmbridge run` uses for a schedule."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if schedule.cron:
        return CronTrigger.from_crontab(schedule.cron, timezone=tz)
    return IntervalTrigger(seconds=schedule.interval_seconds(), timezone=tz)


def next_due(schedule: Schedule, tz: str, after: datetime) -> datetime:
    """The first time the schedule fires after `after`."""
    if schedule.every:  # an interval runs again one period after the last run
        return after + timedelta(seconds=schedule.interval_seconds())
    due = trigger(schedule, tz).get_next_fire_time(None, after + timedelta(microseconds=1))
    return due


@dataclass
class Freshness:
    source: str
    schedule: str
    last_success: datetime | None
    due: datetime
    fresh: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "due_by": self.due.isoformat(),
            "fresh": self.fresh,
        }


def last_successes(conn: Connection) -> dict[str, datetime]:
    """Per source, when its last fully successful run finished (the oldest of its streams)."""
    q = (
        select(sync_runs.c.source, sync_runs.c.stream, func.max(sync_runs.c.finished_at))
        .where(sync_runs.c.status == "ok")
        .group_by(sync_runs.c.source, sync_runs.c.stream)
    )
    out: dict[str, datetime] = {}
    for source, _stream, finished in conn.execute(q):
        t = as_utc(finished)
        if t is not None and (source not in out or t < out[source]):
            out[source] = t
    return out


def freshness(
    conn: Connection, cfg: Config, now: datetime, started: datetime, grace_s: float
) -> list[Freshness]:
    done = last_successes(conn)
    out = []
    for name, src in cfg.sources.items():
        if src.schedule is None:
            continue
        last = done.get(name)
        # Never succeeded: it was due at the first tick after the process started.
        due = next_due(src.schedule, cfg.timezone, last) if last else started
        label = f"every {src.schedule.every}" if src.schedule.every else f"cron {src.schedule.cron}"
        out.append(Freshness(name, label, last, due, now <= due + timedelta(seconds=grace_s)))
    return out
