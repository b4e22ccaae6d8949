"""Invented guests and reservations for the demo, tests and benchmarks. No real person.

Names are drawn from common Chinese surnames/given names (rendered in Han characters and in
passport-style pinyin) and common Latin names; phones sit in number ranges reserved for
fiction or drama where they exist (e.g. +1 555-01xx), otherwise random.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from .adapters.file import CSV_COLUMNS

CN_SURNAMES = [("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"),
               ("杨", "YANG"), ("黄", "HUANG"), ("赵", "ZHAO"), ("吴", "WU"), ("周", "ZHOU"),
               ("徐", "XU"), ("孙", "SUN"), ("马", "MA"), ("朱", "ZHU"), ("胡", "HU")]  # fmt: skip
CN_GIVEN = [("伟", "WEI"), ("芳", "FANG"), ("娜", "NA"), ("敏", "MIN"), ("静", "JING"),
            ("丽", "LI"), ("强", "QIANG"), ("磊", "LEI"), ("洋", "YANG"), ("艳", "YAN"),
            ("晓明", "XIAOMING"), ("婷婷", "TINGTING"), ("建华", "JIANHUA"), ("子涵", "ZIHAN")]  # fmt: skip
LATIN = [("Emma", "Schmidt", "DE"), ("Lucas", "Martin", "FR"), ("Olivia", "Brown", "GB"),
         ("Noah", "Miller", "US"), ("Sakura", "Tanaka", "JP"), ("Min-jun", "Kim", "KR"),
         ("Isabella", "Rossi", "IT"), ("Liam", "Wilson", "AU")]  # fmt: skip
PREFS = ["ROOM:HIGH_FLOOR", "ROOM:QUIET", "BED:KING", "BED:TWIN", "PILLOW:BUCKWHEAT",
         "DIET:VEGETARIAN", "DIET:NO_PORK", "ALLERGY:PEANUT", "ROOM:NON_SMOKING"]  # fmt: skip
REQUESTS = ["late arrival around 23:00", "晚到，请保留房间", "need a crib", "高楼层，远离电梯",
            "airport pickup", "anniversary - quiet room please"]  # fmt: skip
ROOM_TYPES = ["DLK", "DLT", "EXK", "STE"]
RATES = ["BAR", "CORP", "PKG", "OTA"]
CHANNELS = ["DIRECT", "CTRIP", "FLIGGY", "BOOKING", "CORPORATE"]


@dataclass
class Person:
    given: str
    surname: str
    local: str | None
    email: str
    phone: str  # as a guest would type it
    birth: date
    nationality: str
    id_number: str


def invent_person(rng: random.Random, n: int) -> Person:
    if rng.random() < 0.7:
        (sc, sp), (gc, gp) = rng.choice(CN_SURNAMES), rng.choice(CN_GIVEN)
        mobile = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        phone = rng.choice([mobile, f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"0086{mobile}"])
        return Person(
            gp.title(),
            sp.title(),
            sc + gc,
            f"{gp.lower()}.{sp.lower()}{n}@example.cn",
            phone,
            date(1960, 1, 1) + timedelta(days=rng.randrange(16000)),
            "CN",
            f"1101011{rng.randrange(10**10):010d}X",
        )
    given, surname, nat = rng.choice(LATIN)
    return Person(
        given,
        surname,
        None,
        f"{given.lower()}.{surname.lower()}{n}@example.com",
        f"+1 ({rng.choice(['212', '415', '646'])}) 555-01{rng.randrange(100):02d}",
        date(1960, 1, 1) + timedelta(days=rng.randrange(16000)),
        nat,
        f"P{rng.randrange(10**8):08d}",
    )


def reservation_row(
    rng: random.Random,
    sid: str,
    p: Person,
    *,
    hotel: str,
    arrival: date,
    updated: datetime,
    nights: int | None = None,
) -> dict[str, str]:
    nights = nights or rng.choice([1, 1, 2, 2, 3, 4, 7])
    adults = rng.choice([1, 1, 2, 2, 2, 3])
    return {
        "source_id": sid,
        "hotel_code": hotel,
        "status": rng.choice(["Reserved", "Reserved", "Checked Out", "Cancelled", "In House"]),
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=nights)).isoformat(),
        "room_type": rng.choice(ROOM_TYPES),
        "rate_code": rng.choice(RATES),
        "adults": str(adults),
        "children": str(rng.choice([0, 0, 0, 1, 2])),
        "total_amount": f"{nights * rng.randrange(480, 2600)}.00",
        "currency": "CNY",
        "channel": rng.choice(CHANNELS),
        "given_name": p.given,
        "surname": p.surname,
        "local_name": p.local or "",
        "email": p.email if rng.random() < 0.8 else "",
        "phone": p.phone,
        "birth_date": p.birth.isoformat() if rng.random() < 0.6 else "",
        "id_type": ("ID_CARD" if p.nationality == "CN" else "PASSPORT"),
        "id_number": p.id_number if rng.random() < 0.5 else "",
        "preferences": ";".join(rng.sample(PREFS, rng.choice([0, 0, 1, 2]))),
        "special_requests": rng.choice(["", "", "", *REQUESTS]),
        "updated_at": updated.isoformat(),
    }


def generate_rows(
    n: int, *, seed: int = 7, hotel: str = "SHA01", repeat_rate: float = 0.25, prefix: str = "R"
) -> Iterator[dict[str, str]]:
    """n reservation rows; about `repeat_rate` of them belong to an earlier guest."""
    rng = random.Random(seed)
    people: list[Person] = []
    start = date(2025, 1, 1)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(n):
        if people and rng.random() < repeat_rate:
            p = rng.choice(people)
        else:
            p = invent_person(rng, i)
            if len(people) < 50_000:  # bounded: memory flat in n
                people.append(p)
        arrival = start + timedelta(days=i * 700 // max(n, 1))
        yield reservation_row(
            rng, f"{prefix}{i:07d}", p, hotel=hotel, arrival=arrival, updated=t0 + timedelta(seconds=i)
        )


def write_csv(path: Path, rows: Iterator[dict[str, str]] | list[dict[str, str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        w.writeheader()
        for row in rows:
            w.writerow(row)
            n += 1
    return n


@dataclass(frozen=True)
class RoomCharge:
    """A restaurant check charged to a room, as the demo's POS and PMS both know it.

    In a hotel the POS interface posts each room charge to the guest's folio with the check
    number in the posting's reference; the demo's two simulators agree on these instead."""

    check_number: int
    business_date: date
    room: str
    amount: Decimal
    closed_at: datetime


DEMO_CHARGE_ROOMS = ("1203", "1505", "1808", "2206", "0918", "1112", "1416", "2021")


def demo_room_charges(today: date, seed: int = 7) -> list[RoomCharge]:
    """Eight room charges over the three business days up to `today`, each in its own room."""
    rng = random.Random(seed)
    out = []
    for i, room in enumerate(DEMO_CHARGE_ROOMS):
        day = today - timedelta(days=2 - i % 3)
        closed = datetime(day.year, day.month, day.day, 11, 20, tzinfo=UTC) + timedelta(
            minutes=rng.randint(0, 480)
        )
        amount = Decimal(rng.randrange(120, 900)).quantize(Decimal("0.01"))
        out.append(RoomCharge(4101 + i, day, room, amount, closed))
    return out
