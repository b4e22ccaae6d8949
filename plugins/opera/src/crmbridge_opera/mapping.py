"""OHIP JSON <-> canonical models: reservations, guest profiles, stays and folio lines.

The functions build plain dicts in the canonical shape; `validate_into` then validates them
or files them under the batch's rejects. Amounts arrive as JSON numbers and are parsed as
`Decimal` by the client (never float). The reverse direction (alerts, notes, preferences)
is at the bottom.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crmbridge.api import Alert

STATUS = {
    "Reserved": "confirmed", "DueIn": "confirmed", "Requested": "pending", "Waitlisted": "pending",
    "InHouse": "in_house", "DueOut": "in_house", "CheckedIn": "in_house", "Walkin": "in_house",
    "PendingCheckout": "in_house", "CheckedOut": "checked_out", "Cancelled": "cancelled",
    "NoShow": "no_show",
}  # fmt: skip
STAYED = {"in_house", "checked_out"}
OWNED_PREFERENCE = "pref:"  # push-ledger id prefix of a preference crmbridge created
GENDER = {"male": "male", "m": "male", "female": "female", "f": "female"}


def _d(obj: Any, *path: str) -> Any:
    """obj[path0][path1]...; None if any step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _ids(id_list: Any, kind: str) -> list[str]:
    return [
        str(i["id"]) for i in id_list or () if isinstance(i, dict) and i.get("type") == kind and i.get("id")
    ]


def reservation_id(info: dict[str, Any]) -> str | None:
    ids = _ids(info.get("reservationIdList"), "Reservation")
    return ids[0] if ids else None


def profile_id(info: dict[str, Any]) -> str | None:
    """The guest profile id a reservation summary names."""
    guest = info.get("reservationGuest") or {}
    if guest.get("id"):
        return str(guest["id"])
    for p in info.get("attachedProfiles") or ():
        if p.get("reservationProfileType") == "Guest":
            ids = _ids(p.get("profileIdList"), "Profile")
            if ids:
                return ids[0]
    return None


def status_of(info: dict[str, Any]) -> str:
    raw = info.get("computedReservationStatus") or info.get("reservationStatus") or "Reserved"
    return STATUS.get(str(raw), "confirmed")


def _money(m: Any) -> dict[str, Any] | None:
    if not isinstance(m, dict) or m.get("amount") is None:
        return None
    return {"amount": Decimal(str(m["amount"])), "currency": m.get("currencyCode") or "CNY"}


