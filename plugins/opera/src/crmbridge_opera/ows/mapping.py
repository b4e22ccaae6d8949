"""OWS objects (as zeep parses them) <-> canonical dicts: reservations, profiles, stays, folios.

The functions build plain dicts in the canonical shape; `validate_into` then validates them
or files them under the batch's rejects. OWS carries amounts as xs:double: they are turned
into exact decimals at the amount's own number of decimals (2 unless it says otherwise).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from zeep.helpers import serialize_object

STATUS = {
    "RESERVED": "confirmed", "CHANGED": "confirmed", "PRECHECKEDIN": "confirmed", "PROSPECT": "pending",
    "WAITLISTED": "pending", "INHOUSE": "in_house", "DUEOUT": "in_house", "CHECKEDOUT": "checked_out",
    "CANCELED": "cancelled", "NOSHOW": "no_show",
}  # fmt: skip
STAYED = {"in_house", "checked_out"}
GENDER = {"MALE": "male", "M": "male", "FEMALE": "female", "F": "female"}
LANGUAGE = {"C": "zh", "E": "en", "J": "ja", "K": "ko"}  # OPERA 5 single-letter language codes
RESV_ID = "RESVID"


def plain(obj: Any) -> Any:
    """A zeep object as plain dicts and lists (for hashing and quarantine)."""
    return serialize_object(obj, dict)


def _g(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def _list(obj: Any, *path: str) -> list[Any]:
    got = _g(obj, *path)
    return list(got) if isinstance(got, list) else ([got] if got is not None else [])


def _v(obj: Any) -> str | None:
    if obj is None:
        return None
    value = _g(obj, "_value_1") if not isinstance(obj, str) else obj
    return str(value).strip() or None if value is not None else None


def content_hash(hr: Any) -> str:
    """A stable hash of a reservation summary: equal content, equal hash."""
    raw = json.dumps(plain(hr), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def reservation_ids(hr: Any) -> tuple[str | None, list[str]]:
    """(resv_name_id, confirmation numbers) from a HotelReservation's UniqueIDList."""
    rid, confs = None, []
    for u in _list(hr, "UniqueIDList", "UniqueID"):
        value = _v(u)
        if not value:
            continue
        if _g(u, "source") == RESV_ID:
            rid = value
        elif _g(u, "type") == "INTERNAL":
            confs.append(value)
    return rid, confs


def profile_id(hr: Any) -> str | None:
    for guest in _list(hr, "ResGuests", "ResGuest"):
        for prof in _list(guest, "Profiles", "Profile"):
            for u in _list(prof, "ProfileIDs", "UniqueID"):
                if _g(u, "type") == "INTERNAL" and _v(u):
                    return _v(u)
    return None


def status_of(hr: Any) -> str:
    raw = _g(hr, "computedReservationStatus") or _g(hr, "reservationStatus") or "RESERVED"
    return STATUS.get(str(raw), "confirmed")


def money(amount: Any) -> dict[str, Any] | None:
    if amount is None or _g(amount, "_value_1") is None:
        return None
    places = _g(amount, "decimals")
    quantum = Decimal(1).scaleb(-int(places if places is not None else 2))
    return {
        "amount": Decimal(repr(float(amount["_value_1"]))).quantize(quantum),
        "currency": _g(amount, "currencyCode") or "CNY",
    }


