"""`crmbridge run`: every source on its schedule, one job per source, never overlapping."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from rich.console import Console

from ..monitor.health import trigger
from ..monitor.metrics import count_pushes
from .sources import build_source

if TYPE_CHECKING:
    from ..receiver import Receiver
from .sync import SyncEngine

log = logging.getLogger(__name__)


def _trigger(schedule: Any, tz: str) -> Any:
    return trigger(schedule, tz)


def _push_alerts(app: Any) -> None:
    from ..insights.prearrival import run_prearrival

    try:
        for name, _, summary in run_prearrival(app.config, app.hooks, app.store):
            if summary is not None:
                count_pushes(summary)
                level = logging.WARNING if summary.failed else logging.INFO
                log.log(level, "alerts for %s: %s", name, summary.as_dict())
    except Exception:  # the next tick tries again; the scheduler must keep running
        log.exception("pre-arrival alert job failed")


def _realtime(app: Any) -> Any:
    """Real-time alerts when [alerts] realtime is on and some source takes alerts."""
    from ..insights.realtime import RealtimeAlerts

    try:
        rt = RealtimeAlerts(app.config, app.hooks, app.store)
    except Exception as exc:  # preflight checked the config; a PMS that cannot be built is logged
        log.error("real-time alerts are off: %s", type(exc).__name__)
        return None
    return rt if rt.enabled else None


def run_scheduler(
    app: Any, out: Console, stop: threading.Event | None = None, receiver: Receiver | None = None
) -> None:
    """With a `receiver`, push sources are served (and processed) alongside the schedules."""
    stop = stop or threading.Event()
    engine = SyncEngine(app.store, app.hooks, should_stop=stop.is_set)
    realtime = _realtime(app)
    if realtime is not None:
        engine.on_reservations = realtime.notify
        if receiver is not None:
            receiver.processor.listen(realtime.notify)
    sched = BackgroundScheduler(timezone=app.config.timezone)
    pushed = {r.ctx.name for r in receiver.routes} if receiver else set()
    jobs = 0
    for name, src in app.config.sources.items():
        if src.schedule is None:
            if name not in pushed:
                out.print(f"{name}: no schedule, not run by `crmbridge run` (use `crmbridge sync -s {name}`)")
            continue
        ctx, adapter = build_source(app.config, src, app.hooks, app.store)
        # A push source's scheduled run shares the receiver's lock: the two never overlap.
        lock = receiver.processor.lock(name) if name in pushed and receiver else nullcontext()

        def job(ctx: Any = ctx, adapter: Any = adapter, lock: Any = lock) -> None:
            with lock:
                results = engine.sync_source(ctx, adapter)
            for r in results:
                # Routine results at INFO; a failed run at WARNING, so alerting can key on it.
                log.log(
                    logging.INFO if r.status == "ok" else logging.WARNING,
                    "%s/%s %s: %s",
                    r.source,
                    r.stream,
                    r.status,
                    ", ".join(f"{k}={v}" for k, v in r.counts.as_dict().items()),
                )

        # max_instances=1: a slow run is never overlapped by the next tick; coalesce=True:
        # ticks missed while it ran collapse into one.
        sched.add_job(
            job,
            _trigger(src.schedule, app.config.timezone),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        jobs += 1
    alerts = app.config.alerts
    if alerts is not None and alerts.schedule is not None:
        sched.add_job(
            _push_alerts,
            _trigger(alerts.schedule, app.config.timezone),
            args=(app,),
            id="alerts",
            name="pre-arrival alerts",
            max_instances=1,
            coalesce=True,
        )
        jobs += 1
    if not jobs and (receiver is None or not receiver.routes):
        out.print("no source has a schedule: nothing to run")
        return

    def _stop(signum: int, _frame: Any) -> None:
        out.print(f"received signal {signum}: finishing the current batch, then exiting")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if receiver is not None:
        receiver.start()
        paths = ", ".join(f"{r.path} ({r.ctx.name})" for r in receiver.routes)
        if paths:
            out.print(f"receiving on {receiver.url}: {paths}")
        out.print(f"health at {receiver.url}/healthz, metrics at {receiver.url}/metrics")
    if realtime is not None:
        realtime.start()
        out.print("real-time alerts on: arrivals within the lookahead are pushed as they land")
    sched.start()
    out.print(f"running {jobs} scheduled source(s); SIGTERM or Ctrl-C to stop")
    stop.wait()
    sched.shutdown(wait=True)  # waits for the running batch to commit
    if receiver is not None:
        receiver.stop()
    if realtime is not None:
        realtime.stop()
    out.print("stopped cleanly")
