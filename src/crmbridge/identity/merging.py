"""Merging, unmerging and the review queue, each written to the audit trail (``guest_merges``).

A merge moves every record of the merged guest to the survivor and writes down *which*
records moved; an unmerge moves exactly those back and remembers that the two guests are
different people, so automatic matching never joins them again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..store.schema import guest_merges, guests, identity_apart, identity_reviews, profile_records
from .resolver import Merge


class IdentityError(Exception):
    """An unmerge or review decision that cannot be carried out (says why, never PII)."""


def apply_merge(conn: Connection, m: Merge, now: datetime, extra_records: Iterable[str] = ()) -> int:
    """Move the merged guest's records to the survivor and audit it; returns the audit row id."""
    moved = [
        r for (r,) in conn.execute(select(profile_records.c.id).where(profile_records.c.guest_id == m.merged))
    ]
    records = sorted(set(moved) | set(m.batch_records) | set(extra_records))
    conn.execute(
        update(profile_records).where(profile_records.c.guest_id == m.merged).values(guest_id=m.survivor)
    )
    conn.execute(update(guests).where(guests.c.id == m.merged).values(merged_into=m.survivor, updated_at=now))
    # Open review items about the merged guest are now about the survivor, unless the same
    # record is already queued against the survivor.
    already = {
        r
        for (r,) in conn.execute(
            select(identity_reviews.c.record_id).where(identity_reviews.c.guest_id == m.survivor)
        )
    }
    for rid, rec in conn.execute(
        select(identity_reviews.c.id, identity_reviews.c.record_id).where(
            identity_reviews.c.guest_id == m.merged, identity_reviews.c.status == "open"
        )
    ).all():
        values = {"status": "superseded", "resolved_at": now} if rec in already else {"guest_id": m.survivor}
        conn.execute(update(identity_reviews).where(identity_reviews.c.id == rid).values(**values))
    return conn.execute(
        insert(guest_merges).returning(guest_merges.c.id), merge_audit_row(m, records, now)
    ).scalar_one()


def merge_audit_row(m: Merge, records: Iterable[str], now: datetime) -> dict[str, Any]:
    return {
        "survivor_id": m.survivor,
        "merged_id": m.merged,
        "action": "merge",
        "evidence": m.evidence,
        "score": m.score,
        "records": sorted(records),
        "created_at": now,
    }


def keep_apart(conn: Connection, a: str, b: str, reason: str, now: datetime) -> None:
    lo, hi = sorted((a, b))
    exists = conn.execute(
        select(identity_apart.c.guest_a).where(identity_apart.c.guest_a == lo, identity_apart.c.guest_b == hi)
    ).first()
    if not exists:
        conn.execute(
            insert(identity_apart), {"guest_a": lo, "guest_b": hi, "reason": reason, "created_at": now}
        )


