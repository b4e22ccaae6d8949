"""Fliggy orders to canonical reservations: TOP ``XHotelOrder`` objects and direct-connect bookings.

Money arrives in fen (分) and becomes Decimal CNY; times arrive as GMT+8 wall-clock strings;
trade statuses become canonical reservation statuses. Problems are reported by field name only,
never by value, because the values are guest PII.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crmbridge.api import ReservationStatus

CHANNEL = "FLIGGY"

# Fliggy hotel trade statuses (taobao.xhotel.order.search ``trade_status``).
TRADE_STATUS: dict[str, ReservationStatus] = {
    "WAIT_BUYER_PAY": ReservationStatus.PENDING,
    "TRADE_NO_CREATE_PAY": ReservationStatus.PENDING,
    "WAIT_SELLER_SEND_GOODS": ReservationStatus.PENDING,  # paid, awaiting the hotel's confirmation
    "TRADE_SUCCESS": ReservationStatus.CONFIRMED,
    "TRADE_CHECKIN": ReservationStatus.IN_HOUSE,
    "TRADE_CHECKOUT": ReservationStatus.CHECKED_OUT,
    "TRADE_SETTLEING": ReservationStatus.CHECKED_OUT,  # sic: TOP's spelling
    "TRADE_SETTLE_SUCCESS": ReservationStatus.CHECKED_OUT,
    "TRADE_FINISHED": ReservationStatus.CHECKED_OUT,
    "TRADE_CLOSED": ReservationStatus.CANCELLED,
    "TRADE_CLOSED_BY_TAOBAO": ReservationStatus.CANCELLED,
}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_FEN = re.compile(r"-?\d+")


class Unmappable(ValueError):
    """An order that cannot become a canonical record; the message names fields, not values."""


def fen_to_cny(value: Any, field: str) -> Decimal:
    """An amount in fen (integer, or an integer string) as Decimal yuan: 63850 -> 638.50."""
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and _FEN.fullmatch(value.strip()))
    ):
        raise Unmappable(f"{field}: not an amount in fen")
    return Decimal(int(value)).scaleb(-2)


def items(value: Any) -> list[Any]:
    """A TOP list, plain (``simplify=true``) or wrapped by item type (``{"x_order_guest": [...]}``)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        return inner if isinstance(inner, list) else [inner]
    raise Unmappable("list field has an unexpected shape")


def split_name(name: str) -> dict[str, str]:
    """A guest name as Fliggy carries it: Han characters, ``SURNAME/GIVEN`` or ``Given Surname``."""
    n = " ".join(name.split())
    if not n:
        return {}
    if _CJK.search(n):
        return {"local_name": n}
    if "/" in n:
        surname, _, given = n.partition("/")
        out = {"surname": surname.strip()}
        if given.strip():
            out["given_name"] = given.strip()
        return out
    parts = n.split(" ")
    if len(parts) == 1:
        return {"surname": n}
    return {"given_name": " ".join(parts[:-1]), "surname": parts[-1]}


def iso_from_top(text: Any) -> Any:
    """``2026-11-20 10:00:00`` (GMT+8) as ISO with its offset; anything else is left for validation."""
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text.strip()):
        s = text.strip()
        return f"{s[:10]}T{s[11:]}+08:00"
    return text


def day(text: Any) -> Any:
    """A check-in/out day, which TOP sometimes sends with a midnight time attached."""
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?", text.strip()):
        return text.strip()[:10]
    return text


def _phones(raw: Any) -> list[dict[str, str]]:
    # Fliggy masks numbers for some sellers (138****8000): that is not a phone to match on.
    if not isinstance(raw, str) or not raw.strip() or "*" in raw:
        return []
    return [{"number": raw.strip()}]


def _guest(
    source: str, order_id: str, names: list[Any], contact: Any, phone: Any, email: Any, ts: Any
) -> dict[str, Any]:
    guest: dict[str, Any] = {"source": source, "source_id": f"order:{order_id}", "updated_at": ts}
    primary = next((n for n in names if isinstance(n, str) and n.strip()), None)
    if primary is None and isinstance(contact, str):
        primary = contact
    if primary:
        guest.update(split_name(primary))
    guest["phones"] = _phones(phone)
    if isinstance(email, str) and email.strip() and "*" not in email:
        guest["emails"] = [{"address": email.strip()}]
    return guest