def map_reservation(
    info: dict[str, Any], *, source: str, hotel: str, guest: dict[str, Any] | None
) -> dict[str, Any]:
    """A `reservationInfoType` (getHotelReservations) with its mapped guest profile."""
    stay = info.get("roomStay") or {}
    res: dict[str, Any] = {
        "source": source,
        "source_id": reservation_id(info) or "",
        "hotel_code": info.get("hotelId") or hotel,
        "confirmation_numbers": _ids(info.get("reservationIdList"), "Confirmation"),
        "status": status_of(info),
        "arrival": stay.get("arrivalDate"),
        "departure": stay.get("departureDate"),
        "room_type": stay.get("roomType"),
        "rate_code": stay.get("ratePlanCode"),
        "channel": stay.get("sourceCode")
        or stay.get("bookingChannelCode")
        or _d(info, "sourceOfSale", "sourceCode"),
        "adults": stay.get("adultCount", 1),
        "children": stay.get("childCount", 0),
        "total": _money(stay.get("totalAmount")),
        "special_requests": [s.strip() for s in str(info.get("specials") or "").split(",") if s.strip()],
        "created_at": info.get("createDateTime"),
        "updated_at": info.get("lastModifyDateTime"),
    }
    if guest is not None:
        res["guest"] = guest
    return {k: v for k, v in res.items() if v is not None}


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def _names(person_names: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in person_names:
        given, surname = (n.get("givenName") or "").strip(), (n.get("surname") or "").strip()
        if not (given or surname):
            continue
        if _is_latin(given + surname):
            if n.get("nameType", "Primary") in ("Primary", "External") and "surname" not in out:
                out.update({k: v for k, v in (("given_name", given), ("surname", surname)) if v})
        elif "local_name" not in out:
            # Chinese, Japanese and Korean names are written family name first, no space.
            out["local_name"] = surname + given
    return out


def map_profile(profile: dict[str, Any], *, source: str, profile_id: str) -> dict[str, Any]:
    """A `profile` (getProfile with Address, Communication, Preference, Membership, Comment)."""
    det = profile.get("profileDetails") or {}
    cust = det.get("customer") or {}
    out: dict[str, Any] = {
        "source": source,
        "source_id": profile_id,
        "updated_at": det.get("lastModifyDateTime"),
    }
    out.update(_names(cust.get("personName") or []))
    if cust.get("gender"):
        out["gender"] = GENDER.get(str(cust["gender"]).lower(), "unknown")
    for key, field in (("birthDate", "birth_date"), ("nationality", "nationality"), ("language", "language")):
        if cust.get(key):
            out[field] = cust[key]
    out["emails"] = [
        {"address": e["emailAddress"], "kind": str(e.get("type") or "personal").lower()}
        for e in (i.get("email") or {} for i in _d(det, "emails", "emailInfo") or ())
        if e.get("emailAddress")
    ]
    out["phones"] = [
        {"number": t["phoneNumber"], "kind": str(t.get("phoneTechType") or "mobile").lower()}
        for t in (i.get("telephone") or {} for i in _d(det, "telephones", "telephoneInfo") or ())
        if t.get("phoneNumber")
    ]
    out["addresses"] = [
        {
            "lines": [x for x in a.get("addressLine") or () if x],
            "city": a.get("cityName"),
            "state": a.get("state"),
            "postal_code": a.get("postalCode"),
            "country": _d(a, "country", "code"),
        }
        for a in (i.get("address") or {} for i in _d(det, "addresses", "addressInfo") or ())
        if a
    ]
    out["memberships"] = [
        {
            "program": m.get("membershipType"),
            "number": m.get("membershipId"),
            "tier": m.get("membershipLevel"),
            "points": m.get("currentPoints"),
        }
        for m in _d(det, "profileMemberships", "profileMembership") or ()
        if m.get("membershipType") and not m.get("inactive")
    ]
    out["preferences"] = [
        {
            "category": group.get("preferenceType"),
            "code": p.get("preferenceCode") or p.get("preferenceValue"),
            "value": p.get("description") or p.get("preferenceValue"),
        }
        for group in _d(det, "preferenceCollection", "preferenceType") or ()
        for p in group.get("preference") or ()
        if group.get("preferenceType") and (p.get("preferenceCode") or p.get("preferenceValue"))
    ]
    out["notes"] = [
        str(_d(c, "comment", "text", "value"))
        for c in _d(det, "comments", "commentInfo") or ()
        if _d(c, "comment", "text", "value") and not _d(c, "comment", "internal")
    ]
    if det.get("profileType") and det["profileType"] != "Guest":
        out["tags"] = [f"opera:{det['profileType'].lower()}"]
    out["consents"] = _consents(det.get("privacyInfo") or {}, det.get("lastModifyDateTime"))
    return {k: v for k, v in out.items() if v not in (None, [])}


# OPERA privacy options that are a marketing statement: e-mail, SMS and mailing-list opt-ins.
_MARKETING_OPT_INS = ("optInEmail", "optInSms", "optInMailingList")


def _consents(privacy: dict[str, Any], at: str | None) -> list[dict[str, Any]]:
    """OPERA's privacy options as a marketing consent: granted if the guest opted in to any
    channel, withdrawn if every option given is false; nothing when OPERA says nothing."""
    given = [privacy[k] for k in _MARKETING_OPT_INS if isinstance(privacy.get(k), bool)]
    if not given:
        return []
    return [
        {
            "purpose": "marketing",
            "granted": any(given),
            "recorded_at": at,
            "notice_version": "opera:privacyInfo",
        }
    ]


def map_stay(info: dict[str, Any], *, source: str, hotel: str) -> dict[str, Any] | None:
    """The lived side of an in-house or departed reservation; None for one not yet arrived."""
    if status_of(info) not in STAYED:
        return None
    rid = reservation_id(info) or ""
    stay = info.get("roomStay") or {}
    out = {
        "source": source,
        "source_id": rid,
        "reservation_source_id": rid,
        "hotel_code": info.get("hotelId") or hotel,
        "room_number": stay.get("roomId"),
        "updated_at": info.get("lastModifyDateTime"),
    }
    return {k: v for k, v in out.items() if v is not None}


def map_folio_lines(
    folio: dict[str, Any], *, source: str, hotel: str, reservation: str
) -> list[dict[str, Any]]:
    """Every posting of every folio window (getFolio with Postings), charges positive."""
    lines = []
    for window in _d(folio, "reservationFolioInformation", "folioWindows") or ():
        for f in window.get("folios") or ():
            for p in f.get("postings") or ():
                debit, credit = _money(p.get("debitAmount")), _money(p.get("creditAmount"))
                amount = debit or (
                    {**credit, "amount": -credit["amount"]} if credit else _money(p.get("postedAmount"))
                )
                lines.append(
                    {
                        "source": source,
                        "source_id": f"{reservation}:{p.get('transactionNo')}",
                        "reservation_source_id": reservation,
                        "hotel_code": hotel,
                        "business_date": p.get("transactionDate") or p.get("postingDate"),
                        "transaction_code": p.get("transactionCode"),
                        "description": p.get("transactionDescription"),
                        "amount": amount,
                        "reference": p.get("reference"),
                    }
                )
    return lines


# -- canonical -> OHIP -------------------------------------------------------------------------
def alert_body(alert: Alert, *, hotel: str, code: str, area: str, alert_id: str | None) -> dict[str, Any]:
    """`reservationAlerts` for postBulkReservationAlerts: with `id`, OPERA updates that alert."""
    item: dict[str, Any] = {"code": code, "area": area, "description": alert.text, "screenNotification": True}
    if alert_id:
        item["id"] = alert_id
    return {
        "reservations": [
            {"hotelId": hotel, "reservationId": {"id": alert.pms_id, "type": "Reservation"}, "alert": [item]}
        ]
    }


def profile_comment_body(alert: Alert, *, hotel: str, comment_id: str | None) -> dict[str, Any]:
    """`profile` for putProfile carrying one note; with `id`, OPERA updates that comment."""
    info: dict[str, Any] = {
        "comment": {
            "text": {"value": alert.text},
            "commentTitle": f"crmbridge {alert.rule}"[:80],
            "type": alert.code[:20],
            "internal": False,
            "hotelId": hotel,
        }
    }
    if comment_id:
        info.update({"id": comment_id, "type": "Comment"})
    return {
        "profileIdList": [{"id": alert.pms_id, "type": "Profile", "idContext": "OPERA"}],
        "profileDetails": {"comments": {"commentInfo": [info]}},
    }


def preference_body(alert: Alert, *, hotel: str) -> dict[str, Any]:
    """`preference` for postPreference; the alert's code is `PREF:<group>:<code>`."""
    _, group, code = alert.code.split(":", 2)
    return {
        "preferenceCollections": [
            {
                "preferenceType": group,
                "preference": [
                    {
                        "preferenceCode": code,
                        "description": alert.text[:200],
                        "global": False,
                        "hotels": [hotel],
                    }
                ],
            }
        ],
        "profileIdList": [{"id": alert.pms_id, "type": "Profile"}],
    }
