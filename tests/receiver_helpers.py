"""What receiver and push-adapter tests share: bounded polling and reading the store back."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select

from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import guests, profile_records, reservations

T = TypeVar("T")


def wait_for(probe: Callable[[], T], timeout: float = 15.0, what: str = "the condition") -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds.

    Healthy runs return within a fraction of a second; the bound is generous because the
    suite shares two cores with PostgreSQL and other jobs."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)


def reservation_row(store: GuestStore, source: str, source_id: str) -> Any:
    with store.engine.connect() as c:
        return c.execute(
            select(reservations).where(reservations.c.source == source, reservations.c.source_id == source_id)
        ).one_or_none()


def guest_of(store: GuestStore, source: str, source_id: str) -> str | None:
    """The (surviving) guest id behind a reservation."""
    with store.engine.connect() as c:
        gid = c.execute(
            select(profile_records.c.guest_id)
            .join(reservations, reservations.c.guest_record_id == profile_records.c.id)
            .where(reservations.c.source == source, reservations.c.source_id == source_id)
        ).scalar_one_or_none()
        while gid is not None:
            merged = c.execute(select(guests.c.merged_into).where(guests.c.id == gid)).scalar_one()
            if merged is None:
                return gid
            gid = merged
    return None


def count_reservations(store: GuestStore, source: str) -> int:
    with store.engine.connect() as c:
        return len(c.execute(select(reservations.c.id).where(reservations.c.source == source)).all())
