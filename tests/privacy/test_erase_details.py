"""What erasure removes beyond the profile: merged records, inbox and quarantine payloads,
review and keep-apart rows; and that merging and unmerging need no re-encryption."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from crmbridge.access.service import NotFound
from crmbridge.adapters.base import Reject
from crmbridge.identity.merging import unmerge
from crmbridge.store.crypto import ShreddedError
from crmbridge.store.schema import identity_apart, identity_reviews, inbox, profile_records, quarantine

from ..factories import reservation
from .conftest import NOW


def _count(hotel, table, *where):
    with hotel.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_raw_payloads_and_identity_rows_of_the_guest_go_with_it(hotel):
    store = hotel.store
    store.inbox("legacy_pms").put([("order", "evt-1", '{"phone": "13800138000", "name": "张伟"}')])
    store.inbox("legacy_pms").put([("order", "evt-2", '{"phone": "13900139000", "name": "李娜"}')])
    with store.transaction() as w:
        w.quarantine(
            "legacy_pms",
            "reservations",
            [Reject("R-5001", "arrival: not a date", '{"id": "R-5001", "arrival": "x"}')],
            None,
        )
    zhang, li = hotel.guests["zhang"], hotel.guests["li"]
    with store.engine.begin() as conn:
        rid = conn.execute(select(profile_records.c.id).where(profile_records.c.guest_id == li)).scalar()
        conn.execute(
            insert(identity_reviews),
            {
                "record_id": rid,
                "guest_id": zhang,
                "score": 12.0,
                "evidence": {},
                "status": "open",
                "created_at": NOW,
            },
        )
        a, b = sorted([zhang, hotel.guests["martin"]])
        conn.execute(
            insert(identity_apart), {"guest_a": a, "guest_b": b, "reason": "review", "created_at": NOW}
        )
    hotel.as_role("dpo").erase(zhang, "erasure request 2026-118")
    assert _count(hotel, inbox) == 1 and _count(hotel, quarantine) == 0
    assert _count(hotel, identity_reviews) == 0 and _count(hotel, identity_apart) == 0
    with pytest.raises(NotFound):
        hotel.as_role("dpo").profile(zhang)
    assert hotel.as_role("front_office").search("13800138000") == []
    assert [g["guest_id"] for g in hotel.as_role("front_office").search("13900139000")] == [li]


def _merged_pair(hotel):
    # the same guest again from another system: merges into Zhang's guest
    twin = reservation(
        "OTA-9",
        source="ota",
        guest={
            "source_id": "ota:zhang",
            "emails": [{"address": "zhang.wei.privacy@example.cn"}],
            "documents": [],
        },
    )
    with hotel.store.transaction() as w:
        w.upsert_reservations([twin])
    with hotel.store.engine.connect() as conn:
        rows = conn.execute(
            select(profile_records.c.id, profile_records.c.guest_id, profile_records.c.source_id)
        ).all()
    [(twin_id, twin_guest, _)] = [r for r in rows if r.source_id == "ota:zhang"]
    assert twin_guest == hotel.guests["zhang"], "the fixture expects the twin to merge"
    return twin_id


def test_merge_and_unmerge_move_records_without_re_encrypting_them(hotel):
    twin_id = _merged_pair(hotel)
    with hotel.store.engine.connect() as conn:
        before = conn.execute(
            select(profile_records.c.given_name_ct).where(profile_records.c.id == twin_id)
        ).scalar()
        merged_id = conn.execute(
            select(profile_records.c.guest_id).where(profile_records.c.id == twin_id)
        ).scalar()
    with hotel.store.engine.begin() as conn:
        from crmbridge.store.schema import guests

        absorbed = conn.execute(select(guests.c.id).where(guests.c.merged_into == merged_id)).scalar()
        unmerge(conn, absorbed, datetime.now(UTC))
    with hotel.store.engine.connect() as conn:
        after = conn.execute(
            select(profile_records.c.given_name_ct).where(profile_records.c.id == twin_id)
        ).scalar()
    assert bytes(after) == bytes(before)
    assert hotel.as_role("dpo").profile(absorbed)["latin_name"]


def test_erasing_a_merged_guest_shreds_every_record_it_absorbed(hotel):
    twin_id = _merged_pair(hotel)
    with hotel.store.engine.connect() as conn:
        blob = conn.execute(
            select(profile_records.c.given_name_ct).where(profile_records.c.id == twin_id)
        ).scalar()
    result = hotel.as_role("dpo").erase(hotel.guests["zhang"], "erasure request 2026-119")
    assert result["keys_destroyed"] == 2 and result["guests"] == 2
    with pytest.raises(ShreddedError):
        hotel.store.keyring.decrypt(
            bytes(blob), table="profile_records", column="given_name_ct", row_id=twin_id
        )
    assert _count(hotel, profile_records) == 2
