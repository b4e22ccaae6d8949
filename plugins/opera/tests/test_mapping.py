"""OHIP JSON to canonical models: a full reservation with its profile, stays and folio lines."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from crmbridge_opera.mapping import map_folio_lines, map_profile, map_reservation, map_stay

from crmbridge.adapters.base import Batch, validate_into
from crmbridge.models import FolioLine, GuestProfile, Reservation, Stay

# An OHIP getProfile answer (invented guest) with both name forms, two phones, two e-mails,
# preferences in two groups, a membership and a note.
PROFILE = {
    "profileIdList": [{"id": "3149001", "type": "Profile", "idContext": "OPERA"}],
    "profileDetails": {
        "customer": {
            "personName": [
                {"givenName": "Xiaoming", "surname": "Zhang", "nameType": "Primary"},
                {"givenName": "晓明", "surname": "张", "nameType": "Alternate", "language": "C"},
            ],
            "gender": "Male",
            "birthDate": "1986-04-12",
            "nationality": "CN",
            "language": "ZH",
        },
        "telephones": {
            "telephoneInfo": [
                {
                    "telephone": {
                        "phoneTechType": "MOBILE",
                        "phoneNumber": "+86 139 0013 9000",
                        "primaryInd": True,
                    }
                },
                {"telephone": {"phoneTechType": "PHONE", "phoneNumber": "+86 21 5555 0123"}},
            ]
        },
        "emails": {
            "emailInfo": [
                {"email": {"emailAddress": "xiaoming.zhang@Example.CN", "type": "HOME"}},
                {"email": {"emailAddress": "x.zhang@corp.example.com", "type": "BUSINESS"}},
            ]
        },
        "addresses": {
            "addressInfo": [
                {
                    "address": {
                        "addressLine": ["88 Example Road", ""],
                        "cityName": "Shanghai",
                        "postalCode": "200000",
                        "country": {"code": "CN"},
                    }
                }
            ]
        },
        "preferenceCollection": {
            "preferenceType": [
                {
                    "preferenceType": "PILLOW",
                    "preference": [{"preferenceCode": "BUCKWHEAT", "description": "荞麦枕"}],
                },
                {
                    "preferenceType": "ROOM",
                    "preference": [{"preferenceCode": "HIGH_FLOOR"}, {"preferenceCode": "NON_SMOKING"}],
                },
            ]
        },
        "profileMemberships": {
            "profileMembership": [
                {
                    "membershipType": "HCC",
                    "membershipId": "8812345678",
                    "membershipLevel": "PLATINUM",
                    "currentPoints": 42000,
                },
                {"membershipType": "OLD", "membershipId": "1", "inactive": True},
            ]
        },
        "comments": {
            "commentInfo": [
                {
                    "comment": {"text": {"value": "上次房间太热，请提前调低空调"}, "internal": False},
                    "id": "77",
                },
                {"comment": {"text": {"value": "internal credit note"}, "internal": True}, "id": "78"},
            ]
        },
        "profileType": "Guest",
        "lastModifyDateTime": "2026-11-20T10:00:00+08:00",
    },
}

RESERVATION = {
    "reservationIdList": [{"id": "500123", "type": "Reservation"}, {"id": "8100123", "type": "Confirmation"}],
    "roomStay": {
        "arrivalDate": "2026-12-01",
        "departureDate": "2026-12-04",
        "adultCount": 2,
        "childCount": 1,
        "roomType": "EXK",
        "ratePlanCode": "BAR",
        "roomId": "1808",
        "totalAmount": {"amount": Decimal("3864.00"), "currencyCode": "CNY"},
        "sourceCode": "CTRIP",
    },
    "reservationGuest": {"id": "3149001", "type": "Profile"},
    "reservationStatus": "InHouse",
    "computedReservationStatus": "DueOut",
    "specials": "高楼层，远离电梯, late arrival",
    "hotelId": "SHA01",
    "createDateTime": "2026-11-01T09:00:00Z",
    "lastModifyDateTime": "2026-11-21T12:00:00Z",
}


def _profile() -> GuestProfile:
    return GuestProfile.model_validate(map_profile(PROFILE, source="opera", profile_id="3149001"))


def test_profile_keeps_latin_and_chinese_names_apart():
    p = _profile()
    assert (p.given_name, p.surname, p.local_name) == ("Xiaoming", "Zhang", "张晓明")
    assert p.gender == "male" and p.birth_date == date(1986, 4, 12) and p.nationality == "CN"


def test_profile_maps_every_phone_and_email():
    p = _profile()
    assert [(x.number, x.kind) for x in p.phones] == [
        ("+8613900139000", "mobile"),
        ("+862155550123", "phone"),
    ]
    assert [e.address for e in p.emails] == ["xiaoming.zhang@example.cn", "x.zhang@corp.example.com"]


def test_profile_maps_preferences_membership_address_and_guest_visible_notes():
    p = _profile()
    assert [(x.category, x.code) for x in p.preferences] == [
        ("PILLOW", "BUCKWHEAT"),
        ("ROOM", "HIGH_FLOOR"),
        ("ROOM", "NON_SMOKING"),
    ]
    assert [(m.program, m.number, m.tier, m.points) for m in p.memberships] == [
        ("HCC", "8812345678", "PLATINUM", Decimal(42000))
    ]
    assert p.addresses[0].lines == ["88 Example Road"] and p.addresses[0].country == "CN"
    assert p.notes == ["上次房间太热，请提前调低空调"]
    assert p.updated_at.isoformat() == "2026-11-20T02:00:00+00:00"


def test_full_reservation_maps_with_its_guest():
    mapped = map_reservation(
        RESERVATION,
        source="opera",
        hotel="SHA01",
        guest=map_profile(PROFILE, source="opera", profile_id="3149001"),
    )
    r = Reservation.model_validate(mapped)
    assert (r.source_id, r.confirmation_numbers, r.status) == ("500123", ["8100123"], "in_house")
    assert (r.arrival, r.departure, r.room_type, r.rate_code, r.channel) == (
        date(2026, 12, 1), date(2026, 12, 4), "EXK", "BAR", "CTRIP",
    )  # fmt: skip
    assert (r.adults, r.children) == (2, 1)
    assert r.total.amount == Decimal("3864.00") and r.total.currency == "CNY"
    assert r.special_requests == ["高楼层，远离电梯", "late arrival"]
    assert r.guest.source_id == "3149001" and r.guest.local_name == "张晓明"


def test_reservation_statuses_map_to_canonical_ones():
    def status(s: str) -> str:
        info = {**RESERVATION, "reservationStatus": s, "computedReservationStatus": s}
        return map_reservation(info, source="o", hotel="H", guest=None)["status"]

    opera = ("Reserved", "DueIn", "InHouse", "CheckedOut", "Cancelled", "NoShow", "Waitlisted")
    assert [status(s) for s in opera] == [
        "confirmed", "confirmed", "in_house", "checked_out", "cancelled", "no_show", "pending",
    ]  # fmt: skip


def test_stay_exists_only_once_the_guest_has_arrived():
    stay = Stay.model_validate(map_stay(RESERVATION, source="opera", hotel="SHA01"))
    assert (stay.reservation_source_id, stay.room_number) == ("500123", "1808")
    assert map_stay({**RESERVATION, "computedReservationStatus": "Reserved"}, source="o", hotel="H") is None


def test_folio_postings_become_lines_with_exact_amounts_and_payments_negative():
    room = {
        "transactionNo": 11, "transactionCode": "1000", "transactionDescription": "Room Charge",
        "transactionDate": "2026-12-01", "debitAmount": {"amount": Decimal("1288.00"), "currencyCode": "CNY"},
    }  # fmt: skip
    alipay = {
        "transactionNo": 12, "transactionCode": "9000", "transactionDescription": "Alipay",
        "transactionDate": "2026-12-04",
        "creditAmount": {"amount": Decimal("1288.00"), "currencyCode": "CNY"},
    }  # fmt: skip
    window = {"folios": [{"postings": [room, alipay]}]}
    folio = {"reservationFolioInformation": {"folioWindows": [window]}}
    lines = [
        FolioLine.model_validate(x)
        for x in map_folio_lines(folio, source="opera", hotel="SHA01", reservation="500123")
    ]
    assert [(x.source_id, x.transaction_code, x.amount.amount) for x in lines] == [
        ("500123:11", "1000", Decimal("1288.00")),
        ("500123:12", "9000", Decimal("-1288.00")),
    ]


def test_a_profile_with_a_malformed_phone_is_quarantined_with_field_names_only():
    bad = json.loads(json.dumps(PROFILE))
    bad["profileDetails"]["telephones"]["telephoneInfo"][0]["telephone"]["phoneNumber"] = "call me"
    batch: Batch[GuestProfile] = Batch([], None)
    validate_into(GuestProfile, map_profile(bad, source="opera", profile_id="3149001"), "{}", batch)
    [reject] = batch.rejects
    assert reject.source_id == "3149001" and "phones.0.number" in reject.reason
    assert "call me" not in reject.reason
