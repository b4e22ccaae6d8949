"""Erasing a guest: crypto-shredding in the key store, deletion in the live store.

Order matters. First the suppression list (in the key store) gets keyed hashes of the guest's
source records, so even an interrupted erasure blocks re-import. Then, in one data
transaction, every row about the guest is deleted and, before it commits, the records' data
keys are destroyed: if the commit then fails, what is left cannot be read and a second run
deletes it. Last, the databases are compacted so deleted bytes do not linger in free pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, text, tuple_

from .crypto import DecryptionError, Keyring
from .schema import (
    consents,
    erasures,
    feedback,
    folio_lines,
    guest_index,
    guest_merges,
    guests,
    identity_apart,
    identity_reviews,
    inbox,
    pos_checks,
    pos_links,
    profile_records,
    push_ledger,
    quarantine,
    reservations,
    stays,
)

VACUUMED = (
    "profile_records",
    "guest_index",
    "reservations",
    "inbox",
    "quarantine",
    "feedback",
    "pos_checks",
    "identity_reviews",
    "guests",
)
CHUNK = 500
MIN_NEEDLE = 5  # shorter ids or values would match unrelated payloads


class UnknownGuest(LookupError):
    pass


@dataclass
class GuestFootprint:
    """Everything the live store holds that is this guest's (ids, no values)."""

    guest_ids: list[str]
    records: list[tuple[str, str, str]]  # (id, source, source_id)
    reservations: list[tuple[str, str, str]]  # (id, source, source_id)


def cluster(conn: Connection, guest_id: str) -> list[str]:
    """The guest and every guest merged into it, transitively."""
    if (
        conn.execute(
            select(guests.c.id).where(guests.c.id == guest_id, guests.c.merged_into.is_(None))
        ).first()
        is None
    ):
        raise UnknownGuest(f"no guest {guest_id!r} (erased, merged into another, or never stored)")
    out, frontier = [guest_id], [guest_id]
    while frontier:
        frontier = [r.id for r in conn.execute(select(guests.c.id).where(guests.c.merged_into.in_(frontier)))]
        out += frontier
    return out


def footprint(conn: Connection, guest_id: str) -> GuestFootprint:
    ids = cluster(conn, guest_id)
    recs = [
        (r.id, r.source, r.source_id)
        for r in conn.execute(
            select(profile_records.c.id, profile_records.c.source, profile_records.c.source_id).where(
                profile_records.c.guest_id.in_(ids)
            )
        )
    ]
    rsv: list[tuple[str, str, str]] = []
    rec_ids = [r[0] for r in recs]
    for k in range(0, len(rec_ids), CHUNK):
        q = select(reservations.c.id, reservations.c.source, reservations.c.source_id).where(
            reservations.c.guest_record_id.in_(rec_ids[k : k + CHUNK])
        )
        rsv += [(r.id, r.source, r.source_id) for r in conn.execute(q)]
    return GuestFootprint(ids, recs, rsv)


def _needles(conn: Connection, keyring: Keyring, fp: GuestFootprint) -> set[str]:
    """Strings whose presence in a raw payload marks it as this guest's: source ids, e-mail
    addresses and phone numbers (decrypted here, before the keys go)."""
    needles = {sid for _, _, sid in fp.records + fp.reservations}
    for rid, _, _ in fp.records:
        for col in ("emails_ct", "phones_ct"):
            blob = conn.execute(select(profile_records.c[col]).where(profile_records.c.id == rid)).scalar()
            if not blob:
                continue
            try:
                values = json.loads(
                    keyring.decrypt(bytes(blob), table="profile_records", column=col, row_id=rid)
                )
            except DecryptionError:
                continue
            for v in values:
                raw = v.get("address") or v.get("number") or ""
                needles.add(raw)
                if raw.startswith("+86"):
                    needles.add(raw[3:])  # payloads often carry the national number
    return {n for n in needles if len(n) >= MIN_NEEDLE}


def _raw_rows(
    conn: Connection, keyring: Keyring, fp: GuestFootprint, needles: set[str]
) -> tuple[list[int], list[str]]:
    sources = sorted({s for _, s, _ in fp.records + fp.reservations})
    source_ids = {sid for _, _, sid in fp.records + fp.reservations}
    inbox_ids: list[int] = []
    for r in conn.execute(
        select(inbox.c.id, inbox.c.source, inbox.c.dedupe_key, inbox.c.payload_ct).where(
            inbox.c.source.in_(sources)
        )
    ):
        try:
            payload = keyring.decrypt(
                bytes(r.payload_ct), table="inbox", column="payload_ct", row_id=f"{r.source}|{r.dedupe_key}"
            )
        except DecryptionError:
            continue
        if any(n in payload for n in needles):
            inbox_ids.append(r.id)
    q_ids: list[str] = []
    for r in conn.execute(select(quarantine.c.id, quarantine.c.source_id, quarantine.c.raw_ct)):
        if r.source_id in source_ids:
            q_ids.append(r.id)
            continue
        try:
            raw = keyring.decrypt(bytes(r.raw_ct), table="quarantine", column="raw_ct", row_id=r.id)
        except DecryptionError:
            continue
        if any(n in raw for n in needles):
            q_ids.append(r.id)
    return inbox_ids, q_ids


