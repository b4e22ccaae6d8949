"""The guest store: idempotent upserts, ordering, deterministic identity, no plaintext."""

from __future__ import annotations

import subprocess

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text, update

from crmbridge.identity.keys import IdentityPolicy
from crmbridge.store.crypto import DecryptionError
from crmbridge.store.db import make_engine
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.reader import load_guests
from crmbridge.store.schema import guest_merges, guests, metadata, profile_records, reservations

from .factories import reservation


def _live_guests(store):
    return _count(store, guests, guests.c.merged_into.is_(None))


def _count(store, table, *where):
    with store.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _write(store, recs):
    with store.transaction() as w:
        return w.upsert_reservations(recs)


def test_first_write_inserts_reservation_and_guest(store):
    counts = _write(store, [reservation()])
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 0, 0)
    assert _count(store, reservations) == 1
    assert _live_guests(store) == 1


def test_writing_the_same_record_twice_changes_nothing(store):
    _write(store, [reservation()])
    counts = _write(store, [reservation()])
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 1)
    assert _count(store, reservations) == 1 and _count(store, profile_records) == 1


def test_newer_update_overwrites(store):
    _write(store, [reservation()])
    counts = _write(store, [reservation(room_type="STE", updated_at="2026-11-21T09:00:00+08:00")])
    assert counts.updated == 1
    with store.engine.connect() as c:
        assert c.execute(select(reservations.c.room_type)).scalar_one() == "STE"


def test_older_update_never_overwrites_newer(store):
    _write(store, [reservation(room_type="STE", updated_at="2026-11-21T09:00:00+08:00")])
    counts = _write(store, [reservation(room_type="DLK", updated_at="2026-11-20T09:00:00+08:00")])
    assert counts.unchanged == 1
    with store.engine.connect() as c:
        assert c.execute(select(reservations.c.room_type)).scalar_one() == "STE"


def test_duplicate_keys_within_one_batch_keep_the_newest(store):
    counts = _write(
        store,
        [
            reservation(room_type="STE", updated_at="2026-11-21T09:00:00+08:00"),
            reservation(room_type="DLK", updated_at="2026-11-20T09:00:00+08:00"),
        ],
    )
    assert counts.inserted == 1
    with store.engine.connect() as c:
        assert c.execute(select(reservations.c.room_type)).scalar_one() == "STE"


def test_same_phone_in_other_format_attaches_to_one_guest(store):
    _write(store, [reservation("R-1")])
    _write(
        store,
        [
            reservation(
                "R-2", guest={"phones": [{"number": "+86-138-0013-8000"}], "emails": [], "local_name": None}
            )
        ],
    )
    assert _live_guests(store) == 1
    assert _count(store, profile_records) == 2


def test_email_matches_case_insensitively(store):
    _write(store, [reservation("R-1", guest={"phones": []})])
    _write(
        store,
        [reservation("R-2", guest={"phones": [], "emails": [{"address": "Zhang.Wei.Test@Example.CN"}]})],
    )
    assert _live_guests(store) == 1


def test_masked_ota_email_is_not_identity_evidence(store):
    masked = {"phones": [], "documents": [], "emails": [{"address": "z***@trip.com"}]}
    _write(store, [reservation("C-1", guest=masked)])
    _write(
        store,
        [reservation("C-2", guest={**masked, "given_name": "Na", "surname": "Li", "local_name": "李娜"})],
    )
    assert _live_guests(store) == 2


def test_document_numbers_do_not_match_unless_enabled(store):
    # the same name and document, nothing else: a name alone never merges
    g = {"phones": [], "emails": [], "birth_date": None}
    _write(store, [reservation("R-1", guest=g), reservation("R-2", guest=g)])
    assert _live_guests(store) == 2


def test_document_numbers_match_when_the_hotel_enables_it(db_url, keyring):
    s = GuestStore.open(db_url, keyring, IdentityPolicy(match_on_documents=True), upgrade=False)
    g = {"phones": [], "emails": [], "birth_date": None}
    with s.transaction() as w:
        w.upsert_reservations([reservation("R-1", guest=g), reservation("R-2", guest=g)])
    assert _count(s, guests, guests.c.merged_into.is_(None)) == 1
    s.close()


