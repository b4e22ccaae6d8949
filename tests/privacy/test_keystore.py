"""The key store on its own: wrapping, destruction, the cache, the key check."""

from __future__ import annotations

import os

import pytest

from crmbridge.store import keystore
from crmbridge.store.crypto import KeyError_, Keyring, ShreddedError
from crmbridge.store.keystore import SqlKeyStore


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'keys.db'}"


def _ring(url) -> tuple[Keyring, SqlKeyStore]:
    ring = Keyring.generate("k1")
    ks = SqlKeyStore.open(url, ring)
    ring.attach(ks)
    return ring, ks


def test_a_new_key_is_written_wrapped_and_read_back_by_another_process(url):
    ring, ks = _ring(url)
    ks.ensure(["rec-1"])
    ks.flush()
    blob = ring.encrypt(
        "欧阳娜娜", table="profile_records", column="local_name_ct", row_id="rec-1", dek="rec-1"
    )
    other = Keyring(dict(ring.keys), "k1")
    other.attach(SqlKeyStore.open(url, other))
    assert other.decrypt(blob, table="profile_records", column="local_name_ct", row_id="rec-1") == "欧阳娜娜"
    assert ks.count() == 3  # this record's key, the shared key and the index root


def test_a_destroyed_key_is_never_derived_again(url):
    ring, ks = _ring(url)
    ks.ensure(["rec-2"])
    ks.flush()
    blob = ring.encrypt("张伟", table="t", column="c", row_id="1", dek="rec-2")
    assert ks.destroy(["rec-2"]) == 1
    fresh = Keyring(dict(ring.keys), "k1")
    fresh.attach(SqlKeyStore.open(url, fresh))
    with pytest.raises(ShreddedError):
        fresh.decrypt(blob, table="t", column="c", row_id="1")


def test_unflushed_keys_survive_a_full_cache(url, monkeypatch):
    ring, ks = _ring(url)
    monkeypatch.setattr(keystore, "CACHE_LIMIT", 3)
    ks.ensure(["new-1"])
    blob = ring.encrypt("李娜", table="t", column="c", row_id="1", dek="new-1")
    ks.aead("a"), ks.aead("b"), ks.aead("c"), ks.aead("d")  # loads past the limit
    assert ring.decrypt(blob, table="t", column="c", row_id="1") == "李娜"
    ks.flush()


def test_the_key_store_refuses_a_different_master_key_under_the_same_id(url):
    _ring(url)
    with pytest.raises(KeyError_, match="key check value"):
        SqlKeyStore.open(url, Keyring({"k1": os.urandom(32)}, "k1"))


@pytest.fixture
def pg_keys_url(pg_template):
    from crmbridge.testing.pytest_plugin import drop_pg_database, fresh_pg_database

    name, url = fresh_pg_database(pg_template)
    yield url
    drop_pg_database(name)


def test_a_key_store_on_postgresql_creates_destroys_suppresses_and_rewraps(pg_keys_url):
    ring, ks = _ring(pg_keys_url)
    ks.ensure(["rec-pg-1", "rec-pg-2"])
    ks.flush()
    blob = ring.encrypt("王芳", table="t", column="c", row_id="1", dek="rec-pg-1")
    ks.suppress([b"\x01" * 16])
    assert ks.suppressed([b"\x01" * 16, b"\x02" * 16]) == {b"\x01" * 16}
    rotated = Keyring({**ring.keys, "k2": os.urandom(32)}, "k2")
    ks2 = SqlKeyStore.open(pg_keys_url, rotated)
    assert ks2.rewrap(batch=2) == (4, 0)
    rotated.attach(ks2)
    assert rotated.decrypt(blob, table="t", column="c", row_id="1") == "王芳"
    assert ks2.destroy(["rec-pg-1"]) == 1
    with pytest.raises(ShreddedError):
        Keyring(dict(rotated.keys), "k2", data_keys=SqlKeyStore.open(pg_keys_url, rotated)).decrypt(
            blob, table="t", column="c", row_id="1"
        )
    ks.close()
    ks2.close()
