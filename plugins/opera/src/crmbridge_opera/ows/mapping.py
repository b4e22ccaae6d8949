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


def pick(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def many(obj: Any, *path: str) -> list[Any]:
    got = pick(obj, *path)
    return list(got) if isinstance(got, list) else ([got] if got is not None else [])


def text_value(obj: Any) -> str | None:
    if obj is None:
        return None
    value = pick(obj, "_value_1") if not isinstance(obj, str) else obj
    return str(value).strip() or None if value is not None else None


def content_hash(hr: Any) -> str:
    """A stable hash of a reservation summary: equal content, equal hash."""
    raw = json.dumps(plain(hr), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def reservation_ids(hr: Any) -> tuple[str | None, list[str]]:
    """(resv_name_id, confirmation numbers) from a HotelReservation's UniqueIDList."""
    rid, confs = None, []
    for u in many(hr, "UniqueIDList", "UniqueID"):
        value = text_value(u)
        if not value:
            continue
        if pick(u, "source") == RESV_ID:
            rid = value
        elif pick(u, "type") == "INTERNAL":
            confs.append(value)
    return rid, confs


def profile_id(hr: Any) -> str | None:
    for guest in many(hr, "ResGuests", "ResGuest"):
        for prof in many(guest, "Profiles", "Profile"):
            for u in many(prof, "ProfileIDs", "UniqueID"):
                if pick(u, "type") == "INTERNAL" and text_value(u):
                    return text_value(u)
    return None


def status_of(hr: Any) -> str:
    raw = pick(hr, "computedReservationStatus") or pick(hr, "reservationStatus") or "RESERVED"
    return STATUS.get(str(raw), "confirmed")


def money(amount: Any) -> dict[str, Any] | None:
    if amount is None or pick(amount, "_value_1") is None:
        return None
    places = pick(amount, "decimals")
    quantum = Decimal(1).scaleb(-int(places if places is not None else 2))
    return {
        "amount": Decimal(repr(float(amount["_value_1"]))).quantize(quantum),
        "currency": pick(amount, "currencyCode") or "CNY",
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
        for choice in pick(p, "_value_1") or ():
            text = text_value(choice.get("Text")) if isinstance(choice, dict) else None
            if text:
                out.append(text)
    return out


def map_reservation(hr: Any, *, source: str, hotel: str, guest: dict[str, Any] | None) -> dict[str, Any]:
    rid, confs = reservation_ids(hr)
    stay = (many(hr, "RoomStays", "RoomStay") or [None])[0]
    counts = {
        str(pick(c, "ageQualifyingCode")): pick(c, "count") for c in many(stay, "GuestCounts", "GuestCount")
    }
    guests = many(hr, "ResGuests", "ResGuest")
    res: dict[str, Any] = {
        "source": source,
        "source_id": rid or "",
        "hotel_code": pick(stay, "HotelReference", "hotelCode") or hotel,
        "confirmation_numbers": confs,
        "status": status_of(hr),
        "arrival": _day(pick(stay, "TimeSpan", "StartDate")),
        "departure": _day(pick(stay, "TimeSpan", "EndDate")),
        "room_type": pick((many(stay, "RoomTypes", "RoomType") or [None])[0], "roomTypeCode"),
        "rate_code": pick((many(stay, "RatePlans", "RatePlan") or [None])[0], "ratePlanCode"),
        "channel": pick(hr, "sourceCode"),
        "adults": counts.get("ADULT", 1) if counts.get("ADULT") is not None else 1,
        "children": counts.get("CHILD") or 0,
        "total": money(pick(stay, "Total")),
        "special_requests": [t for g in guests for t in _texts(many(g, "SpecialRequests", "SpecialRequest"))],
        "created_at": _utc(pick(hr, "insertDate")),
        "updated_at": _utc(pick(hr, "updateDate")),
    }
    if guest is not None:
        res["guest"] = guest
    return {k: v for k, v in res.items() if v is not None}


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def map_profile(prof: Any, *, source: str, profile_id: str, own_user: str | None = None) -> dict[str, Any]:
    """A `Profile` (FetchProfile). Items inserted by `own_user` (crmbridge's OWS user) are left
    out: they are what crmbridge wrote back, not evidence about the guest."""
    cust = pick(prof, "Customer")
    out: dict[str, Any] = {
        "source": source,
        "source_id": profile_id,
        "updated_at": _utc(pick(prof, "updateDate")),
    }
    given, surname = pick(cust, "PersonName", "firstName") or "", pick(cust, "PersonName", "lastName") or ""
    if given or surname:
        if _is_latin(given + surname):
            out.update({k: v.strip() for k, v in (("given_name", given), ("surname", surname)) if v.strip()})
        else:
            out["local_name"] = (surname + given).strip()
    native = pick(cust, "NativeName")
    if native is not None and "local_name" not in out:
        local = ((pick(native, "lastName") or "") + (pick(native, "firstName") or "")).strip()
        if local:
            out["local_name"] = local
    if pick(cust, "gender"):
        out["gender"] = GENDER.get(str(cust["gender"]).upper(), "unknown")
    if _day(pick(cust, "birthDate")):
        out["birth_date"] = _day(cust["birthDate"])
    if pick(prof, "nationality"):
        out["nationality"] = prof["nationality"]
    if pick(prof, "languageCode"):
        out["language"] = LANGUAGE.get(str(prof["languageCode"]).upper(), str(prof["languageCode"]).lower())
    out["emails"] = [
        {"address": text_value(e), "kind": "personal"}
        for e in many(prof, "EMails", "NameEmail")
        if text_value(e)
    ]
    out["phones"] = [
        {"number": pick(p, "PhoneNumber"), "kind": str(pick(p, "phoneType") or "mobile").lower()}
        for p in many(prof, "Phones", "NamePhone")
        if pick(p, "PhoneNumber")
    ]
    out["memberships"] = [
        {
            "program": pick(m, "membershipType"),
            "number": pick(m, "membershipNumber"),
            "tier": pick(m, "membershipLevel"),
            "points": None if pick(m, "currentPoints") is None else Decimal(repr(float(m["currentPoints"]))),
        }
        for m in many(prof, "Memberships", "NameMembership")
        if pick(m, "membershipType") and not pick(m, "inactive")
    ]
    out["preferences"] = [
        {
            "category": pick(p, "preferenceType"),
            "code": pick(p, "preferenceValue"),
            "value": " ".join(
                text_value(t) or "" for t in many(p, "PreferenceDescription", "Text", "TextElement")
            ).strip()
            or pick(p, "preferenceValue"),
        }
        for p in many(prof, "Preferences", "Preference")
        if pick(p, "preferenceType")
        and pick(p, "preferenceValue")
        and (own_user is None or pick(p, "insertUser") != own_user)
    ]
    out["notes"] = [
        text
        for c in many(prof, "Comments", "Comment")
        if (own_user is None or pick(c, "insertUser") != own_user) and pick(c, "internalYn") != "Y"
        for text in [" ".join(text_value(t) or "" for t in many(c, "Text", "TextElement")).strip()]
        if text
    ]
    if pick(prof, "vipCode"):
        out["tags"] = [f"opera:vip:{str(prof['vipCode']).lower()}"]
    return {k: v for k, v in out.items() if v not in (None, [])}


def departed_before(hr: Any, day: date) -> bool:
    stay = (many(hr, "RoomStays", "RoomStay") or [None])[0]
    dep = _day(pick(stay, "TimeSpan", "EndDate"))
    return status_of(hr) == "checked_out" and dep is not None and date.fromisoformat(dep) < day


def map_stay(hr: Any, detail: Any, *, source: str, hotel: str) -> dict[str, Any] | None:
    """The lived side of an in-house or departed reservation; actual times from the guest's
    InHouseTimeSpan in FetchBooking's answer (`detail`), when OPERA carries them."""
    if status_of(hr) not in STAYED:
        return None
    rid, _ = reservation_ids(hr)
    stay = (many(hr, "RoomStays", "RoomStay") or [None])[0]
    room_type = (many(stay, "RoomTypes", "RoomType") or [None])[0]
    rooms = many(room_type, "RoomNumber")
    span = pick((many(detail, "ResGuests", "ResGuest") or [None])[0], "InHouseTimeSpan")
    out = {
        "source": source,
        "source_id": rid or "",
        "reservation_source_id": rid or "",
        "hotel_code": pick(stay, "HotelReference", "hotelCode") or hotel,
        "room_number": str(rooms[0]) if rooms and rooms[0] else None,
        "checked_in_at": _utc(pick(span, "StartDate")),
        "checked_out_at": _utc(pick(span, "EndDate")) if status_of(hr) == "checked_out" else None,
        "updated_at": _utc(pick(hr, "updateDate")),
    }
    return {k: v for k, v in out.items() if v is not None}


def map_folio_lines(invoices: Any, *, source: str, hotel: str, reservation: str) -> list[dict[str, Any]]:
    lines = []
    for bill in invoices or ():
        window = pick(bill, "FolioViewNo") or 1
        for item in many(bill, "BillItems"):
            lines.append(
                {
                    "source": source,
                    "source_id": f"{reservation}:{window}:{pick(item, 'TransactionNo')}",
                    "reservation_source_id": reservation,
                    "hotel_code": hotel,
                    "business_date": _day(pick(item, "Date")),
                    "transaction_code": pick(item, "TransactionCode"),
                    "description": pick(item, "Description"),
                    "amount": money(pick(item, "Amount")),
                    "reference": pick(item, "Reference"),
                }
            )
    return lines
