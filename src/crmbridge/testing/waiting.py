"""Bounded polling, for tests of what happens in another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T], timeout: float = 15.0, what: str = "the condition") -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds.

    Healthy runs return within a fraction of a second; the bound is generous because test
    suites share small machines with PostgreSQL and other jobs."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)