def _delete_in(conn: Connection, table: Any, column: Any, values: list[Any]) -> int:
    n = 0
    for k in range(0, len(values), CHUNK):
        n += conn.execute(delete(table).where(column.in_(values[k : k + CHUNK]))).rowcount
    return n


def erase(engine: Engine, keyring: Keyring, guest_id: str, now: datetime) -> dict[str, Any]:
    with engine.connect() as conn:
        fp = footprint(conn, guest_id)
    keyring.data_keys.suppress(keyring.suppression_hash(s, sid) for _, s, sid in fp.records + fp.reservations)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        needles = _needles(conn, keyring, fp)
        inbox_ids, q_ids = _raw_rows(conn, keyring, fp, needles)
        rec_ids = [r[0] for r in fp.records]
        rsv_ids = [r[0] for r in fp.reservations]
        rsv_keys = [(s, sid) for _, s, sid in fp.reservations]
        g = fp.guest_ids
        counts["inbox"] = _delete_in(conn, inbox, inbox.c.id, inbox_ids)
        counts["quarantine"] = _delete_in(conn, quarantine, quarantine.c.id, q_ids)
        counts["index_rows"] = _delete_in(conn, guest_index, guest_index.c.record_id, rec_ids)
        counts["reviews"] = conn.execute(
            delete(identity_reviews).where(
                or_(identity_reviews.c.record_id.in_(rec_ids), identity_reviews.c.guest_id.in_(g))
            )
        ).rowcount
        counts["keep_apart"] = conn.execute(
            delete(identity_apart).where(
                or_(identity_apart.c.guest_a.in_(g), identity_apart.c.guest_b.in_(g))
            )
        ).rowcount
        counts["consents"] = _delete_in(conn, consents, consents.c.guest_id, g)
        counts["merges"] = conn.execute(
            delete(guest_merges).where(
                or_(guest_merges.c.survivor_id.in_(g), guest_merges.c.merged_id.in_(g))
            )
        ).rowcount
        for k in range(0, len(rsv_keys), CHUNK):
            part = rsv_keys[k : k + CHUNK]
            counts["feedback"] = (
                counts.get("feedback", 0)
                + conn.execute(
                    delete(feedback).where(
                        tuple_(feedback.c.reservation_source, feedback.c.reservation_source_id).in_(part)
                    )
                ).rowcount
            )
            for t in (stays, folio_lines):
                counts[t.name] = (
                    counts.get(t.name, 0)
                    + conn.execute(
                        delete(t).where(tuple_(t.c.source, t.c.reservation_source_id).in_(part))
                    ).rowcount
                )
            conn.execute(
                delete(push_ledger).where(
                    tuple_(push_ledger.c.pms_source, push_ledger.c.pms_id).in_(part),
                    push_ledger.c.target == "reservation",
                )
            )
        checks = [
            r.check_id
            for k in range(0, len(rsv_ids), CHUNK)
            for r in conn.execute(
                select(pos_links.c.check_id).where(pos_links.c.reservation_id.in_(rsv_ids[k : k + CHUNK]))
            )
        ]
        counts["pos_checks"] = _delete_in(conn, pos_checks, pos_checks.c.id, checks)
        counts["reservations"] = _delete_in(conn, reservations, reservations.c.id, rsv_ids)
        counts["records"] = _delete_in(conn, profile_records, profile_records.c.id, rec_ids)
        # merged guests point at their survivor: delete them first
        conn.execute(delete(guests).where(and_(guests.c.id.in_(g), guests.c.merged_into.is_not(None))))
        conn.execute(delete(guests).where(guests.c.id.in_(g)))
        destroyed = keyring.data_keys.destroy(rec_ids)
        conn.execute(
            insert(erasures),
            {"guest_id": guest_id, "erased_at": now, "records": len(rec_ids), "keys_destroyed": destroyed},
        )
    compact(engine)
    return {"guest_id": guest_id, "guests": len(fp.guest_ids), "keys_destroyed": destroyed, "deleted": counts}


def shredded_guests(conn: Connection, keyring: Keyring) -> list[str]:
    """Live guests holding a record whose data key was destroyed: guests erased after this
    database was backed up, to erase again after a restore (the tombstones are the key store's)."""
    ids = [(r.id, r.guest_id) for r in conn.execute(select(profile_records.c.id, profile_records.c.guest_id))]
    gone: set[str] = set()
    for k in range(0, len(ids), CHUNK):
        gone |= keyring.data_keys.destroyed_among([i for i, _ in ids[k : k + CHUNK]])
    guests_hit = sorted({g for i, g in ids if i in gone})
    live = []
    for gid in guests_hit:
        row = conn.execute(select(guests.c.id, guests.c.merged_into).where(guests.c.id == gid)).first()
        while row is not None and row.merged_into is not None:
            row = conn.execute(
                select(guests.c.id, guests.c.merged_into).where(guests.c.id == row.merged_into)
            ).first()
        if row is not None and row.id not in live:
            live.append(row.id)
    return live


def compact(engine: Engine) -> None:
    """Rewrite the database so deleted rows' bytes are gone from the file (SQLite: VACUUM and
    an emptied WAL; PostgreSQL: VACUUM, which pg_dump never needed but disk images do)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("VACUUM"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            conn.execute(text("VACUUM " + ", ".join(VACUUMED)))
