"""What receiver and push-adapter tests share: reading the store back (and `wait_for`, re-exported)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import guests, profile_records, reservations
from crmbridge.testing import wait_for as wait_for  # re-exported for the tests


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
