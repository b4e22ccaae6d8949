"""Field encryption and blind indexes: the store's guarantee that PII is never plaintext."""

import json
import os
import stat

import pytest

from crmbridge.store.crypto import DecryptionError, KeyError_, Keyring, ShreddedError


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate("k1")


def test_encrypt_roundtrip_chinese_name(keyring):
    blob = keyring.encrypt("张伟", table="profile_values", column="value", row_id="r1")
    assert "张伟".encode() not in blob
    assert keyring.decrypt(blob, table="profile_values", column="value", row_id="r1") == "张伟"


def test_ciphertext_moved_to_another_row_fails(keyring):
    blob = keyring.encrypt("zhang.wei@example.cn", table="t", column="c", row_id="42")
    with pytest.raises(DecryptionError, match="moved from another row"):
        keyring.decrypt(blob, table="t", column="c", row_id="43")


def test_ciphertext_moved_to_another_column_fails(keyring):
    blob = keyring.encrypt("+8613800138000", table="t", column="phone", row_id="1")
    with pytest.raises(DecryptionError):
        keyring.decrypt(blob, table="t", column="email", row_id="1")


def test_ciphertext_names_its_data_key_and_the_same_master_key_reads_it():
    ring = Keyring.generate("2025-01")
    blob = ring.encrypt("LI NA", table="t", column="c", row_id="1", dek="rec-1")
    assert Keyring.key_id_of(blob) == "rec-1"
    again = Keyring(dict(ring.keys), "2025-01")
    assert again.decrypt(blob, table="t", column="c", row_id="1") == "LI NA"
    with pytest.raises(DecryptionError):
        Keyring({"2025-01": os.urandom(32)}, "2025-01").decrypt(blob, table="t", column="c", row_id="1")


def test_a_destroyed_data_key_makes_its_values_unreadable(keyring):
    blob = keyring.encrypt("王芳", table="t", column="c", row_id="1", dek="rec-9")
    keyring.data_keys.destroy(["rec-9"])
    with pytest.raises(ShreddedError, match="erased"):
        keyring.decrypt(blob, table="t", column="c", row_id="1")


def test_blind_index_is_deterministic_and_keyed_per_index(keyring):
    a = keyring.blind_index("+8613800138000", table="guest_index", index="phone")
    assert a == keyring.blind_index("+8613800138000", table="guest_index", index="phone")
    assert a != keyring.blind_index("+8613800138000", table="guest_index", index="email")
    assert a != Keyring.generate().blind_index("+8613800138000", table="guest_index", index="phone")


def test_key_file_is_created_0600_and_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.delenv("CRMBRIDGE_KEYS", raising=False)
    path = tmp_path / "keys" / "crmbridge.key"
    ring = Keyring.generate()
    ring.write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        Keyring.generate().write(path)
    assert Keyring.load(path).keys == ring.keys


def test_world_readable_key_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("CRMBRIDGE_KEYS", raising=False)
    path = tmp_path / "k.key"
    Keyring.generate().write(path)
    path.chmod(0o644)
    with pytest.raises(KeyError_, match="chmod 600"):
        Keyring.load(path)


def test_keys_from_environment_win_over_file(tmp_path, monkeypatch):
    ring = Keyring.generate("env")
    monkeypatch.setenv("CRMBRIDGE_KEYS", ring.to_json())
    assert Keyring.load(tmp_path / "missing.key").active == "env"


def test_malformed_key_material_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CRMBRIDGE_KEYS", json.dumps({"active": "k", "keys": {"k": "short"}}))
    with pytest.raises(KeyError_):
        Keyring.load(None)
