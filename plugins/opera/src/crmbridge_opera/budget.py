"""A client-side request budget shared by both OPERA adapters.

OHIP throttles (and partners pay per call); an OPERA 5 server is the hotel's own machine,
busy with the front desk. Each client therefore spaces its requests at least
`1 / max_requests_per_second` apart (with a little headroom, so jitter on the way does not
push the server's view over the limit) and counts what it sent, for the sync summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEADROOM = 1.03  # spacing 3% wider than the nominal budget


class RequestBudget:
    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("max_requests_per_second must be positive")
        self.interval = HEADROOM / per_second
        self.clock, self.sleep = clock, sleep
        self.sent = 0
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for the next slot, then count one request."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
            self.sent += 1
        if start > now:
            self.sleep(start - now)


_shared: dict[tuple[str, str, float], RequestBudget] = {}
_shared_lock = threading.Lock()


def shared_budget(source: str, server: str, per_second: float) -> RequestBudget:
    """One budget per (source, server) for the whole process: a new client for each stream
    (or a scheduler job) must not start with a fresh allowance and burst."""
    with _shared_lock:
        key = (source, server, per_second)
        if key not in _shared:
            _shared[key] = RequestBudget(per_second)
        return _shared[key]


def count_requests(ctx: object, n: int) -> None:
    """Add `n` to the source's request count (`SourceContext.stats`), for the sync summary."""
    stats = getattr(ctx, "stats", None)
    if isinstance(stats, dict):
        stats["requests"] = stats.get("requests", 0) + n