def order_id(order: Mapping[str, Any]) -> str:
    tid = order.get("tid")
    if tid is None or isinstance(tid, bool) or not str(tid).strip().isdigit():
        raise Unmappable("tid: missing or not a Fliggy trade id")
    return str(tid).strip()


def map_order(order: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """One ``XHotelOrder`` (taobao.xhotel.order.search) as canonical reservation data.

    Raises ``Unmappable`` for what validation cannot name (no tid, an unknown status, money
    that is not fen); dates and names are left to the canonical model's validation.
    """
    tid = order_id(order)
    if order.get("hid") in (None, ""):
        raise Unmappable("hid: missing")
    status_word = str(order.get("trade_status") or "")
    if status_word not in TRADE_STATUS:
        raise Unmappable("trade_status: not a Fliggy trade status")
    ts = iso_from_top(order.get("modified") or order.get("created"))
    guests = [g for g in items(order.get("guests")) if isinstance(g, dict)]
    guests.sort(key=lambda g: (str(g.get("room_pos", "")), str(g.get("person_pos", ""))))
    amount_field = "total_room_price" if order.get("total_room_price") not in (None, "") else "payment"
    res: dict[str, Any] = {
        "source": source,
        "source_id": tid,
        "hotel_code": str(order.get("hid") or ""),
        "status": TRADE_STATUS[status_word],
        "channel": CHANNEL,
        "arrival": day(order.get("checkin_date")),
        "departure": day(order.get("checkout_date")),
        "adults": max(1, len(guests)),
        "updated_at": ts,
        "created_at": iso_from_top(order.get("created")),
        "guest": _guest(
            source,
            tid,
            [g.get("name") for g in guests],
            order.get("contact_name"),
            order.get("contact_phone"),
            None,
            ts,
        ),
    }
    if order.get(amount_field) not in (None, ""):
        res["total"] = {"amount": fen_to_cny(order[amount_field], amount_field), "currency": "CNY"}
    for key, field in (("rid", "room_type"), ("rpid", "rate_code")):
        if order.get(key) not in (None, ""):
            res[field] = str(order[key])
    if order.get("out_oid"):
        res["confirmation_numbers"] = [str(order["out_oid"])]
    if isinstance(order.get("message"), str) and order["message"].strip():
        res["special_requests"] = [order["message"].strip()]
    return res


def map_booking(
    book: Mapping[str, Any], *, source: str, status: ReservationStatus, updated_at: str
) -> dict[str, Any]:
    """A direct-connect ``BookRQ`` (parsed to a dict by ``push.parse``) as canonical data."""
    tid = str(book.get("TaoBaoOrderId") or "").strip()
    if not tid.isdigit():
        raise Unmappable("TaoBaoOrderId: missing or not a Fliggy order id")
    if not (book.get("HotelId") or book.get("TaoBaoHotelId")):
        raise Unmappable("HotelId: missing")
    currency = str(book.get("Currency") or "CNY").strip().upper()
    res: dict[str, Any] = {
        "source": source,
        "source_id": tid,
        "hotel_code": str(book.get("HotelId") or book.get("TaoBaoHotelId") or ""),
        "status": status,
        "channel": CHANNEL,
        "arrival": day(book.get("CheckIn")),
        "departure": day(book.get("CheckOut")),
        "adults": max(1, len(book.get("guests") or [])),
        "updated_at": updated_at,
        "guest": _guest(
            source,
            tid,
            list(book.get("guests") or []),
            book.get("ContactName"),
            book.get("ContactTel"),
            book.get("ContactEmail"),
            updated_at,
        ),
    }
    if book.get("TotalPrice") not in (None, ""):
        res["total"] = {"amount": fen_to_cny(book["TotalPrice"], "TotalPrice"), "currency": currency}
    for key, field in (("RoomTypeId", "room_type"), ("RatePlanCode", "rate_code")):
        if book.get(key):
            res[field] = str(book[key])
    if book.get("Comment"):
        res["special_requests"] = [str(book["Comment"])]
    return res