def _day(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None


def _utc(value: Any) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return None


def _texts(paragraphs: Any) -> list[str]:
    out = []
    for p in paragraphs:
        for choice in _g(p, "_value_1") or ():
            text = _v(choice.get("Text")) if isinstance(choice, dict) else None
            if text:
                out.append(text)
    return out


def map_reservation(hr: Any, *, source: str, hotel: str, guest: dict[str, Any] | None) -> dict[str, Any]:
    rid, confs = reservation_ids(hr)
    stay = (_list(hr, "RoomStays", "RoomStay") or [None])[0]
    counts = {
        str(_g(c, "ageQualifyingCode")): _g(c, "count") for c in _list(stay, "GuestCounts", "GuestCount")
    }
    guests = _list(hr, "ResGuests", "ResGuest")
    res: dict[str, Any] = {
        "source": source,
        "source_id": rid or "",
        "hotel_code": _g(stay, "HotelReference", "hotelCode") or hotel,
        "confirmation_numbers": confs,
        "status": status_of(hr),
        "arrival": _day(_g(stay, "TimeSpan", "StartDate")),
        "departure": _day(_g(stay, "TimeSpan", "EndDate")),
        "room_type": _g((_list(stay, "RoomTypes", "RoomType") or [None])[0], "roomTypeCode"),
        "rate_code": _g((_list(stay, "RatePlans", "RatePlan") or [None])[0], "ratePlanCode"),
        "channel": _g(hr, "sourceCode"),
        "adults": counts.get("ADULT", 1) if counts.get("ADULT") is not None else 1,
        "children": counts.get("CHILD") or 0,
        "total": money(_g(stay, "Total")),
        "special_requests": [
            t for g in guests for t in _texts(_list(g, "SpecialRequests", "SpecialRequest"))
        ],
        "created_at": _utc(_g(hr, "insertDate")),
        "updated_at": _utc(_g(hr, "updateDate")),
    }
    if guest is not None:
        res["guest"] = guest
    return {k: v for k, v in res.items() if v is not None}


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def map_profile(prof: Any, *, source: str, profile_id: str, own_user: str | None = None) -> dict[str, Any]:
    """A `Profile` (FetchProfile). Items inserted by `own_user` (crmbridge's OWS user) are left
    out: they are what crmbridge wrote back, not evidence about the guest."""
    cust = _g(prof, "Customer")
    out: dict[str, Any] = {
        "source": source,
        "source_id": profile_id,
        "updated_at": _utc(_g(prof, "updateDate")),
    }
    given, surname = _g(cust, "PersonName", "firstName") or "", _g(cust, "PersonName", "lastName") or ""
    if given or surname:
        if _is_latin(given + surname):
            out.update({k: v.strip() for k, v in (("given_name", given), ("surname", surname)) if v.strip()})
        else:
            out["local_name"] = (surname + given).strip()
    native = _g(cust, "NativeName")
    if native is not None and "local_name" not in out:
        local = ((_g(native, "lastName") or "") + (_g(native, "firstName") or "")).strip()
        if local:
            out["local_name"] = local
    if _g(cust, "gender"):
        out["gender"] = GENDER.get(str(cust["gender"]).upper(), "unknown")
    if _day(_g(cust, "birthDate")):
        out["birth_date"] = _day(cust["birthDate"])
    if _g(prof, "nationality"):
        out["nationality"] = prof["nationality"]
    if _g(prof, "languageCode"):
        out["language"] = LANGUAGE.get(str(prof["languageCode"]).upper(), str(prof["languageCode"]).lower())
    out["emails"] = [
        {"address": _v(e), "kind": "personal"} for e in _list(prof, "EMails", "NameEmail") if _v(e)
    ]
    out["phones"] = [
        {"number": _g(p, "PhoneNumber"), "kind": str(_g(p, "phoneType") or "mobile").lower()}
        for p in _list(prof, "Phones", "NamePhone")
        if _g(p, "PhoneNumber")
    ]
    out["memberships"] = [
        {
            "program": _g(m, "membershipType"),
            "number": _g(m, "membershipNumber"),
            "tier": _g(m, "membershipLevel"),
            "points": None if _g(m, "currentPoints") is None else Decimal(repr(float(m["currentPoints"]))),
        }
        for m in _list(prof, "Memberships", "NameMembership")
        if _g(m, "membershipType") and not _g(m, "inactive")
    ]
    out["preferences"] = [
        {
            "category": _g(p, "preferenceType"),
            "code": _g(p, "preferenceValue"),
            "value": " ".join(
                _v(t) or "" for t in _list(p, "PreferenceDescription", "Text", "TextElement")
            ).strip()
            or _g(p, "preferenceValue"),
        }
        for p in _list(prof, "Preferences", "Preference")
        if _g(p, "preferenceType")
        and _g(p, "preferenceValue")
        and (own_user is None or _g(p, "insertUser") != own_user)
    ]
    out["notes"] = [
        text
        for c in _list(prof, "Comments", "Comment")
        if (own_user is None or _g(c, "insertUser") != own_user) and _g(c, "internalYn") != "Y"
        for text in [" ".join(_v(t) or "" for t in _list(c, "Text", "TextElement")).strip()]
        if text
    ]
    if _g(prof, "vipCode"):
        out["tags"] = [f"opera:vip:{str(prof['vipCode']).lower()}"]
    return {k: v for k, v in out.items() if v not in (None, [])}


def departed_before(hr: Any, day: date) -> bool:
    stay = (_list(hr, "RoomStays", "RoomStay") or [None])[0]
    dep = _day(_g(stay, "TimeSpan", "EndDate"))
    return status_of(hr) == "checked_out" and dep is not None and date.fromisoformat(dep) < day


def map_stay(hr: Any, detail: Any, *, source: str, hotel: str) -> dict[str, Any] | None:
    """The lived side of an in-house or departed reservation; actual times from the guest's
    InHouseTimeSpan in FetchBooking's answer (`detail`), when OPERA carries them."""
    if status_of(hr) not in STAYED:
        return None
    rid, _ = reservation_ids(hr)
    stay = (_list(hr, "RoomStays", "RoomStay") or [None])[0]
    room_type = (_list(stay, "RoomTypes", "RoomType") or [None])[0]
    rooms = _list(room_type, "RoomNumber")
    span = _g((_list(detail, "ResGuests", "ResGuest") or [None])[0], "InHouseTimeSpan")
    out = {
        "source": source,
        "source_id": rid or "",
        "reservation_source_id": rid or "",
        "hotel_code": _g(stay, "HotelReference", "hotelCode") or hotel,
        "room_number": str(rooms[0]) if rooms and rooms[0] else None,
        "checked_in_at": _utc(_g(span, "StartDate")),
        "checked_out_at": _utc(_g(span, "EndDate")) if status_of(hr) == "checked_out" else None,
        "updated_at": _utc(_g(hr, "updateDate")),
    }
    return {k: v for k, v in out.items() if v is not None}


def map_folio_lines(invoices: Any, *, source: str, hotel: str, reservation: str) -> list[dict[str, Any]]:
    lines = []
    for bill in invoices or ():
        window = _g(bill, "FolioViewNo") or 1
        for item in _list(bill, "BillItems"):
            lines.append(
                {
                    "source": source,
                    "source_id": f"{reservation}:{window}:{_g(item, 'TransactionNo')}",
                    "reservation_source_id": reservation,
                    "hotel_code": hotel,
                    "business_date": _day(_g(item, "Date")),
                    "transaction_code": _g(item, "TransactionCode"),
                    "description": _g(item, "Description"),
                    "amount": money(_g(item, "Amount")),
                    "reference": _g(item, "Reference"),
                }
            )
    return lines
