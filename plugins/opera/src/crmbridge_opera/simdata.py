"""Invented OPERA data for the simulator: guests, reservations and folios in OHIP's JSON shapes.

No real person: names come from `crmbridge.synthetic` (Chinese names in Han characters and
pinyin, Latin names), phones from fiction ranges, e-mails on example domains, amounts in CNY.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from crmbridge.synthetic import CHANNELS, PREFS, RATES, REQUESTS, ROOM_TYPES, invent_person

TIERS = ["GOLD", "PLATINUM", "BLACK", "RED"]
RATE_CNY = {
    "DLK": Decimal("888.00"),
    "DLT": Decimal("888.00"),
    "EXK": Decimal("1288.00"),
    "STE": Decimal("2688.00"),
}


def _ts(d: date, hour: int) -> str:
    # OPERA Cloud reports times with the property's offset; Shanghai is UTC+8.
    return datetime.combine(d, time(hour % 24, 0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def make_profile(rng: random.Random, n: int, pid: str, modified: date) -> dict[str, Any]:
    p = invent_person(rng, n)
    names: list[dict[str, Any]] = [{"givenName": p.given, "surname": p.surname, "nameType": "Primary"}]
    if p.local:
        names.append(
            {"givenName": p.local[1:], "surname": p.local[0], "nameType": "Alternate", "language": "C"}
        )
    phones = [
        {
            "telephone": {
                "phoneTechType": "MOBILE",
                "phoneUseType": "HOME",
                "phoneNumber": p.phone,
                "primaryInd": True,
            },
            "id": f"{pid}1",
            "type": "Telephone",
        }
    ]
    emails = [
        {
            "email": {"emailAddress": p.email, "type": "HOME", "primaryInd": True},
            "id": f"{pid}2",
            "type": "Email",
        }
    ]
    if rng.random() < 0.4:
        local, _, domain = p.email.partition("@")
        emails.append(
            {
                "email": {"emailAddress": f"{local}.work@{domain}", "type": "BUSINESS", "primaryInd": False},
                "id": f"{pid}3",
                "type": "Email",
            }
        )
        # One office line per guest: a shared switchboard number would merge strangers.
        office = (
            f"+86 21 6{int(pid) % 10**7:07d}"
            if p.nationality == "CN"
            else f"+44 20 7946 0{int(pid) % 1000:03d}"
        )
        phones.append(
            {
                "telephone": {
                    "phoneTechType": "PHONE",
                    "phoneUseType": "BUSINESS",
                    "phoneNumber": office,
                    "primaryInd": False,
                },
                "id": f"{pid}4",
                "type": "Telephone",
            }
        )
    groups: dict[str, list[dict[str, Any]]] = {}
    for pref in rng.sample(PREFS, rng.randrange(0, 3)):
        group, code = pref.split(":")
        groups.setdefault(group, []).append(
            {"preferenceCode": code, "description": code.replace("_", " ").title()}
        )
    details: dict[str, Any] = {
        "customer": {
            "personName": names,
            "gender": rng.choice(["Male", "Female"]),
            "birthDate": p.birth.isoformat(),
            "nationality": p.nationality,
            "language": "ZH" if p.nationality == "CN" else "EN",
        },
        "addresses": {
            "addressInfo": [
                {
                    "address": {
                        "addressLine": [f"{rng.randrange(1, 999)} Example Road"],
                        "cityName": "Shanghai" if p.nationality == "CN" else "Springfield",
                        "postalCode": "200000",
                        "country": {"code": p.nationality},
                        "type": "HOME",
                        "primaryInd": True,
                    },
                    "id": f"{pid}5",
                    "type": "Address",
                }
            ]
        },
        "telephones": {"telephoneInfo": phones},
        "emails": {"emailInfo": emails},
        "comments": {"commentInfo": []},
        "preferenceCollection": {
            "preferenceType": [{"preferenceType": g, "preference": prefs} for g, prefs in groups.items()]
        },
        "profileMemberships": {"profileMembership": []},
        "profileType": "Guest",
        "statusCode": "Active",
        "createDateTime": _ts(modified - timedelta(days=400), 9),
        "lastModifyDateTime": _ts(modified, 10),
    }
    if rng.random() < 0.4:
        details["profileMemberships"]["profileMembership"].append(
            {
                "membershipType": "HCC",
                "membershipId": f"88{rng.randrange(10**8):08d}",
                "membershipLevel": rng.choice(TIERS),
                "currentPoints": rng.randrange(100, 90000),
                "primaryMembership": True,
            }
        )
    return {
        "profileIdList": [{"id": pid, "type": "Profile", "idContext": "OPERA"}],
        "profileDetails": details,
    }


def make_reservation(
    rng: random.Random, rid: str, conf: str, profile: dict[str, Any], arrival: date, today: date, hotel: str
) -> dict[str, Any]:
    nights = rng.randrange(1, 5)
    departure = arrival + timedelta(days=nights)
    room_type, rate = rng.choice(ROOM_TYPES), rng.choice(RATES)
    if departure <= today:
        status = "CheckedOut" if rng.random() > 0.12 else rng.choice(["Cancelled", "NoShow"])
    elif arrival <= today:
        status = "InHouse"
    else:
        status = "Reserved" if rng.random() > 0.08 else "Cancelled"
    name = profile["profileDetails"]["customer"]["personName"][0]
    pid = profile["profileIdList"][0]["id"]
    info: dict[str, Any] = {
        "reservationIdList": [{"id": rid, "type": "Reservation"}, {"id": conf, "type": "Confirmation"}],
        "roomStay": {
            "arrivalDate": arrival.isoformat(),
            "departureDate": departure.isoformat(),
            "adultCount": rng.choice([1, 2, 2]),
            "childCount": rng.choice([0, 0, 0, 1]),
            "roomType": room_type,
            "ratePlanCode": rate,
            "rateAmount": {"amount": RATE_CNY[room_type], "currencyCode": "CNY"},
            "totalAmount": {"amount": RATE_CNY[room_type] * nights, "currencyCode": "CNY"},
            "sourceCode": rng.choice(CHANNELS),
            "marketCode": "LEISURE",
        },
        "reservationGuest": {
            "id": pid,
            "type": "Profile",
            "givenName": name["givenName"],
            "surname": name["surname"],
        },
        "reservationStatus": status,
        "computedReservationStatus": status,
        "hotelId": hotel,
        "createDateTime": _ts(arrival - timedelta(days=rng.randrange(1, 60)), 12),
        "lastModifyDateTime": _ts(min(arrival, today) - timedelta(days=1), 14),
    }
    if status in ("InHouse", "CheckedOut"):
        info["roomStay"]["roomId"] = f"{rng.randrange(5, 30)}{rng.randrange(1, 40):02d}"
    if rng.random() < 0.3:
        info["specials"] = rng.choice(REQUESTS).replace(",", " ")
    return info


def restaurant_posting(n: int, day: date, amount: Decimal, check_number: int) -> dict[str, Any]:
    """A restaurant charge on a folio, naming its POS check in the reference."""
    return {
        "transactionNo": n,
        "transactionCode": "2010",
        "transactionDescription": "Restaurant 餐厅",
        "transactionType": "Revenue",
        "transactionDate": day.isoformat(),
        "postingDate": day.isoformat(),
        "reference": f"CHK-{check_number}",
        "debitAmount": {"amount": amount, "currencyCode": "CNY"},
        "postedAmount": {"amount": amount, "currencyCode": "CNY"},
    }


def make_folio(rng: random.Random, info: dict[str, Any]) -> dict[str, Any]:
    stay = info["roomStay"]
    arrival = date.fromisoformat(stay["arrivalDate"])
    departure = date.fromisoformat(stay["departureDate"])
    rate = stay["rateAmount"]["amount"]
    postings, n = [], 1
    d = arrival
    while d < departure:
        postings.append(
            {
                "transactionNo": n,
                "transactionCode": "1000",
                "transactionDescription": "Room Charge",
                "transactionType": "Revenue",
                "transactionDate": d.isoformat(),
                "postingDate": d.isoformat(),
                "debitAmount": {"amount": rate, "currencyCode": "CNY"},
                "postedAmount": {"amount": rate, "currencyCode": "CNY"},
            }
        )
        n += 1
        if rng.random() < 0.5:
            amount = Decimal(rng.randrange(80, 900)).quantize(Decimal("0.01"))
            postings.append(restaurant_posting(n, d, amount, rng.randrange(10000)))
            n += 1
        d += timedelta(days=1)
    window = {"folioWindowNo": 1, "folios": [{"folioNo": 1, "folioStatus": "Ok", "postings": postings}]}
    return {
        "reservationFolioInformation": {
            "reservationInfo": {"reservationIdList": info["reservationIdList"]},
            "folioWindows": [window],
        }
    }
