"""The key check refuses a wrong master key; rotation re-wraps data keys and is resumable."""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine, inspect, select

from crmbridge.store.crypto import Keyring
from crmbridge.store.keystore import data_keys
from crmbridge.store.keystore import metadata as ks_metadata

from .hotel_cli import cli, hotel_checkout, keys_url


def _counts(url: str, tables=None) -> dict[str, int]:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with eng.connect() as conn:
        names = tables or inspect(conn).get_table_names()
        out = {t: conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one() for t in names}
    eng.dispose()
    return out


def _wrong_key_same_id(root):
    key = root / "var" / "crmbridge.key"
    right = Keyring.load(key)
    key.unlink()
    Keyring({right.active: secrets.token_bytes(32)}, right.active).write(key)


@pytest.mark.parametrize("command", [["check"], ["sync"], ["serve", "--api", "--api-port", "0"]])
def test_a_wrong_key_with_the_right_key_id_is_refused_with_exit_2_and_nothing_written(
    tmp_path, db_url, command
):
    root = hotel_checkout(tmp_path, db_url)
    before = _counts(db_url), _counts(keys_url(root))
    _wrong_key_same_id(root)
    result = cli(root, *command, check=False)
    assert result.exit_code == 2
    assert (
        "not the key this store was written with" in result.output and "nothing was written" in result.output
    )
    assert (_counts(db_url), _counts(keys_url(root))) == before


def test_rotation_rewraps_every_data_key_and_leaves_guests_readable_and_findable(tmp_path, db_url):
    root = hotel_checkout(tmp_path, db_url)
    old = Keyring.load(root / "var" / "crmbridge.key").active
    found_before = cli(root, "guests", "--json").stdout
    cli(root, "keys", "rotate", "--yes")
    ring = Keyring.load(root / "var" / "crmbridge.key")
    assert ring.active != old and old in ring.keys
    eng = create_engine(keys_url(root))
    with eng.connect() as conn:
        keks = {k for (k,) in conn.execute(select(data_keys.c.kek_id))}
    eng.dispose()
    assert keks == {ring.active}
    assert cli(root, "guests", "--json").stdout.count("guest_id") == found_before.count("guest_id") == 3
    shown = cli(
        root, "guests", "show", "--json", cli(root, "guests", "--json").stdout.split('"guest_id": "')[1][:8]
    ).stdout
    assert "provenance" in shown


def test_an_interrupted_rotation_resumes_without_a_new_key(tmp_path, db_url):
    root = hotel_checkout(tmp_path, db_url)
    from crmbridge.store.keystore import SqlKeyStore

    # the key file already names the new key (as after a crash mid re-wrap), keys still old
    key = root / "var" / "crmbridge.key"
    ring = Keyring.load(key)
    rotated = Keyring({**ring.keys, "k2": os.urandom(32)}, "k2")
    key.unlink()
    rotated.write(key)
    ks = SqlKeyStore.open(keys_url(root), rotated)
    assert ks.remaining() == ks.count() > 2
    ks.rewrap(batch=1, limit=1)
    assert 0 < ks.remaining() < ks.count()
    ks.close()
    result = cli(root, "keys", "rotate", "--yes")
    assert "resuming" in result.output and "0 left" in result.output
    assert set(Keyring.load(key).keys) == {ring.active, "k2"}  # no third key
    assert cli(root, "guests", "--json").stdout.count("guest_id") == 3


def test_the_key_store_tables_are_its_own(tmp_path, db_url):
    root = hotel_checkout(tmp_path, db_url)
    data_tables = set(_counts(db_url))
    assert not data_tables & set(ks_metadata.tables)
    assert _counts(keys_url(root), ["data_keys"])["data_keys"] == 3 + 2  # one per record, shared, index