def test_bridging_record_merges_two_guests_and_audits_without_pii(store):
    _write(store, [reservation("R-1", guest={"emails": [], "documents": []})])
    # same name, another phone, no birth date: kept apart
    other = {"phones": [{"number": "+8613900139000"}], "documents": [], "birth_date": None}
    _write(store, [reservation("R-2", guest=other)])
    assert _count(store, guests, guests.c.merged_into.is_(None)) == 2
    # one record carrying both the phone of the first and the e-mail of the second
    _write(store, [reservation("R-3", guest={"documents": []})])
    assert _count(store, guests, guests.c.merged_into.is_(None)) == 1
    with store.engine.connect() as c:
        [ev] = [e for (e,) in c.execute(select(guest_merges.c.evidence)) if e.get("kind") == "bridge"]
    assert ev["merged"]["agreements"]["email"] == "exact"
    assert "138" not in str(ev) and "example" not in str(ev)


def test_profile_values_keep_their_provenance(store):
    _write(store, [reservation("R-1", guest={"given_name": "Wei"}, updated_at="2026-11-01T00:00:00Z")])
    _write(
        store,
        [reservation("R-2", guest={"given_name": "WEI", "emails": []}, updated_at="2026-11-02T00:00:00Z")],
    )
    with store.engine.connect() as c:
        [view] = load_guests(c, store.keyring)
    shown = view.display()
    assert shown["given_name"] == {"value": "WEI", "from": "legacy_pms/rsv:R-2"}
    assert {(r.source, r.source_id) for r in view.records} == {
        ("legacy_pms", "rsv:R-1"),
        ("legacy_pms", "rsv:R-2"),
    }


def test_ciphertext_copied_to_another_row_does_not_decrypt(store):
    _write(store, [reservation("R-1"), reservation("R-2", guest={"phones": [], "emails": []})])
    with store.engine.begin() as c:
        a, b = c.execute(select(profile_records.c.id, profile_records.c.local_name_ct)).all()
        c.execute(
            update(profile_records).where(profile_records.c.id == b.id).values(local_name_ct=a.local_name_ct)
        )
    with store.engine.connect() as c, pytest.raises(DecryptionError):
        load_guests(c, store.keyring)


PII = [
    "张伟",
    "Zhang",
    "zhang.wei.test",
    "8613800138000",
    "13800138000",
    "110101198503140018",
    "1985-03-14",
    "高楼层",
]


def _dump(store) -> bytes:
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        store.engine.dispose()  # checkpoint WAL into the main file
        return (
            subprocess.run(["strings", url.database], capture_output=True, check=True).stdout
            + open(url.database, "rb").read()
        )
    return subprocess.run(
        ["pg_dump", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username, url.database],
        capture_output=True,
        check=True,
    ).stdout


def test_no_plaintext_pii_in_the_database(store):
    _write(
        store,
        [
            reservation("R-1"),
            reservation("R-2", guest={"given_name": "Emma", "surname": "Schmidt", "local_name": None}),
        ],
    )
    dump = _dump(store)
    assert b"pk_reservations" in dump or b"reservations" in dump  # the dump is real
    for value in [*PII, "Schmidt"]:
        assert value.encode() not in dump, f"plaintext {value!r} found in the database"


def test_postgres_stores_ciphertext_as_bytea(store):
    if store.engine.url.get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL-specific")
    with store.engine.connect() as c:
        t = c.execute(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name='profile_records' AND column_name='surname_ct'"
            )
        ).scalar()
    assert t == "bytea"


def test_update_times_in_different_offsets_are_compared_as_instants(store):
    # 10:00 in Shanghai is 02:00 UTC: an update stamped 03:00Z is newer, 01:00Z is older.
    _write(store, [reservation(room_type="DLK", updated_at="2026-11-20T10:00:00+08:00")])
    assert _write(store, [reservation(room_type="DLT", updated_at="2026-11-20T01:00:00Z")]).unchanged == 1
    assert _write(store, [reservation(room_type="STE", updated_at="2026-11-20T03:00:00Z")]).updated == 1
    with store.engine.connect() as c:
        assert c.execute(select(reservations.c.room_type)).scalar_one() == "STE"


def test_migrations_build_exactly_the_schema_the_code_declares(db_url):
    eng = make_engine(db_url)
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    eng.dispose()
    assert diff == []
