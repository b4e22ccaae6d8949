"""OTA reservation XML (as Ctrip sends it) to the canonical Reservation with its guest.

Lenient: every field is looked up where Ctrip or the 2015B schema puts it, in any namespace.
Ctrip's own service desk appears as ContactPerson; it is never taken as the guest's contact,
or every Ctrip guest would share one phone number and be merged into one person.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from crmbridge.api import Email, normalise_phone

from .messages import BadRequest
from .safexml import attr, text

CHINA = timezone(timedelta(hours=8))  # Ctrip writes local times without an offset
CHANNEL = "CTRIP"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_GENDERS = {"male": "male", "m": "male", "female": "female", "f": "female"}
ADULT, CHILD = "10", "8"


def _first(el: etree._Element, *paths: str) -> etree._Element | None:
    for path in paths:
        found = el.find(path)
        if found is not None:
            return found
    return None


def parse_day(value: str | None, field: str) -> date:
    """`2026-12-01`, `2026-12-01 0:00:00` or `2026-12-01T00:00:00+08:00` to a date."""
    if not value:
        raise BadRequest(f"{field} is missing")
    try:
        return date.fromisoformat(re.split(r"[ T]", value.strip(), maxsplit=1)[0])
    except ValueError:
        raise BadRequest(f"{field} is not a date") from None


def parse_time(value: str | None) -> datetime | None:
    """An OTA TimeStamp; naive times are China time. None when absent or unreadable."""
    if not value:
        return None
    v = value.strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}(:\d{2})?", v):
        v = v.replace(" ", "T")
    try:
        ts = datetime.fromisoformat(v)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=CHINA)


def _amount(el: etree._Element | None) -> dict[str, str] | None:
    if el is None:
        return None
    raw = attr(el, "AmountAfterTax") or attr(el, "AmountBeforeTax")
    if raw is None:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise BadRequest("Total AmountAfterTax is not a number") from None
    return {"amount": str(amount), "currency": attr(el, "CurrencyCode") or "CNY"}


def _nightly_total(res: etree._Element) -> dict[str, str] | None:
    """Sum of the nightly Base amounts times rooms, when Ctrip sends no Total."""
    total, currency = Decimal(0), None
    for rate in res.iterfind("{*}RoomStays/{*}RoomStay/{*}RoomRates/{*}RoomRate"):
        units = int(attr(rate, "NumberOfUnits") or 1)
        for base in rate.iterfind("{*}Rates/{*}Rate/{*}Base"):
            part = _amount(base)
            if part is None:
                continue
            if currency not in (None, part["currency"]):
                return None  # mixed currencies: no honest single total
            currency = part["currency"]
            total += Decimal(part["amount"]) * units
    return {"amount": str(total), "currency": currency} if currency else None


def has_han(value: str | None) -> bool:
    return bool(value and _HAN.search(value))


def names(customer: etree._Element) -> dict[str, str]:
    """Name fields from every PersonName: Chinese characters to local_name, Latin script
    (pinyin included) to given_name/surname. `ZHANG/WEI` in Surname is surname/given."""
    out: dict[str, str] = {}
    for pn in customer.iterfind("{*}PersonName"):
        given = " ".join(t for g in pn.iterfind("{*}GivenName") if (t := text(g))) or None
        middle = " ".join(t for m in pn.iterfind("{*}MiddleName") if (t := text(m))) or None
        surname = text(pn.find("{*}Surname"))
        if has_han(surname) or has_han(given):
            # Chinese order, no space: 张 + 伟 -> 张伟
            out.setdefault("local_name", "".join(p for p in (surname, given) if p))
            continue
        if surname and not given and "/" in surname:
            surname, _, given = (p.strip() for p in surname.partition("/"))
        if given and middle:
            given = f"{given} {middle}"
        if surname:
            out.setdefault("surname", surname)
        if given:
            out.setdefault("given_name", given)
    return out


def _contacts(customer: etree._Element, phone_region: str) -> dict[str, Any]:
    """The guest's own phones and e-mails (direct children of Customer only); a malformed
    value is dropped rather than losing the booking over it."""
    phones, emails = [], []
    for tel in customer.iterfind("{*}Telephone"):
        number = attr(tel, "PhoneNumber")
        if number:
            with contextlib.suppress(ValueError):
                phones.append({"number": normalise_phone(number, phone_region)})
    for em in customer.iterfind("{*}Email"):
        address = text(em)
        if address:
            with contextlib.suppress(ValueError):
                emails.append({"address": Email(address=address).address})
    return {"phones": phones, "emails": emails}


def _guest(res: etree._Element, source: str, order_id: str, phone_region: str) -> dict[str, Any] | None:
    customers = res.findall("{*}ResGuests/{*}ResGuest/{*}Profiles/{*}ProfileInfo/{*}Profile/{*}Customer")
    if not customers:
        return None
    primary = customers[0]  # the first ResGuest is the booker Ctrip names on the order
    guest: dict[str, Any] = {"source": source, "source_id": f"guest:{order_id}", **names(primary)}
    guest.update(_contacts(primary, phone_region))
    gender = _GENDERS.get((attr(primary, "Gender") or "").lower())
    if gender:
        guest["gender"] = gender
    birth = attr(primary, "BirthDate")
    if birth:
        # A malformed birth date is not worth losing the booking over.
        with contextlib.suppress(ValueError):
            guest["birth_date"] = date.fromisoformat(birth[:10]).isoformat()
    return guest


def _requests(res: etree._Element) -> list[str]:
    found = [
        t
        for path in (
            "{*}ResGlobalInfo/{*}SpecialRequests/{*}SpecialRequest/{*}Text",
            "{*}RoomStays/{*}RoomStay/{*}SpecialRequests/{*}SpecialRequest/{*}Text",
            "{*}RoomStays/{*}RoomStay/{*}Comments/{*}Comment/{*}Text",
            "{*}ResGlobalInfo/{*}Comments/{*}Comment/{*}Text",
        )
        for el in res.iterfind(path)
        if (t := text(el))
    ]
    return list(dict.fromkeys(found))


def _counts(res: etree._Element) -> dict[str, int]:
    counts = res.findall("{*}ResGlobalInfo/{*}GuestCounts/{*}GuestCount") or res.findall(
        "{*}RoomStays/{*}RoomStay/{*}GuestCounts/{*}GuestCount"
    )
    adults = children = 0
    for gc in counts:
        try:
            n = int(attr(gc, "Count") or 0)
        except ValueError:
            raise BadRequest("GuestCount Count is not a number") from None
        if attr(gc, "AgeQualifyingCode") == CHILD:
            children += n
        else:
            adults += n
    return {"adults": adults, "children": children} if counts else {}


def reservation_data(
    res: etree._Element,
    *,
    source: str,
    order_id: str,
    hotel_code: str,
    phone_region: str,
    cancelled: bool = False,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """One HotelReservation (or HotelResModify) to the canonical reservation shape."""
    span = _first(res, "{*}ResGlobalInfo/{*}TimeSpan", "{*}RoomStays/{*}RoomStay/{*}TimeSpan")
    room_type = _first(res, "{*}RoomStays/{*}RoomStay/{*}RoomTypes/{*}RoomType")
    rate_plan = _first(
        res,
        "{*}RoomStays/{*}RoomStay/{*}RatePlans/{*}RatePlan",
        "{*}RoomStays/{*}RoomStay/{*}RoomRates/{*}RoomRate",
    )
    total = _amount(_first(res, "{*}ResGlobalInfo/{*}Total", "{*}RoomStays/{*}RoomStay/{*}Total"))
    data: dict[str, Any] = {
        "source": source,
        "source_id": order_id,
        "hotel_code": hotel_code,
        "confirmation_numbers": [order_id],
        "status": "cancelled" if cancelled else "confirmed",
        "channel": CHANNEL,
        "arrival": parse_day(attr(span, "Start"), "TimeSpan Start").isoformat(),
        "departure": parse_day(attr(span, "End"), "TimeSpan End").isoformat(),
        "room_type": attr(room_type, "RoomTypeCode"),
        "rate_code": attr(rate_plan, "RatePlanCode"),
        "total": total or _nightly_total(res),
        "special_requests": _requests(res),
        "created_at": (parse_time(attr(res, "CreateDateTime")) or created_at),
        "updated_at": updated_at,
        **_counts(res),
    }
    guest = _guest(res, source, order_id, phone_region)
    if guest is not None:
        guest["updated_at"] = updated_at
        data["guest"] = guest
    return {k: v for k, v in data.items() if v is not None}
