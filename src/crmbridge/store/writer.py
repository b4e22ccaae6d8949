"""Writing one batch into the store: idempotent upserts keyed on (source, source_id).

All methods run on the caller's connection and inside the caller's transaction, so a batch's
records, its quarantined rejects and its cursor commit together or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from ..identity.blocking import blocking_keys
from ..identity.keys import IdentityPolicy
from ..identity.merging import apply_merge, merge_audit_row
from ..identity.names import name_keys
from ..identity.resolver import Candidate, Resolver
from ..models import Feedback, FolioLine, GuestProfile, PosCheck, Reservation, SourceRecord, Stay
from .crypto import Keyring
from .schema import (
    feedback,
    folio_lines,
    guest_index,
    guest_merges,
    guests,
    identity_reviews,
    pos_checks,
    pos_items,
    profile_records,
    quarantine,
    reservations,
    stays,
    sync_state,
)

SEARCH_NAME = "search_name"
CHUNK = 500  # bound on IN (...) lists, well under every backend's parameter limit


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(v: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if v is not None and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    return v


@dataclass
class Counts:
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    suppressed: int = 0  # dropped: their guest was erased

    def add(self, other: Counts) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class ProfileResult:
    ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, id) -> record id
    changed: set[tuple[str, str]] = field(default_factory=set)
    counts: Counts = field(default_factory=Counts)


@dataclass
class _Plan:
    """What to do with a batch of keyed records: new rows, changed rows, untouched keys."""

    inserts: list[tuple[str, Any, bytes]] = field(default_factory=list)  # (row id, rec, hash)
    updates: list[tuple[str, Any, bytes]] = field(default_factory=list)
    unchanged: dict[str, str] = field(default_factory=dict)  # source_id -> row id


R = TypeVar("R", bound=SourceRecord)


def _dedupe_newest(records: Sequence[R]) -> list[R]:
    """Within one batch the same key may appear twice; the newest (or last) wins."""
    by_key: dict[tuple[str, str], R] = {}
    for r in records:
        k = (r.source, r.source_id)
        prev = by_key.get(k)
        if prev is None or not _older(r.updated_at, prev.updated_at):
            by_key[k] = r
    return list(by_key.values())


def _version_column(table: Table) -> Any:
    return table.c.observed_at if "observed_at" in table.c else table.c.source_updated_at


def _older(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a < b


class BatchWriter:
    def __init__(self, conn: Connection, keyring: Keyring, policy: IdentityPolicy | None = None):
        self.conn = conn
        self.keys = keyring
        self.policy = policy or IdentityPolicy()
        self.resolver = Resolver(self.policy, keyring)
        self.now = utcnow()

    # -- helpers ------------------------------------------------------------------------
    def _hash(self, table: str, rec: SourceRecord, exclude: set[str]) -> bytes:
        # Keyed, so the hash of a small record cannot be brute-forced back to its PII.
        body = rec.model_dump_json(exclude=exclude | {"updated_at"})
        return self.keys.blind_index(body, table="content", index=table)

    def _enc(
        self, table: str, column: str, row_id: str, value: str | None, dek: str | None = None
    ) -> bytes | None:
        if value is None or value == "":
            return None
        return self.keys.encrypt(value, table=table, column=column, row_id=row_id, dek=dek)

    def _drop_suppressed(self, recs: list[R], key: Any) -> tuple[list[R], int]:
        """Records of erased guests are not stored again: drop those whose key (a function of
        the record giving (source, source_id) pairs) is on the suppression list."""
        if not recs:
            return recs, 0
        named = [(r, [self.keys.suppression_hash(s, i) for s, i in key(r)]) for r in recs]
        hit = self.keys.data_keys.suppressed([h for _, hs in named for h in hs])
        if not hit:
            return recs, 0
        kept = [r for r, hs in named if not hit.intersection(hs)]
        return kept, len(recs) - len(kept)

    def _plan(self, table: Table, recs: list[SourceRecord], exclude: set[str]) -> _Plan:
        plan = _Plan()
        if not recs:
            return plan
        source = recs[0].source
        existing: dict[str, Any] = {}
        ids = [r.source_id for r in recs]
        for i in range(0, len(ids), CHUNK):
            rows = self.conn.execute(
                select(
                    table.c.id,
                    table.c.source_id,
                    table.c.content_hash,
                    _version_column(table),
                ).where(table.c.source == source, table.c.source_id.in_(ids[i : i + CHUNK]))
            )
            existing.update({r[1]: r for r in rows})
        for rec in recs:
            h = self._hash(table.name, rec, exclude)
            old = existing.get(rec.source_id)
            if old is None:
                plan.inserts.append((str(uuid.uuid4()), rec, h))
            elif bytes(old[2]) == h or _older(rec.updated_at, as_utc(old[3])):
                # Same content, or an older update arriving late: never overwrite newer data.
                plan.unchanged[rec.source_id] = old[0]
            else:
                plan.updates.append((old[0], rec, h))
        return plan

    def _apply(self, table: Table, plan: _Plan, row: Any) -> None:
        if plan.inserts:
            self.conn.execute(insert(table), [row(i, r, h) | {"id": i} for i, r, h in plan.inserts])
        if plan.updates:
            values = [row(i, r, h) | {"_id": i} for i, r, h in plan.updates]
            cols = {k: bindparam(k) for k in values[0] if k != "_id"}
            self.conn.execute(update(table).where(table.c.id == bindparam("_id")).values(cols), values)

    # -- profiles -----------------------------------------------------------------------
    def _profile_row(self, rid: str, p: GuestProfile, h: bytes, match: str | None = None) -> dict[str, Any]:
        t = "profile_records"

        def js(v: list[Any]) -> str | None:
            return json.dumps([x.model_dump(mode="json") for x in v], ensure_ascii=False) if v else None

        attrs = p.model_dump(
            mode="json",
            include={
                "gender",
                "nationality",
                "language",
                "memberships",
                "preferences",
                "consents",
                "tags",
            },
        )
        return {
            "source": p.source,
            "source_id": p.source_id,
            "observed_at": p.updated_at,
            "content_hash": h,
            "ingested_at": self.now,
            "given_name_ct": self._enc(t, "given_name_ct", rid, p.given_name, rid),
            "surname_ct": self._enc(t, "surname_ct", rid, p.surname, rid),
            "local_name_ct": self._enc(t, "local_name_ct", rid, p.local_name, rid),
            "birth_date_ct": self._enc(
                t, "birth_date_ct", rid, p.birth_date.isoformat() if p.birth_date else None, rid
            ),
            "emails_ct": self._enc(t, "emails_ct", rid, js(p.emails), rid),
            "phones_ct": self._enc(t, "phones_ct", rid, js(p.phones), rid),
            "addresses_ct": self._enc(t, "addresses_ct", rid, js(p.addresses), rid),
            "documents_ct": self._enc(t, "documents_ct", rid, js(p.documents), rid),
            "notes_ct": self._enc(
                t, "notes_ct", rid, json.dumps(p.notes, ensure_ascii=False) if p.notes else None, rid
            ),
            "attributes_ct": self._enc(t, "attributes_ct", rid, _json(attrs), rid),
            "match_ct": self._enc(t, "match_ct", rid, match, rid),
        }

    def upsert_profiles(self, profiles: Sequence[GuestProfile]) -> ProfileResult:
        """Upsert profile records and attach each new or changed one to a guest."""
        out = ProfileResult()
        by_source: dict[str, list[GuestProfile]] = {}
        fresh_profiles, out.counts.suppressed = self._drop_suppressed(
            _dedupe_newest(profiles), lambda p: [(p.source, p.source_id)]
        )
        for p in fresh_profiles:
            by_source.setdefault(p.source, []).append(p)
        plans: list[_Plan] = []
        candidates: list[Candidate] = []
        for source, group in by_source.items():
            plan = self._plan(profile_records, group, set())
            plans.append(plan)
            current = self._current_guests([i for i, _, _ in plan.updates])
            for rid, p, _ in plan.inserts + plan.updates:
                out.ids[(source, p.source_id)] = rid
                out.changed.add((source, p.source_id))
                features = self.policy.features(p)
                keys = [
                    (kind, self.keys.blind_index(v, table="guest_index", index=kind))
                    for kind, v in blocking_keys(features)
                ]
                candidates.append(Candidate(rid, f"{source}/{p.source_id}", current.get(rid), keys, features))
            for sid, rid in plan.unchanged.items():
                out.ids[(source, sid)] = rid
            out.counts.inserted += len(plan.inserts)
            out.counts.updated += len(plan.updates)
            out.counts.unchanged += len(plan.unchanged)
        if not candidates:
            return out
        # Each record's values are encrypted under its own data key, created with the record.
        self.keys.data_keys.ensure([i for plan in plans for i, _, _ in plan.inserts])

        resolution = self.resolver.resolve(self.conn, candidates, self.now)
        # Every new record gets a guest of its own first, even one merged at once, so that
        # joining it to an existing guest is an audited merge an unmerge can reverse.
        # A guest created by this batch has no stored records and no review items yet, so its
        # merge needs no moves: its row is written already merged, its audit row in bulk.
        fresh = set(resolution.new_guests)
        links = {m.merged: m for m in resolution.merges if m.merged in fresh}
        if resolution.new_guests:
            self.conn.execute(
                insert(guests),
                [
                    {
                        "id": g,
                        "created_at": self.now,
                        "updated_at": self.now,
                        "merged_into": links[g].survivor if g in links else None,
                    }
                    for g in resolution.new_guests
                ],
            )
        if links:
            self.conn.execute(
                insert(guest_merges), [merge_audit_row(m, m.batch_records, self.now) for m in links.values()]
            )
        for m in resolution.merges:
            if m.merged not in links:
                apply_merge(self.conn, m, self.now)
        match = {c.record_id: c.features.to_json() for c in candidates}

        def row(i: str, r: GuestProfile, h: bytes) -> dict[str, Any]:
            return self._profile_row(i, r, h, match[i]) | {"guest_id": resolution.assignment[i]}

        for plan in plans:
            self._apply(profile_records, plan, row)
        # only records stored before have index rows to replace
        changed = [c.record_id for c in candidates if c.current_guest is not None]
        for i in range(0, len(changed), CHUNK):
            self.conn.execute(delete(guest_index).where(guest_index.c.record_id.in_(changed[i : i + CHUNK])))
        index_rows = [
            {"kind": kind, "hash": h, "record_id": c.record_id} for c in candidates for kind, h in c.keys
        ]
        # Staff search a guest by name alone, which matching never blocks on (too common):
        # its own kind, so the resolver never sees it.
        index_rows += [
            {
                "kind": SEARCH_NAME,
                "hash": self.keys.blind_index(n, table="guest_index", index=SEARCH_NAME),
                "record_id": c.record_id,
            }
            for c in candidates
            for n in sorted(name_keys(tuple(c.features.readings)))
        ]
        if index_rows:
            self.conn.execute(insert(guest_index), index_rows)
        if resolution.reviews:
            self.conn.execute(
                insert(identity_reviews),
                [
                    {
                        "record_id": rv.record_id,
                        "guest_id": rv.guest_id,
                        "score": rv.score,
                        "evidence": rv.evidence,
                        "status": "open",
                        "created_at": self.now,
                    }
                    for rv in resolution.reviews
                ],
            )
        self.keys.data_keys.flush()  # keys durable before the data that needs them commits
        return out

    def _current_guests(self, record_ids: list[str]) -> dict[str, str]:
        current: dict[str, str] = {}
        for i in range(0, len(record_ids), CHUNK):
            rows = self.conn.execute(
                select(profile_records.c.id, profile_records.c.guest_id).where(
                    profile_records.c.id.in_(record_ids[i : i + CHUNK])
                )
            )
            current.update({r.id: r.guest_id for r in rows})
        return current

    # -- reservations -------------------------------------------------------------------
    def upsert_reservations(self, batch: Sequence[Reservation]) -> Counts:
        counts = Counts()
        recs, counts.suppressed = self._drop_suppressed(
            _dedupe_newest(batch),
            lambda r: [(r.source, r.source_id)] + ([(r.guest.source, r.guest.source_id)] if r.guest else []),
        )
        if not recs:
            return counts
        profiles = self.upsert_profiles([r.guest for r in recs if r.guest])
        profile_ids = profiles.ids
        plan = self._plan(reservations, recs, {"guest"})
        t = "reservations"
        # Special requests are the guest's: under the guest record's data key, erased with it.

        def row(i: str, r: Reservation, h: bytes) -> dict[str, Any]:
            g = r.guest
            return {
                "source": r.source,
                "source_id": r.source_id,
                "hotel_code": r.hotel_code,
                "status": r.status.value,
                "channel": r.channel,
                "arrival": r.arrival,
                "departure": r.departure,
                "room_type": r.room_type,
                "rate_code": r.rate_code,
                "adults": r.adults,
                "children": r.children,
                "total_amount": r.total.amount if r.total else None,
                "currency": r.total.currency if r.total else None,
                "confirmation_numbers": r.confirmation_numbers,
                "special_requests_ct": self._enc(
                    t,
                    "special_requests_ct",
                    i,
                    json.dumps(r.special_requests, ensure_ascii=False) if r.special_requests else None,
                    profile_ids.get((g.source, g.source_id)) if g else None,
                ),
                "guest_record_id": profile_ids.get((g.source, g.source_id)) if g else None,
                "source_created_at": r.created_at,
                "source_updated_at": r.updated_at,
                "content_hash": h,
                "ingested_at": self.now,
            }

        self._apply(reservations, plan, row)
        self.keys.data_keys.flush()
        counts.inserted = len(plan.inserts)
        counts.updated = len(plan.updates)
        # A reservation whose own fields are unchanged but whose guest changed is "updated".
        by_id = {r.source_id: r for r in recs}
        guest_changed = sum(
            1
            for sid in plan.unchanged
            if (g := by_id[sid].guest) is not None and (g.source, g.source_id) in profiles.changed
        )
        counts.updated += guest_changed
        counts.unchanged = len(plan.unchanged) - guest_changed
        return counts

    # -- stays and folios ---------------------------------------------------------------
    def upsert_stays(self, batch: Sequence[Stay]) -> Counts:
        recs, dropped = self._drop_suppressed(
            _dedupe_newest(batch), lambda s: [(s.source, s.reservation_source_id)]
        )
        plan = self._plan(stays, recs, set())

        def row(i: str, s: Stay, h: bytes) -> dict[str, Any]:
            return {
                "source": s.source,
                "source_id": s.source_id,
                "reservation_source_id": s.reservation_source_id,
                "hotel_code": s.hotel_code,
                "room_number": s.room_number,
                "checked_in_at": s.checked_in_at,
                "checked_out_at": s.checked_out_at,
                "source_updated_at": s.updated_at,
                "content_hash": h,
                "ingested_at": self.now,
            }

        self._apply(stays, plan, row)
        return Counts(0, len(plan.inserts), len(plan.updates), len(plan.unchanged), suppressed=dropped)

    def upsert_folios(self, batch: Sequence[FolioLine]) -> Counts:
        recs, dropped = self._drop_suppressed(
            _dedupe_newest(batch), lambda f: [(f.source, f.reservation_source_id)]
        )
        plan = self._plan(folio_lines, recs, set())

        def row(i: str, f: FolioLine, h: bytes) -> dict[str, Any]:
            return {
                "source": f.source,
                "source_id": f.source_id,
                "reservation_source_id": f.reservation_source_id,
                "hotel_code": f.hotel_code,
                "business_date": f.business_date,
                "transaction_code": f.transaction_code,
                "description_ct": self._enc("folio_lines", "description_ct", i, f.description),
                "amount": f.amount.amount,
                "currency": f.amount.currency,
                "reference": f.reference,
                "source_updated_at": f.updated_at,
                "content_hash": h,
                "ingested_at": self.now,
            }

        self._apply(folio_lines, plan, row)
        return Counts(0, len(plan.inserts), len(plan.updates), len(plan.unchanged), suppressed=dropped)

    def upsert_feedback(self, batch: Sequence[Feedback]) -> Counts:
        recs, dropped = self._drop_suppressed(
            _dedupe_newest(batch),
            lambda f: (
                [(f.reservation_source or f.source, f.reservation_source_id)]
                if f.reservation_source_id
                else []
            ),
        )
        plan = self._plan(feedback, recs, set())
        # Feedback named by its stay: find each stay's reservation in one query per chunk.
        by_stay: dict[tuple[str, str], str] = {}
        wanted = sorted({f.stay_source_id for f in recs if f.stay_source_id and not f.reservation_source_id})
        for k in range(0, len(wanted), CHUNK):
            q = select(stays.c.source, stays.c.source_id, stays.c.reservation_source_id).where(
                stays.c.source_id.in_(wanted[k : k + CHUNK])
            )
            by_stay.update({(r.source, r.source_id): r.reservation_source_id for r in self.conn.execute(q)})

        def row(i: str, f: Feedback, h: bytes) -> dict[str, Any]:
            rsv_source, rsv_id = f.reservation_source or f.source, f.reservation_source_id
            if rsv_id is None and f.stay_source_id:
                rsv_id = by_stay.get((rsv_source, f.stay_source_id))
            return {
                "source": f.source,
                "source_id": f.source_id,
                "rating": f.rating,
                "category": f.category.lower() if f.category else None,
                "text_ct": self._enc("feedback", "text_ct", i, f.text),
                "reservation_source": rsv_source,
                "reservation_source_id": rsv_id,
                "stay_source_id": f.stay_source_id,
                "received_at": f.received_at,
                "source_updated_at": f.updated_at,
                "content_hash": h,
                "ingested_at": self.now,
            }

        self._apply(feedback, plan, row)
        return Counts(0, len(plan.inserts), len(plan.updates), len(plan.unchanged), suppressed=dropped)

    # -- POS checks ---------------------------------------------------------------------
    def upsert_pos_checks(self, batch: Sequence[PosCheck]) -> Counts:
        """Upsert checks; a new or changed check has its lines rewritten whole."""
        recs = _dedupe_newest(batch)
        plan = self._plan(pos_checks, recs, set())
        t = "pos_checks"

        def amount(m: Any) -> Any:
            return m.amount if m is not None else None

        def row(i: str, c: PosCheck, h: bytes) -> dict[str, Any]:
            charge = c.room_charge
            return {
                "source": c.source,
                "source_id": c.source_id,
                "hotel_code": c.hotel_code,
                "outlet": c.outlet,
                "outlet_id": c.outlet_id,
                "check_number": c.check_number,
                "business_date": c.business_date,
                "opened_at": c.opened_at,
                "closed_at": c.closed_at,
                "room_number": c.room_number,
                "covers": c.covers,
                "currency": c.total.currency,
                "total_amount": c.total.amount,
                "subtotal_amount": amount(c.subtotal),
                "discount_amount": amount(c.discount_total),
                "service_charge_amount": amount(c.service_charge_total),
                "tip_amount": amount(c.tip_total),
                "room_charge_amount": amount(charge),
                "cancelled": int(c.cancelled),
                "guest_name_ct": self._enc(t, "guest_name_ct", i, c.guest_name),
                "notes_ct": self._enc(
                    t, "notes_ct", i, json.dumps(c.notes, ensure_ascii=False) if c.notes else None
                ),
                "source_updated_at": c.updated_at,
                "content_hash": h,
                "ingested_at": self.now,
            }

        self._apply(pos_checks, plan, row)
        changed = plan.inserts + plan.updates
        ids = [i for i, _, _ in plan.updates]
        for k in range(0, len(ids), CHUNK):
            self.conn.execute(delete(pos_items).where(pos_items.c.check_id.in_(ids[k : k + CHUNK])))
        lines = [line for i, c, _ in changed for line in _pos_lines(i, c)]
        if lines:
            self.conn.execute(insert(pos_items), lines)
        return Counts(0, len(plan.inserts), len(plan.updates), len(plan.unchanged))

    # -- quarantine and cursor ----------------------------------------------------------
    def quarantine(self, source: str, stream: str, rejects: Sequence[Any], run_id: int | None) -> int:
        rows: dict[bytes, dict[str, Any]] = {}
        for rj in rejects:
            qid = str(uuid.uuid4())
            raw_hash = self.keys.blind_index(rj.raw, table="quarantine", index="raw")
            rows[raw_hash] = {
                "id": qid,
                "source": source,
                "stream": stream,
                "source_id": rj.source_id[:128],
                "reason": rj.reason,
                "run_id": run_id,
                "created_at": self.now,
                "raw_hash": raw_hash,
                "raw_ct": self.keys.encrypt(rj.raw, table="quarantine", column="raw_ct", row_id=qid),
            }
        if rows:
            seen = {
                bytes(h)
                for (h,) in self.conn.execute(
                    select(quarantine.c.raw_hash).where(
                        quarantine.c.source == source,
                        quarantine.c.stream == stream,
                        quarantine.c.raw_hash.in_(list(rows)),
                        quarantine.c.resolved_at.is_(None),
                    )
                )
            }
            new = [r for h, r in rows.items() if h not in seen]
            if new:
                self.conn.execute(insert(quarantine), new)
        return len(rejects)

    def save_cursor(self, source: str, stream: str, cursor: str | None) -> None:
        n = self.conn.execute(
            update(sync_state)
            .where(sync_state.c.source == source, sync_state.c.stream == stream)
            .values(cursor=cursor, updated_at=self.now)
        ).rowcount
        if n == 0:
            self.conn.execute(
                insert(sync_state),
                {"source": source, "stream": stream, "cursor": cursor, "updated_at": self.now},
            )


def _pos_lines(check_id: str, c: PosCheck) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, it in enumerate(c.items):
        out.append(
            {
                "check_id": check_id,
                "position": n,
                "kind": it.kind.value,
                "line_id": it.line_id,
                "parent_line_id": it.parent_line_id,
                "item_id": it.item_id,
                "name": it.name[:200],
                "item_group": it.group,
                "quantity": it.quantity,
                "amount": it.amount.amount,
                "currency": it.amount.currency,
                "voided": int(it.voided),
                "returned": int(it.returned),
                "room_charge": 0,
            }
        )
    for n, td in enumerate(c.tenders, start=len(c.items)):
        out.append(
            {
                "check_id": check_id,
                "position": n,
                "kind": "tender",
                "line_id": None,
                "parent_line_id": None,
                "item_id": td.tender_id,
                "name": td.name[:200],
                "item_group": None,
                "quantity": 1,
                "amount": td.amount.amount,
                "currency": td.amount.currency,
                "voided": int(td.voided),
                "returned": 0,
                "room_charge": int(td.room_charge),
            }
        )
    return out
