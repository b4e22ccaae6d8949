"""Invented OPERA 5 data for the OWS simulator, kept in a plain form the simulator renders.

No real person: names come from `crmbridge.synthetic` (Han characters with pinyin, Latin
names), phones from fiction ranges, e-mails on example domains, amounts in CNY.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from crmbridge.synthetic import CHANNELS, PREFS, RATES, REQUESTS, ROOM_TYPES, invent_person

TIERS = ["GOLD", "PLATINUM", "BLACK", "RED", "DIAMOND"]
RATE_CNY = {
    "DLK": Decimal("888.00"),
    "DLT": Decimal("888.00"),
    "EXK": Decimal("1288.00"),
    "STE": Decimal("2688.00"),
}
SHANGHAI = timedelta(hours=8)


@dataclass
class SimPreference:
    type: str
    value: str
    description: str
    insert_user: str = "FRONTDESK"


@dataclass
class SimComment:
    id: int
    title: str
    type: str
    text: str
    insert_user: str = "FRONTDESK"


@dataclass
class SimProfile:
    pid: str
    first: str
    last: str
    native: str | None
    gender: str
    birth: date
    nationality: str
    language: str
    phone: str
    email: str
    vip: str | None = None
    memberships: list[tuple[str, str, str, float]] = field(default_factory=list)  # type, no, level, points
    preferences: list[SimPreference] = field(default_factory=list)
    comments: list[SimComment] = field(default_factory=list)
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class SimBillItem:
    no: int
    day: date
    code: str
    description: str
    amount: Decimal
    reference: str | None = None


@dataclass
class SimReservation:
    rid: str
    conf: str
    pid: str
    status: str  # RESERVED, INHOUSE, CHECKEDOUT, CANCELED, NOSHOW
    arrival: date
    departure: date
    room_type: str
    rate_code: str
    source: str
    adults: int
    children: int
    total: Decimal
    created: datetime
    updated: datetime
    room: str | None = None
    specials: list[str] = field(default_factory=list)
    checked_in: datetime | None = None
    checked_out: datetime | None = None
    folio: list[SimBillItem] = field(default_factory=list)


def make_profile(rng: random.Random, n: int, pid: str, modified: datetime) -> SimProfile:
    p = invent_person(rng, n)
    prof = SimProfile(
        pid, p.given, p.surname, p.local, rng.choice(["M", "F"]), p.birth, p.nationality,
        "C" if p.nationality == "CN" else "E", p.phone, p.email, updated=modified,
    )  # fmt: skip
    for pref in rng.sample(PREFS, rng.randrange(0, 3)):
        group, code = pref.split(":")
        prof.preferences.append(SimPreference(group, code, code.replace("_", " ").title()))
    if rng.random() < 0.4:
        level = rng.choice(TIERS)
        prof.memberships.append(
            ("HCC", f"88{rng.randrange(10**8):08d}", level, float(rng.randrange(100, 90000)))
        )
        if level in ("BLACK", "RED", "DIAMOND"):
            prof.vip = "VIP1"
    return prof


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    """A hotel-local wall time in Shanghai, as UTC."""
    return datetime.combine(d, time(hour, minute), tzinfo=UTC) - SHANGHAI


def make_reservation(
    rng: random.Random, rid: str, conf: str, profile: SimProfile, arrival: date, today: date
) -> SimReservation:
    nights = rng.randrange(1, 5)
    departure = arrival + timedelta(days=nights)
    room_type = rng.choice(ROOM_TYPES)
    if departure <= today:
        status = "CHECKEDOUT" if rng.random() > 0.12 else rng.choice(["CANCELED", "NOSHOW"])
    elif arrival <= today:
        status = "INHOUSE"
    else:
        status = "RESERVED" if rng.random() > 0.08 else "CANCELED"
    res = SimReservation(
        rid, conf, profile.pid, status, arrival, departure, room_type, rng.choice(RATES),
        rng.choice(CHANNELS), rng.choice([1, 2, 2]), rng.choice([0, 0, 0, 1]),
        RATE_CNY[room_type] * nights, _at(arrival - timedelta(days=rng.randrange(1, 60)), 12),
        _at(min(arrival, today) - timedelta(days=1), 14),
    )  # fmt: skip
    if rng.random() < 0.3:
        res.specials.append(rng.choice(REQUESTS))
    if status in ("INHOUSE", "CHECKEDOUT"):
        res.room = f"{rng.randrange(5, 30)}{rng.randrange(1, 40):02d}"
        res.checked_in = _at(arrival, rng.randrange(13, 23), rng.randrange(60))
        if status == "CHECKEDOUT":
            res.checked_out = _at(departure, rng.randrange(7, 12), rng.randrange(60))
        res.folio = make_folio(rng, res, today)
    return res


def make_folio(rng: random.Random, res: SimReservation, today: date) -> list[SimBillItem]:
    items, n, d = [], 1, res.arrival
    rate = RATE_CNY[res.room_type]
    while d < min(res.departure, today + timedelta(days=1)):
        items.append(SimBillItem(n, d, "1000", "Room Charge", rate))
        n += 1
        if rng.random() < 0.5:
            amount = Decimal(rng.randrange(80, 900)).quantize(Decimal("0.01"))
            items.append(SimBillItem(n, d, "2010", "Restaurant 餐厅", amount, f"CHK-{rng.randrange(10000)}"))
            n += 1
        d += timedelta(days=1)
    return items
