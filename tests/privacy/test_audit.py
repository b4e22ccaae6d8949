"""Every read of personal data is audited; the audit is a hash chain that shows tampering."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import delete, func, insert, select, update

from crmbridge.access import audit
from crmbridge.access.service import Access
from crmbridge.store.schema import audit_log, identity_reviews, profile_records

from .conftest import NOW

ARRIVAL = {
    "reservation": "R-5001",
    "hotel": "SHA01",
    "arrival": "2026-12-01",
    "departure": "2026-12-03",
    "alerts": [],
}
# Every method of Access that hands personal data to a person, and how to call it.
READ_PATHS = {
    "listing": lambda h: h.as_role("front_office").listing(),
    "search": lambda h: h.as_role("front_office").search("张伟"),
    "profile": lambda h: h.as_role("front_office").profile(h.guests["zhang"]),
    "review_queue": lambda h: (_queue_a_pair(h), h.as_role("front_office").review_queue()),
    "arrivals": lambda h: h.as_role("front_office").arrivals(
        [
            {
                "reservation": "R-5001",
                "hotel": "SHA01",
                "arrival": "2026-12-01",
                "departure": "2026-12-03",
                "guest_id": h.guests["zhang"],
                "alerts": [],
            }
        ]
    ),
    "export_subject": lambda h: h.as_role("dpo").export_subject(h.guests["zhang"], "request 2026-41"),
    "marketing_export": lambda h: h.as_role("marketing").marketing_export("marketing", lambda s: True),
}
NOT_READS = {"require", "record_consent", "erase"}  # writes; they are audited too (below)


def _queue_a_pair(hotel):
    # a pair waiting for a person: Li's record against Zhang's guest
    with hotel.store.engine.begin() as conn:
        rid = conn.execute(
            select(profile_records.c.id).where(profile_records.c.guest_id == hotel.guests["li"])
        ).scalar()
        conn.execute(
            insert(identity_reviews),
            {
                "record_id": rid,
                "guest_id": hotel.guests["zhang"],
                "score": 12.0,
                "evidence": {"record": "x"},
                "status": "open",
                "created_at": NOW,
            },
        )


def rows(hotel):
    with hotel.store.engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.id)).all()


def test_the_read_paths_listed_are_every_public_method_of_access():
    public = {n for n, _ in inspect.getmembers(Access, inspect.isfunction) if not n.startswith("_")}
    assert public == set(READ_PATHS) | NOT_READS


@pytest.mark.parametrize("path", sorted(READ_PATHS))
def test_every_read_path_writes_an_audit_row(hotel, path):
    before = len(rows(hotel))
    READ_PATHS[path](hotel)
    new = rows(hotel)[before:]
    assert new, f"{path} wrote no audit row"
    assert all(r.staff_name.startswith("test-") and r.action for r in new)
    assert any(r.guest_id == hotel.guests["zhang"] for r in new)


def test_an_unmasked_read_keeps_its_reason_encrypted(hotel):
    hotel.as_role("front_office").profile(
        hotel.guests["zhang"], unmask=True, reason="张伟 at the desk asks for his booking"
    )
    [row] = rows(hotel)
    assert row.unmasked == 1 and "张伟".encode() not in bytes(row.reason_ct)
    with hotel.store.engine.connect() as conn:
        [listed] = audit.listing(conn, hotel.store.keyring, guest_id=hotel.guests["zhang"])
    assert listed["reason"] == "张伟 at the desk asks for his booking" and listed["fields"]


def test_the_audit_holds_no_plaintext_personal_data(hotel):
    for path in READ_PATHS.values():
        path(hotel)
    dump = repr([r._asdict() for r in rows(hotel)])
    for value in ("张伟", "Zhang", "13800138000", "zhang.wei.privacy", "E41234567", "李娜"):
        assert value not in dump


def _three_reads(hotel):
    fo = hotel.as_role("front_office")
    for key in ("zhang", "li", "martin"):
        fo.profile(hotel.guests[key])
    with hotel.store.engine.connect() as conn:
        assert audit.verify(conn, hotel.store.keyring).ok


def test_verify_passes_then_fails_after_a_row_is_edited(hotel):
    _three_reads(hotel)
    first = rows(hotel)[0].id
    with hotel.store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == first).values(staff_name="someone-else"))
    with hotel.store.engine.connect() as conn:
        v = audit.verify(conn, hotel.store.keyring)
    assert not v.ok and any("edited" in p and f"row {first}" in p for p in v.problems)


def test_verify_fails_after_a_row_is_deleted(hotel):
    _three_reads(hotel)
    middle = rows(hotel)[1].id
    with hotel.store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == middle))
    with hotel.store.engine.connect() as conn:
        v = audit.verify(conn, hotel.store.keyring)
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 2
    assert not v.ok and any("deleted" in p for p in v.problems)


def test_a_row_rehashed_without_the_key_still_fails(hotel):
    # someone with only the database recomputes a plain hash: the chain is keyed, so it shows
    import hashlib

    _three_reads(hotel)
    last = rows(hotel)[-1]
    with hotel.store.engine.begin() as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.id == last.id)
            .values(fields=["name"], row_hash=hashlib.sha256(b"forged").digest()[:16])
        )
    with hotel.store.engine.connect() as conn:
        assert not audit.verify(conn, hotel.store.keyring).ok


def test_erasure_and_consent_are_audited(hotel):
    hotel.as_role("guest_relations").record_consent(hotel.guests["li"], "profiling", True, "n-2026-1")
    hotel.as_role("dpo").erase(hotel.guests["martin"], "erasure request 2026-118")
    assert [r.action for r in rows(hotel)] == ["consent", "erase"]
    with hotel.store.engine.connect() as conn:
        assert audit.verify(conn, hotel.store.keyring).ok