def unmerge(conn: Connection, guest_id: str, now: datetime, actor: str = "cli") -> dict[str, Any]:
    """Undo the merge that absorbed ``guest_id``: its records go back to it, exactly those."""
    row = conn.execute(
        select(guest_merges)
        .where(
            guest_merges.c.merged_id == guest_id,
            guest_merges.c.action == "merge",
            guest_merges.c.undone_by.is_(None),
        )
        .order_by(guest_merges.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise IdentityError(f"guest {guest_id} has no merge to undo (it was never merged into another)")
    records = list(row.records or [])
    current = {
        r: g
        for r, g in conn.execute(
            select(profile_records.c.id, profile_records.c.guest_id).where(profile_records.c.id.in_(records))
        )
    }
    if records:
        conn.execute(
            update(profile_records).where(profile_records.c.id.in_(records)).values(guest_id=guest_id)
        )
    conn.execute(update(guests).where(guests.c.id == guest_id).values(merged_into=None, updated_at=now))
    # The survivor may itself have been merged since: the records came back from wherever they were.
    took_from = sorted(set(current.values()))
    audit_id = conn.execute(
        insert(guest_merges).returning(guest_merges.c.id),
        {
            "survivor_id": row.survivor_id,
            "merged_id": guest_id,
            "action": "unmerge",
            "evidence": {"reverses": row.id, "actor": actor, "taken_from": took_from},
            "score": row.score,
            "records": sorted(records),
            "created_at": now,
        },
    ).scalar_one()
    conn.execute(update(guest_merges).where(guest_merges.c.id == row.id).values(undone_by=audit_id))
    for g in {row.survivor_id, *took_from} - {guest_id}:
        keep_apart(conn, guest_id, g, "unmerge", now)
    return {"unmerge_id": audit_id, "reverses": row.id, "survivor": row.survivor_id, "records": len(records)}


@dataclass
class ReviewItem:
    id: int
    record_id: str
    record_guest: str
    guest_id: str
    score: float
    evidence: dict[str, Any]
    status: str


def open_reviews(conn: Connection, limit: int | None = None) -> list[ReviewItem]:
    q = (
        select(identity_reviews, profile_records.c.guest_id.label("record_guest"))
        .join(profile_records, profile_records.c.id == identity_reviews.c.record_id)
        .where(identity_reviews.c.status == "open", profile_records.c.guest_id != identity_reviews.c.guest_id)
        .order_by(identity_reviews.c.score.desc(), identity_reviews.c.id)
    )
    if limit:
        q = q.limit(limit)
    return [
        ReviewItem(r.id, r.record_id, r.record_guest, r.guest_id, r.score, r.evidence, r.status)
        for r in conn.execute(q)
    ]


def resolve_review(conn: Connection, review_id: int, same_person: bool, now: datetime) -> dict[str, Any]:
    """A person's answer to one review item: merge the two guests, or keep them apart for good."""
    r = conn.execute(
        select(identity_reviews, profile_records.c.guest_id.label("record_guest"))
        .join(profile_records, profile_records.c.id == identity_reviews.c.record_id)
        .where(identity_reviews.c.id == review_id)
    ).first()
    if r is None:
        raise IdentityError(f"no review item {review_id}")
    if r.status != "open":
        raise IdentityError(f"review item {review_id} is already {r.status}")
    a, b = _live(conn, r.record_guest), _live(conn, r.guest_id)
    out: dict[str, Any] = {"review": review_id}
    if same_person and a != b:
        created = dict(
            conn.execute(select(guests.c.id, guests.c.created_at).where(guests.c.id.in_([a, b]))).all()
        )
        survivor, merged = sorted((a, b), key=lambda g: (created[g], g))
        evidence = {"rule": "review", "review": review_id, "record_review": r.evidence}
        out["merge_id"] = apply_merge(conn, Merge(survivor, merged, evidence, r.score), now)
        out["survivor"] = survivor
    elif not same_person:
        keep_apart(conn, a, b, "review", now)
    conn.execute(
        update(identity_reviews)
        .where(identity_reviews.c.id == review_id)
        .values(status="merged" if same_person else "rejected", resolved_at=now)
    )
    return out


def _live(conn: Connection, gid: str) -> str:
    for _ in range(100):  # merged_into chains are short; the bound guards a corrupted loop
        nxt = conn.execute(select(guests.c.merged_into).where(guests.c.id == gid)).scalar_one_or_none()
        if nxt is None:
            return gid
        gid = nxt
    raise IdentityError("merge chain too long")


def history(conn: Connection, guest_id: str) -> list[dict[str, Any]]:
    """Every audit row naming this guest, oldest first."""
    q = (
        select(guest_merges)
        .where((guest_merges.c.survivor_id == guest_id) | (guest_merges.c.merged_id == guest_id))
        .order_by(guest_merges.c.id)
    )
    return [
        {
            "id": r.id,
            "action": r.action,
            "survivor": r.survivor_id,
            "merged": r.merged_id,
            "score": r.score,
            "records": len(r.records or []),
            "undone_by": r.undone_by,
            "evidence": r.evidence,
            "at": r.created_at.isoformat() if r.created_at else None,
        }
        for r in conn.execute(q)
    ]
