"""OPERA-like stays and folio postings and POS checks for linking tests (invented guests).

Hotel SHA01 in Shanghai (UTC+8); the business date under test is 2026-11-20.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from crmbridge.models import FolioLine, PosCheck, Reservation, Stay, validate_record

CST = timezone(timedelta(hours=8))
PMS = "opera"
POS = "simphony"


def local(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=CST)


GUESTS: dict[str, dict[str, Any]] = {
    "RSV-884201": {"given_name": "Wei", "surname": "Zhang", "local_name": "张伟", "phone": "138 0013 8000"},
    "RSV-884202": {"given_name": "Na", "surname": "Li", "local_name": "李娜", "phone": "139 0013 9001"},
    "RSV-884203": {"given_name": "Emma", "surname": "Schmidt", "phone": "+49 30 901820"},
    "RSV-884204": {"given_name": "Fang", "surname": "Wang", "local_name": "王芳", "phone": "137 0013 7002"},
    "RSV-884205": {"given_name": "Jie", "surname": "Chen", "local_name": "陈杰", "phone": "136 0013 6003"},
    "RSV-884206": {"given_name": "Lucas", "surname": "Martin", "phone": "+33 1 42 68 53 00"},
    "RSV-884207": {"given_name": "Min", "surname": "Zhao", "local_name": "赵敏", "phone": "135 0013 5004"},
    "RSV-884208": {"given_name": "Olivia", "surname": "Brown", "phone": "+44 20 7946 0958"},
}


def reservation(sid: str, arrival: str, departure: str, status: str = "in_house") -> Reservation:
    g = GUESTS[sid]
    guest = {
        "source": PMS,
        "source_id": f"PROFILE-{sid[-4:]}",
        "given_name": g["given_name"],
        "surname": g["surname"],
        "phones": [{"number": g["phone"]}],
        "updated_at": "2026-11-17T09:00:00+08:00",
    }
    if "local_name" in g:
        guest["local_name"] = g["local_name"]
    return validate_record(
        Reservation,
        {
            "source": PMS,
            "source_id": sid,
            "hotel_code": "SHA01",
            "status": status,
            "arrival": arrival,
            "departure": departure,
            "room_type": "DLK",
            "total": {"amount": "2376.00", "currency": "CNY"},
            "updated_at": "2026-11-17T09:00:00+08:00",
            "guest": guest,
        },
    )


def stay(
    sid: str,
    rsv: str,
    room: str,
    checked_in: datetime | None = None,
    checked_out: datetime | None = None,
) -> Stay:
    return Stay(
        source=PMS,
        source_id=sid,
        reservation_source_id=rsv,
        hotel_code="SHA01",
        room_number=room,
        checked_in_at=checked_in,
        checked_out_at=checked_out,
        updated_at=local(20, 9),
    )


def folio(sid: str, rsv: str, business_date: str, amount: str, check_number: int) -> FolioLine:
    return validate_record(
        FolioLine,
        {
            "source": PMS,
            "source_id": sid,
            "reservation_source_id": rsv,
            "hotel_code": "SHA01",
            "business_date": business_date,
            "transaction_code": "2010",
            "description": "Jade Garden 翡翠轩 F&B",
            "amount": {"amount": amount, "currency": "CNY"},
            "reference": f"CHK {check_number} RVC10",
            "updated_at": local(20, 23),
        },
    )


def check(
    number: int,
    *,
    closed: datetime,
    business_date: str = "2026-11-20",
    room: str | None = None,
    tender: str = "room",
    items: list[tuple[str, str, int, str]] | None = None,
    outlet: str = "Jade Garden 翡翠轩",
    guest_name: str | None = None,
    total: str | None = None,
) -> PosCheck:
    """``items``: (name, group, quantity, unit price). The tender pays the total."""
    items = items or [
        ("Tieguanyin Tea 铁观音", "Tea", 1, "68.00"),
        ("Xiaolongbao 小笼包", "Dim Sum 点心", 2, "42.00"),
    ]
    lines = [
        {
            "item_id": name[:12],
            "name": name,
            "group": group,
            "quantity": qty,
            "amount": {"amount": str(Decimal(price) * qty), "currency": "CNY"},
        }
        for name, group, qty, price in items
    ]
    amount = total or str(sum(Decimal(line["amount"]["amount"]) for line in lines))
    tname = {"room": "Room Charge 挂房账", "cash": "Cash 现金", "wechat": "WeChat Pay 微信支付"}[tender]
    return validate_record(
        PosCheck,
        {
            "source": POS,
            "source_id": f"LOC1:{160000 + number}",
            "hotel_code": "SHA01",
            "outlet": outlet,
            "outlet_id": "10",
            "check_number": str(number),
            "business_date": business_date,
            "opened_at": closed - timedelta(minutes=45),
            "closed_at": closed,
            "room_number": room,
            "total": {"amount": amount, "currency": "CNY"},
            "items": lines,
            "tenders": [
                {
                    "tender_id": tender,
                    "name": tname,
                    "amount": {"amount": amount, "currency": "CNY"},
                    "room_charge": tender == "room",
                }
            ],
            "guest_name": guest_name,
            "updated_at": closed,
        },
    )


def seed_hotel(store: Any) -> None:
    """Six reservations: a shared room, a room move, a departure and next day's arrival."""
    with store.transaction() as w:
        w.upsert_reservations(
            [
                reservation("RSV-884201", "2026-11-18", "2026-11-21"),  # 1808, leaves 21st
                reservation("RSV-884202", "2026-11-19", "2026-11-22"),  # 1505, shares
                reservation("RSV-884203", "2026-11-19", "2026-11-22"),  # 1505, shares
                reservation("RSV-884204", "2026-11-18", "2026-11-22"),  # 1203 -> 2206 on the 20th
                reservation("RSV-884205", "2026-11-21", "2026-11-23", status="confirmed"),  # 1808 next
                reservation("RSV-884206", "2026-11-20", "2026-11-22"),  # 1203 after the move
            ]
        )
        w.upsert_stays(
            [
                stay("STAY-884201", "RSV-884201", "1808", local(18, 15, 2), local(21, 11, 30)),
                stay("STAY-884202", "RSV-884202", "1505", local(19, 16)),
                stay("STAY-884203", "RSV-884203", "1505", local(19, 16, 5)),
                stay("STAY-884204-1", "RSV-884204", "1203", local(18, 14), local(20, 10)),
                stay("STAY-884204-2", "RSV-884204", "2206", local(20, 10)),
                stay("STAY-884206", "RSV-884206", "1203", local(20, 16)),
                # Room pre-assigned to tomorrow's arrival: no times yet, only dates.
                stay("STAY-884205", "RSV-884205", "1808"),
            ]
        )
