"""What the rules and the segmentation read: one guest's unified profile and history.

Loaded in chunks for a set of arrivals, decrypted in memory only, never written back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from ..store.crypto import Keyring
from ..store.reader import ProfileRecord
from ..store.schema import feedback, profile_records, reservations
from ..store.writer import as_utc

if TYPE_CHECKING:
    from .segments import Segment

CHUNK = 500
LIVE = ("pending", "confirmed", "in_house")
CANCELLED = ("cancelled", "no_show")


@dataclass(frozen=True)
class Visit:
    """One reservation of the guest, in whichever source it came from."""

    source: str
    source_id: str
    hotel_code: str
    status: str
    arrival: date
    departure: date
    channel: str | None = None
    rate_code: str | None = None
    adults: int = 1
    children: int = 0
    total: Decimal | None = None
    currency: str | None = None
    special_requests: tuple[str, ...] = ()

    @property
    def nights(self) -> int:
        return max((self.departure - self.arrival).days, 0)

    @property
    def stay_key(self) -> tuple[str, date, date]:
        # An OTA order and the PMS reservation it became are one stay, not two.
        return (self.hotel_code, self.arrival, self.departure)


@dataclass(frozen=True)
class PreferenceFact:
    category: str
    code: str
    value: str | None
    source: str
    confidence: float | None = None


@dataclass(frozen=True)
class FeedbackFact:
    source: str
    source_id: str
    rating: int | None
    category: str | None
    received_at: datetime | None
    reservation_source: str | None
    reservation_source_id: str | None


@dataclass
class GuestFacts:
    guest_id: str
    records: list[ProfileRecord] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    feedback: list[FeedbackFact] = field(default_factory=list)
    segment: Segment | None = None  # set by the pre-arrival job before the rules run
    # Rules ask the same questions; facts do not change while they run.
    _past: dict[date, list[Visit]] = field(default_factory=dict, repr=False)

    def value(self, key: str) -> Any:
        """Most recently observed non-empty value of a profile field, across sources."""
        best: tuple[datetime | None, Any] | None = None
        for r in self.records:
            v = r.values.get(key)
            if v in (None, "", [], {}):
                continue
            if best is None or (r.observed_at or datetime.min) >= (best[0] or datetime.min):
                best = (r.observed_at, v)
        return best[1] if best else None

    def attributes(self, key: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for r in self.records:
            for item in (r.values.get("attributes") or {}).get(key) or []:
                out.append({**item, "_source": r.source})
        return out

    @cached_property
    def preferences(self) -> list[PreferenceFact]:
        seen: dict[tuple[str, str], PreferenceFact] = {}
        for p in self.attributes("preferences"):
            key = (str(p["category"]).upper(), str(p["code"]).upper())
            seen.setdefault(
                key, PreferenceFact(key[0], key[1], p.get("value"), p["_source"], p.get("confidence"))
            )
        return list(seen.values())

    @property
    def birth_date(self) -> date | None:
        v = self.value("birth_date")
        try:
            return date.fromisoformat(v) if v else None
        except ValueError:
            return None

    def past_stays(self, before: date) -> list[Visit]:
        """Completed stays that ended on or before `before`, one per physical stay."""
        if before in self._past:
            return self._past[before]
        stays: dict[tuple[str, date, date], Visit] = {}
        for v in self.visits:
            if v.status in CANCELLED or v.departure > before:
                continue
            stays.setdefault(v.stay_key, v)
        self._past[before] = sorted(stays.values(), key=lambda v: v.arrival)
        return self._past[before]


def _visit(r: Any, keyring: Keyring) -> Visit:
    requests: tuple[str, ...] = ()
    if r.special_requests_ct is not None:
        text = keyring.decrypt(
            bytes(r.special_requests_ct), table="reservations", column="special_requests_ct", row_id=r.id
        )
        requests = tuple(json.loads(text))
    return Visit(
        r.source, r.source_id, r.hotel_code, r.status, r.arrival, r.departure, r.channel, r.rate_code,
        r.adults, r.children, r.total_amount, r.currency, requests,
    )  # fmt: skip


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


# What rules and segments read of a profile. Names and contact details are not among them:
# they are neither fetched nor decrypted, which keeps plaintext PII out of this path and
# halves the work per guest.
FACT_COLUMNS = ("birth_date", "attributes")
_RECORD_COLUMNS = [
    profile_records.c.id,
    profile_records.c.source,
    profile_records.c.source_id,
    profile_records.c.guest_id,
    profile_records.c.observed_at,
    *(profile_records.c[f"{c}_ct"] for c in FACT_COLUMNS),
]
_VISIT_COLUMNS = [reservations.c[c] for c in (
    "id", "source", "source_id", "hotel_code", "status", "arrival", "departure", "channel",
    "rate_code", "adults", "children", "total_amount", "currency", "special_requests_ct",
    "guest_record_id",
)]  # fmt: skip


def _fact_record(keyring: Keyring, row: Any) -> ProfileRecord:
    values: dict[str, Any] = {}
    for c in FACT_COLUMNS:
        blob = row._mapping[f"{c}_ct"]
        if blob is not None:
            text = keyring.decrypt(bytes(blob), table="profile_records", column=f"{c}_ct", row_id=row.id)
            values[c] = json.loads(text) if c == "attributes" else text
    return ProfileRecord(row.id, row.source, row.source_id, as_utc(row.observed_at), values)


def load_facts(conn: Connection, keyring: Keyring, guest_ids: Iterable[str]) -> dict[str, GuestFacts]:
    ids = sorted(set(guest_ids))
    facts = {g: GuestFacts(g) for g in ids}
    record_guest: dict[str, str] = {}
    for part in _chunks(ids):
        for row in conn.execute(select(*_RECORD_COLUMNS).where(profile_records.c.guest_id.in_(part))):
            facts[row.guest_id].records.append(_fact_record(keyring, row))
            record_guest[row.id] = row.guest_id
    keys: dict[tuple[str, str], str] = {}
    rec_ids = list(record_guest)
    for part in _chunks(rec_ids):
        for r in conn.execute(select(*_VISIT_COLUMNS).where(reservations.c.guest_record_id.in_(part))):
            gid = record_guest[r.guest_record_id]
            facts[gid].visits.append(_visit(r, keyring))
            keys[(r.source, r.source_id)] = gid
    # Filter on the id alone (indexed) and check the source in Python: a long OR of pairs
    # costs more to build than to run.
    res_ids = sorted({sid for _, sid in keys})
    for part in _chunks(res_ids):
        for f in conn.execute(select(feedback).where(feedback.c.reservation_source_id.in_(part))):
            if (f.reservation_source, f.reservation_source_id) not in keys:
                continue
            gid = keys[(f.reservation_source, f.reservation_source_id)]
            facts[gid].feedback.append(
                FeedbackFact(
                    source=f.source,
                    source_id=f.source_id,
                    rating=f.rating,
                    category=f.category,
                    received_at=as_utc(f.received_at),
                    reservation_source=f.reservation_source,
                    reservation_source_id=f.reservation_source_id,
                )
            )
    return facts
