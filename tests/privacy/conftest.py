"""A small hotel for the privacy tests: three invented guests, each with a reservation, in a
store whose data keys live in a key store of their own (a SQLite file beside the test)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from crmbridge.access.roles import role
from crmbridge.access.service import Access
from crmbridge.access.staff import Actor
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import profile_records

from ..factories import reservation

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

# What each guest is (planted values the tests look for, in the store and in exports)
ZHANG = {
    "given_name": "Wei",
    "surname": "Zhang",
    "local_name": "张伟",
    "emails": [{"address": "zhang.wei.privacy@example.cn"}],
    "phones": [{"number": "138 0013 8000"}],
    "birth_date": "1985-03-14",
    "documents": [{"doc_type": "PASSPORT", "number": "E41234567"}],
    "preferences": [{"category": "DIET", "code": "VEGETARIAN"}],
    "notes": ["不吃香菜"],
    "consents": [
        {
            "purpose": "marketing",
            "granted": True,
            "recorded_at": "2026-10-01T08:00:00Z",
            "notice_version": "n-2026-1",
        }
    ],
}
LI = {
    "given_name": "Na",
    "surname": "Li",
    "local_name": "李娜",
    "emails": [{"address": "li.na.privacy@example.com"}],
    "phones": [{"number": "139 0013 9000"}],
    "birth_date": "1990-07-02",
    "documents": [{"doc_type": "ID_CARD", "number": "310101199007020025"}],
    "preferences": [{"category": "ROOM", "code": "HIGH_FLOOR"}],
    "notes": ["allergic to peanuts"],
}
MARTIN = {
    "given_name": "Claire",
    "surname": "Martin",
    "local_name": None,
    "emails": [{"address": "claire.martin.privacy@example.fr"}],
    "phones": [{"number": "+33 6 12 34 56 78"}],
    "birth_date": "1979-01-30",
    "documents": [],
    "consents": [
        {
            "purpose": "marketing",
            "granted": True,
            "recorded_at": "2026-09-01T08:00:00Z",
            "notice_version": "n-2026-1",
        }
    ],
}
PLANTED = {"zhang": ZHANG, "li": LI, "martin": MARTIN}
RESERVATIONS = {
    "zhang": ("R-5001", "CNF-88001"),
    "li": ("R-5002", "CNF-88002"),
    "martin": ("R-5003", "CNF-88003"),
}


def bookings() -> list[Any]:
    out = []
    for key, guest in PLANTED.items():
        rsv, conf = RESERVATIONS[key]
        out.append(
            reservation(
                rsv,
                guest={"source_id": f"guest:{key}", **guest},
                confirmation_numbers=[conf],
                special_requests=[f"{key} wants a late check-out"],
            )
        )
    return out


@dataclass
class Hotel:
    store: GuestStore
    keys_url: str
    guests: dict[str, str]  # planted key -> guest id

    def as_role(self, role_name: str, name: str | None = None) -> Access:
        return Access(self.store, Actor(name or f"test-{role_name}", role(role_name), "cli"))


def open_hotel(db_url: str, keys_url: str, keyring: Keyring) -> GuestStore:
    return GuestStore.open(db_url, keyring, upgrade=False, key_store_url=keys_url)


@pytest.fixture
def hotel(db_url, tmp_path) -> Iterator[Hotel]:
    keys_url = f"sqlite:///{tmp_path / 'keys.db'}"
    store = open_hotel(db_url, keys_url, Keyring.generate("k1"))
    with store.transaction() as w:
        w.upsert_reservations(bookings())
    with store.engine.connect() as conn:
        ids = {r.source_id.split(":")[1]: r.guest_id for r in conn.execute(profile_records.select())}
    yield Hotel(store, keys_url, ids)
    store.close()
