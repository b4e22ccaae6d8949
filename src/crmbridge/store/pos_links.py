"""Linking POS checks to the stay (reservation, guest) they were charged to.

A POS check carries no guest identity; the link travels in the room charge. Evidence, best
first:

1. **Folio posting.** The PMS posting that carries the charge names the check number in its
   reference (OPERA ``checkNo``, FIAS ``C#``), has the same amount and the same business date
   (or the next one, if the PMS rolled its day over first). One posting (or several on one
   reservation) is a link; postings on several reservations are not, unless the room agrees
   with exactly one of them.
2. **Room and time.** A room-charged check with a room number belongs to the reservation
   in house in that room at the check's close time: actual check-in/out when the stay has
   them, otherwise the business dates ``arrival <= business_date <= departure`` (a
   changeover day then has two candidates and stays unlinked). Business dates, not
   calendar dates, so a bar check closed at 00:40 before the night audit lands on the
   guest who was in the room that evening, not on the one arriving the next day.
   A room move is one ``Stay`` per room segment, each with its own times. In a shared room
   (two reservations in house) the name typed at the POS must match exactly one of them.

Anything else stays ``unlinked`` with its reason: a walk-in's spend is never guessed onto a
guest. Re-running changes nothing: a link row is written only when its decision changes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select

from .crypto import Keyring
from .schema import folio_lines, pos_checks, pos_links, profile_records, reservations, stays
from .writer import CHUNK, as_utc, utcnow

WINDOW_DAYS = 14  # checks this recent are re-examined each run: postings arrive after checks
NOT_IN_HOUSE = {"cancelled", "no_show"}
_DIGITS = re.compile(r"\d+")
_NAME_NOISE = re.compile(r"[\s,./·\-]+")

CONF_FOLIO = Decimal("0.990")
CONF_FOLIO_NEXT_DAY = Decimal("0.900")
CONF_FOLIO_AND_ROOM = Decimal("0.900")
CONF_STAY_TIMES = Decimal("0.850")
CONF_STAY_NAME = Decimal("0.800")
CONF_STAY_DATES = Decimal("0.700")


@dataclass(frozen=True)
class Decision:
    status: str  # linked, unlinked
    reason: str
    method: str | None = None
    confidence: Decimal | None = None
    reservation_id: str | None = None
    folio_line_id: str | None = None
    stay_id: str | None = None


@dataclass
class LinkResult:
    evaluated: int = 0
    linked: int = 0
    unlinked: int = 0
    changed: int = 0
    # Reservations whose set of linked checks changed (before or after): their guests'
    # dining insights need recomputing.
    affected_reservations: set[str] = field(default_factory=set)


@dataclass
class _Check:
    id: str
    hotel_code: str
    business_date: date
    check_number: str | None
    room_number: str | None
    time: datetime | None
    amount: Decimal
    currency: str
    room_charged: bool
    cancelled: bool
    guest_name_ct: bytes | None
    content_hash: bytes


@dataclass
class _Stay:
    id: str
    reservation_id: str
    guest_record_id: str | None
    status: str
    arrival: date
    departure: date
    checked_in_at: datetime | None
    checked_out_at: datetime | None


def _number(s: str | None) -> str | None:
    if not s:
        return None
    digits = "".join(_DIGITS.findall(s))
    return digits.lstrip("0") or ("0" if digits else None)


def _reference_numbers(ref: str) -> set[str]:
    return {d.lstrip("0") or "0" for d in _DIGITS.findall(ref)}


def _norm_name(s: str) -> str:
    return _NAME_NOISE.sub("", s).casefold()


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _checks_to_examine(conn: Connection, window_days: int) -> tuple[list[_Check], dict[str, Any]]:
    newest = conn.execute(select(func.max(pos_checks.c.business_date))).scalar()
    if newest is None:
        return [], {}
    since = newest - timedelta(days=window_days)
    q = (
        select(pos_checks, pos_links.c.check_id.label("link_check_id"))
        .select_from(pos_checks.outerjoin(pos_links, pos_links.c.check_id == pos_checks.c.id))
        .where(
            or_(
                pos_links.c.check_id.is_(None),
                pos_links.c.check_hash != pos_checks.c.content_hash,
                pos_checks.c.business_date >= since,
            )
        )
    )
    checks = []
    for r in conn.execute(q):
        charge = r.room_charge_amount
        checks.append(
            _Check(
                id=r.id,
                hotel_code=r.hotel_code,
                business_date=r.business_date,
                check_number=_number(r.check_number),
                room_number=(r.room_number or "").strip().upper() or None,
                time=as_utc(r.closed_at or r.opened_at),
                amount=Decimal(charge if charge is not None else r.total_amount),
                currency=r.currency,
                room_charged=charge is not None or bool(r.room_number),
                cancelled=bool(r.cancelled),
                guest_name_ct=bytes(r.guest_name_ct) if r.guest_name_ct is not None else None,
                content_hash=bytes(r.content_hash),
            )
        )
    ids = [c.id for c in checks]
    current: dict[str, Any] = {}
    for part in _chunks(ids):
        for r in conn.execute(select(pos_links).where(pos_links.c.check_id.in_(part))):
            current[r.check_id] = r
    return checks, current


FolioIndex = dict[tuple[str, date, str], list[Any]]


def _folio_candidates(
    conn: Connection, checks: list[_Check]
) -> tuple[FolioIndex, dict[tuple[str, str], tuple[str, str]]]:
    """Folio lines by (hotel, business date, a number in their reference); reservations by key."""
    charged = [c for c in checks if c.room_charged and c.check_number]
    by_day: FolioIndex = defaultdict(list)
    if not charged:
        return by_day, {}
    hotels = sorted({c.hotel_code for c in charged})
    lo = min(c.business_date for c in charged)
    hi = max(c.business_date for c in charged) + timedelta(days=1)
    rows = conn.execute(
        select(
            folio_lines.c.id,
            folio_lines.c.source,
            folio_lines.c.reservation_source_id,
            folio_lines.c.hotel_code,
            folio_lines.c.business_date,
            folio_lines.c.amount,
            folio_lines.c.currency,
            folio_lines.c.reference,
        ).where(
            folio_lines.c.hotel_code.in_(hotels),
            folio_lines.c.business_date.between(lo, hi),
            folio_lines.c.reference.is_not(None),
        )
    ).all()
    keys: set[tuple[str, str]] = set()
    for r in rows:
        for number in _reference_numbers(r.reference):
            by_day[(r.hotel_code, r.business_date, number)].append(r)
        keys.add((r.source, r.reservation_source_id))
    resv: dict[tuple[str, str], tuple[str, str]] = {}
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, sid in keys:
        by_source[source].append(sid)
    for source, sids in by_source.items():
        for part in _chunks(sids):
            for r in conn.execute(
                select(reservations.c.id, reservations.c.source_id, reservations.c.status).where(
                    reservations.c.source == source, reservations.c.source_id.in_(part)
                )
            ):
                resv[(source, r.source_id)] = (r.id, r.status)
    return by_day, resv


def _stays_by_room(conn: Connection, checks: list[_Check]) -> dict[tuple[str, str], list[_Stay]]:
    with_room = [c for c in checks if c.room_charged and c.room_number]
    out: dict[tuple[str, str], list[_Stay]] = defaultdict(list)
    if not with_room:
        return out
    hotels = sorted({c.hotel_code for c in with_room})
    rooms = sorted({c.room_number for c in with_room if c.room_number})
    lo = min(c.business_date for c in with_room)
    hi = max(c.business_date for c in with_room)
    q = (
        select(
            stays.c.id,
            stays.c.hotel_code,
            stays.c.room_number,
            stays.c.checked_in_at,
            stays.c.checked_out_at,
            reservations.c.id.label("reservation_id"),
            reservations.c.guest_record_id,
            reservations.c.status,
            reservations.c.arrival,
            reservations.c.departure,
        )
        .select_from(
            stays.join(
                reservations,
                and_(
                    reservations.c.source == stays.c.source,
                    reservations.c.source_id == stays.c.reservation_source_id,
                ),
            )
        )
        .where(
            stays.c.hotel_code.in_(hotels),
            func.upper(stays.c.room_number).in_(rooms),
            reservations.c.arrival <= hi,
            reservations.c.departure >= lo,
        )
    )
    for r in conn.execute(q):
        out[(r.hotel_code, r.room_number.strip().upper())].append(
            _Stay(
                r.id,
                r.reservation_id,
                r.guest_record_id,
                r.status,
                r.arrival,
                r.departure,
                as_utc(r.checked_in_at),
                as_utc(r.checked_out_at),
            )
        )
    return out


def _in_house(s: _Stay, c: _Check) -> str | None:
    """'times' or 'dates' when the stay was in its room at the check, else None."""
    if s.status in NOT_IN_HOUSE or not s.arrival <= c.business_date <= s.departure:
        return None
    if s.checked_in_at is not None and c.time is not None:
        if c.time < s.checked_in_at or (s.checked_out_at is not None and c.time > s.checked_out_at):
            return None
        return "times"
    # Only dates: both the arrival and the departure day count (a dinner after check-in, a
    # breakfast before check-out), so a changeover day has two candidates and stays unlinked.
    return "dates"


class _Names:
    """Decrypts guest names only for shared rooms, and only to compare them."""

    def __init__(self, conn: Connection, keyring: Keyring):
        self.conn, self.keys = conn, keyring

    def check_name(self, c: _Check) -> str | None:
        if c.guest_name_ct is None:
            return None
        name = self.keys.decrypt(c.guest_name_ct, table="pos_checks", column="guest_name_ct", row_id=c.id)
        return _norm_name(name) or None

    def variants(self, record_id: str | None) -> set[str]:
        if record_id is None:
            return set()
        r = self.conn.execute(
            select(
                profile_records.c.given_name_ct,
                profile_records.c.surname_ct,
                profile_records.c.local_name_ct,
            ).where(profile_records.c.id == record_id)
        ).one_or_none()
        if r is None:
            return set()

        def dec(blob: Any, col: str) -> str:
            if blob is None:
                return ""
            return self.keys.decrypt(bytes(blob), table="profile_records", column=col, row_id=record_id)

        given, surname = dec(r.given_name_ct, "given_name_ct"), dec(r.surname_ct, "surname_ct")
        local = dec(r.local_name_ct, "local_name_ct")
        out = {_norm_name(local), _norm_name(given + surname), _norm_name(surname + given)}
        return {v for v in out if v}


def _by_folio(
    c: _Check,
    by_day: FolioIndex,
    resv: dict[tuple[str, str], tuple[str, str]],
) -> tuple[dict[str, Any], Decimal] | None:
    """{reservation id: folio line} for the folios that hold this check's charge.

    A folio holds it when a posting names the check number with the check's amount and the
    postings naming it there do not net to something else: a charge moved to another folio
    (reversed here, posted there) belongs to the folio it was moved to."""
    if not c.check_number:
        return None
    per_folio: dict[tuple[str, str], list[tuple[Any, Decimal]]] = defaultdict(list)
    for day, conf in (
        (c.business_date, CONF_FOLIO),
        (c.business_date + timedelta(days=1), CONF_FOLIO_NEXT_DAY),
    ):
        for f in by_day.get((c.hotel_code, day, c.check_number), ()):
            if f.currency == c.currency:
                per_folio[(f.source, f.reservation_source_id)].append((f, conf))
    found: dict[str, Any] = {}
    best = Decimal(0)
    for key, lines in sorted(per_folio.items()):
        if sum((Decimal(f.amount) for f, _ in lines), Decimal(0)) != c.amount:
            continue
        matching = [(f, conf) for f, conf in lines if Decimal(f.amount) == c.amount]
        if not matching:
            continue
        f, conf = max(matching, key=lambda m: m[1])
        r = resv.get(key)
        found[r[0] if r is not None else f"?{key[0]}/{key[1]}"] = f
        best = max(best, conf)
    return (found, best) if found else None


def decide(
    c: _Check,
    by_day: FolioIndex,
    resv: dict[tuple[str, str], tuple[str, str]],
    rooms: dict[tuple[str, str], list[_Stay]],
    names: _Names,
) -> Decision:
    if c.cancelled:
        return Decision("unlinked", "check cancelled")
    if not c.room_charged:
        return Decision("unlinked", "not charged to a room")
    in_room: dict[str, tuple[_Stay, str]] = {}
    if c.room_number:
        for s in rooms.get((c.hotel_code, c.room_number), ()):
            how = _in_house(s, c)
            if how is not None:
                prev = in_room.get(s.reservation_id)
                # Two segments of one reservation (a room move back) are still one guest.
                if prev is None or (prev[1] == "dates" and how == "times"):
                    in_room[s.reservation_id] = (s, how)
        if any(how == "times" for _, how in in_room.values()):
            # Someone was provably in the room; a guest known only by dates who is not in
            # house yet (a room pre-assigned to a later arrival) is not a rival.
            in_room = {rid: v for rid, v in in_room.items() if v[1] == "times" or v[0].status == "in_house"}
    folio = _by_folio(c, by_day, resv)
    if folio is not None:
        found, conf = folio
        unknown = [k for k in found if k.startswith("?")]
        known = {k: v for k, v in found.items() if not k.startswith("?")}
        if len(found) == 1 and known:
            [(rid, f)] = known.items()
            return Decision("linked", "folio posting", "folio", conf, rid, f.id)
        if len(found) == 1 and unknown:
            return Decision("unlinked", "folio posting's reservation is not in the store yet")
        if unknown:  # a rival folio we cannot see yet: wait for its reservation
            return Decision(
                "unlinked", f"folio postings on {len(found)} reservations, {len(unknown)} not in the store"
            )
        both = [rid for rid in known if rid in in_room]
        if len(both) == 1:
            rid = both[0]
            stay = in_room[rid][0]
            return Decision(
                "linked", "folio postings and room", "folio", CONF_FOLIO_AND_ROOM, rid, known[rid].id, stay.id
            )
        return Decision("unlinked", f"folio postings on {len(found)} reservations")
    if not c.room_number:
        return Decision("unlinked", "room charge without a matching folio posting or room number")
    if not in_room:
        return Decision("unlinked", "no stay in house in that room at that time")
    if len(in_room) == 1:
        [(rid, (stay, how))] = in_room.items()
        conf = CONF_STAY_TIMES if how == "times" else CONF_STAY_DATES
        return Decision("linked", f"room and {how}", "stay", conf, rid, None, stay.id)
    typed = names.check_name(c)
    if typed is None:
        return Decision("unlinked", f"shared room: {len(in_room)} reservations in house, no name on check")
    matching = [rid for rid, (s, _) in in_room.items() if typed in names.variants(s.guest_record_id)]
    if len(matching) == 1:
        rid = matching[0]
        return Decision(
            "linked", "shared room, name on check", "stay_name", CONF_STAY_NAME, rid, None, in_room[rid][0].id
        )
    return Decision(
        "unlinked", f"shared room: {len(in_room)} reservations in house, name matches {len(matching)}"
    )


def _same(row: Any, d: Decision, check_hash: bytes) -> bool:
    conf = Decimal(row.confidence).quantize(Decimal("0.001")) if row.confidence is not None else None
    return (
        row.status == d.status
        and row.reason == d.reason
        and row.method == d.method
        and conf == d.confidence
        and row.reservation_id == d.reservation_id
        and row.folio_line_id == d.folio_line_id
        and row.stay_id == d.stay_id
        and bytes(row.check_hash) == check_hash
    )


def link_pos_checks(conn: Connection, keyring: Keyring, *, window_days: int = WINDOW_DAYS) -> LinkResult:
    """Decide (again) the stay of every new, changed or recent check; write what changed."""
    out = LinkResult()
    checks, current = _checks_to_examine(conn, window_days)
    if not checks:
        return out
    by_day, resv = _folio_candidates(conn, checks)
    rooms = _stays_by_room(conn, checks)
    names = _Names(conn, keyring)
    now = utcnow()
    stale: list[str] = []
    rows: list[dict[str, Any]] = []
    for c in checks:
        d = decide(c, by_day, resv, rooms, names)
        out.evaluated += 1
        if d.status == "linked":
            out.linked += 1
        else:
            out.unlinked += 1
        old = current.get(c.id)
        if old is not None and _same(old, d, c.content_hash):
            continue
        out.changed += 1
        for rid in (old.reservation_id if old is not None else None, d.reservation_id):
            if rid is not None:
                out.affected_reservations.add(rid)
        if old is not None:
            stale.append(c.id)
        rows.append(
            {
                "check_id": c.id,
                "status": d.status,
                "method": d.method,
                "confidence": d.confidence,
                "reason": d.reason,
                "reservation_id": d.reservation_id,
                "folio_line_id": d.folio_line_id,
                "stay_id": d.stay_id,
                "check_hash": c.content_hash,
                "updated_at": now,
            }
        )
    for part in _chunks(stale):
        conn.execute(delete(pos_links).where(pos_links.c.check_id.in_(part)))
    if rows:
        conn.execute(insert(pos_links), rows)
    return out
