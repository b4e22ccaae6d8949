"""Field-level encryption and blind indexes (CipherSweet's design on `cryptography`).

Key hierarchy, from one master key per key id:

* per (table, column) AES-256-GCM key = HKDF-SHA384(master, salt=table, info=FENC|column)
* per (table, index) blind-index key  = HKDF-SHA384(master, salt=table, info=BIDX|index)

Ciphertext layouts (bytes):

* v1 (legacy): ``b"\\x01" | len(kid) | kid | nonce(12) | ct+tag`` under the per-column key
  derived from master key ``kid``.
* v2: ``b"\\x02" | len(dek) | dek | nonce(12) | ct+tag`` under data key ``dek``, a random
  AES-256 key kept (wrapped by the master key) in a key store apart from the data database
  (``store/keystore.py``). A guest's records each have their own data key: destroying those
  keys makes the guest unreadable in every copy of the data database (crypto-shredding).

The associated data binds the value to ``table|column|row_id``: a ciphertext copied to another
row or column fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = 1  # of the key file, and of legacy (master-derived) ciphertext
DEK_FORMAT = 2
_DS_FENC = b"\xb4" * 32
_DS_BIDX = b"\x7e" * 32
KEYS_ENV = "CRMBRIDGE_KEYS"
# 128 bits: our indexes are used for exact joins (attach a record to a guest), so a
# collision would mis-attach; CipherSweet-style truncation to ~16 bits would force a
# decrypt-and-compare on every lookup for little extra privacy on high-entropy fields.
BLIND_INDEX_BYTES = 16


class KeyError_(Exception):
    """A key is missing, malformed or unreadable."""


class DecryptionError(Exception):
    """A ciphertext failed authentication (wrong key, row, column or tampered bytes)."""


class ShreddedError(DecryptionError):
    """The value's data key was destroyed: the guest it belonged to was erased."""


class DataKeys(Protocol):
    """Where data keys live (in memory for tests and tools, `keystore.SqlKeyStore` in use)."""

    def aead(self, dek_id: str) -> AESGCM | None: ...
    def ensure(self, dek_ids: Sequence[str]) -> None: ...
    def store_key_id(self) -> str: ...
    def index_root(self) -> bytes: ...
    def destroy(self, dek_ids: Sequence[str]) -> int: ...
    def flush(self) -> None: ...
    def suppress(self, hashes: Iterable[bytes]) -> None: ...
    def destroyed_among(self, dek_ids: Sequence[str]) -> set[str]: ...
    def suppressed(self, hashes: Sequence[bytes]) -> set[bytes]: ...


class MemoryDataKeys:
    """Data keys derived from the master key, in memory: a Keyring's default until a key store
    is attached (tests, tools). Derived, so two keyrings with the same master key agree; a
    destroyed key stays destroyed for this object only. Production attaches a key store."""

    def __init__(self, master: bytes) -> None:
        self._master = master
        self._keys: dict[str, AESGCM] = {}
        self._destroyed: set[str] = set()
        self._suppressed: set[bytes] = set()

    def aead(self, dek_id: str) -> AESGCM | None:
        if dek_id in self._destroyed:
            return None
        aead = self._keys.get(dek_id)
        if aead is None:
            aead = self._keys[dek_id] = AESGCM(derived_key(self._master, dek_id))
        return aead

    def ensure(self, dek_ids: Sequence[str]) -> None:
        return None  # derived on demand

    def store_key_id(self) -> str:
        return "store"

    def index_root(self) -> bytes:
        return self._master

    def destroy(self, dek_ids: Sequence[str]) -> int:
        self._destroyed.update(dek_ids)
        for d in dek_ids:
            self._keys.pop(d, None)
        return len(dek_ids)

    def flush(self) -> None:
        return None

    def suppress(self, hashes: Iterable[bytes]) -> None:
        self._suppressed.update(hashes)

    def destroyed_among(self, dek_ids: Sequence[str]) -> set[str]:
        return self._destroyed.intersection(dek_ids)

    def suppressed(self, hashes: Sequence[bytes]) -> set[bytes]:
        return self._suppressed.intersection(hashes)


def derived_key(root: bytes, dek_id: str) -> bytes:
    """The data key of `dek_id` where no key store holds one (see `MemoryDataKeys`)."""
    return _hkdf(root, dek_id, b"DEK")


def key_check_value(master: bytes) -> str:
    """A value that proves which key bytes are in use without revealing them (hex, 16 bytes)."""
    check_key = _hkdf(master, "key-check", b"KCV")
    return hmac.digest(check_key, b"crmbridge key check", hashlib.sha256)[:16].hex()


def key_encryption_key(master: bytes) -> bytes:
    """The key that wraps data keys: derived, so the master key never wraps itself."""
    return _hkdf(master, "keystore", b"KEK")


def _hkdf(master: bytes, salt: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA384(), length=32, salt=salt.encode(), info=info).derive(master)


@dataclass
class Keyring:
    """Master keys by id; `active` encrypts new values, any listed key decrypts."""

    keys: dict[str, bytes]
    active: str
    _aead: dict[tuple[str, str, str], AESGCM] = field(default_factory=dict, repr=False)
    _bidx: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)
    data_keys: DataKeys = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyError_(f"active key id {self.active!r} is not among the keys")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise KeyError_(f"key {kid!r} must be 32 bytes, got {len(key)}")
            if not kid.isascii() or not 0 < len(kid) < 64:
                raise KeyError_("key ids must be 1-63 ASCII characters")
        if self.data_keys is None:
            # Index keys of a store without a key store come from the active master key, as
            # they always have; a key store keeps that root (wrapped) so rotation keeps it.
            self.data_keys = MemoryDataKeys(self.keys[self.active])

    def attach(self, data_keys: DataKeys) -> None:
        """Use this key store for data keys and the blind-index root from now on."""
        self.data_keys = data_keys
        self._bidx.clear()

    # -- construction -------------------------------------------------------------------
    @classmethod
    def generate(cls, kid: str = "k1") -> Keyring:
        return cls({kid: secrets.token_bytes(32)}, kid)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "active": self.active,
                "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, *, origin: str) -> Keyring:
        try:
            data = json.loads(text)
            keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(keys, data["active"])
        except KeyError_:
            raise
        except Exception as exc:  # malformed JSON, base64 or structure
            raise KeyError_(f"{origin} is not a crmbridge key file ({type(exc).__name__})") from None

    @classmethod
    def load(cls, key_file: Path | None) -> Keyring:
        """Keys from $CRMBRIDGE_KEYS if set, else from the key file."""
        env = os.environ.get(KEYS_ENV)
        if env:
            return cls.from_json(env, origin=f"${KEYS_ENV}")
        if key_file is None:
            raise KeyError_(f"no key file configured and ${KEYS_ENV} is not set")
        if not key_file.exists():
            raise KeyError_(f"key file {key_file} does not exist: run `crmbridge init` to create it")
        mode = stat.S_IMODE(key_file.stat().st_mode)
        if mode & 0o077:
            raise KeyError_(f"key file {key_file} is readable by others (mode {mode:o}); chmod 600 it")
        return cls.from_json(key_file.read_text(), origin=str(key_file))

    def write(self, key_file: Path) -> None:
        """Create the key file with mode 0600; never overwrite an existing one."""
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.to_json())

    # -- encryption ---------------------------------------------------------------------
    def _cipher(self, kid: str, table: str, column: str) -> AESGCM:
        cache_key = (kid, table, column)
        aead = self._aead.get(cache_key)
        if aead is None:
            aead = AESGCM(_hkdf(self.keys[kid], table, _DS_FENC + column.encode()))
            self._aead[cache_key] = aead
        return aead

    @staticmethod
    def _aad(table: str, column: str, row_id: str) -> bytes:
        return f"{table}|{column}|{row_id}".encode()

    def encrypt(
        self, plaintext: str, *, table: str, column: str, row_id: str, dek: str | None = None
    ) -> bytes:
        """Encrypt under data key `dek` (it must exist: `data_keys.ensure`), or the store's
        shared data key for values that belong to no one guest (inbox, quarantine)."""
        dek_id = dek or self.data_keys.store_key_id()
        aead = self.data_keys.aead(dek_id)
        if aead is None:
            raise KeyError_(f"data key {dek_id!r} does not exist (destroyed, or never created)")
        nonce = os.urandom(12)
        ct = aead.encrypt(nonce, plaintext.encode(), self._aad(table, column, row_id))
        d = dek_id.encode()
        return bytes([DEK_FORMAT, len(d)]) + d + nonce + ct

    def decrypt(self, blob: bytes, *, table: str, column: str, row_id: str) -> str:
        if not blob or blob[0] not in (FORMAT_VERSION, DEK_FORMAT):
            raise DecryptionError(f"{table}.{column}: unknown ciphertext format")
        klen = blob[1]
        kid = blob[2 : 2 + klen].decode()
        if blob[0] == DEK_FORMAT:
            aead = self.data_keys.aead(kid)
            if aead is None:
                raise ShreddedError(
                    f"{table}.{column} of row {row_id}: its data key is gone (the guest was erased)"
                )
        elif kid not in self.keys:
            raise DecryptionError(f"{table}.{column}: key {kid!r} is not in the keyring")
        else:
            aead = self._cipher(kid, table, column)
        nonce = blob[2 + klen : 14 + klen]
        try:
            pt = aead.decrypt(nonce, blob[14 + klen :], self._aad(table, column, row_id))
        except InvalidTag:
            raise DecryptionError(
                f"{table}.{column} of row {row_id}: authentication failed "
                "(wrong key, or the value was moved from another row or column)"
            ) from None
        return pt.decode()

    def suppression_hash(self, source: str, source_id: str) -> bytes:
        """Keyed hash naming an erased source record, for the suppression list."""
        return self.blind_index(f"{source}|{source_id}", table="suppression", index="record")

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        """The master key id (v1) or data key id (v2) a ciphertext names."""
        return blob[2 : 2 + blob[1]].decode()

    # -- blind indexes ------------------------------------------------------------------
    def blind_index(self, value: str, *, table: str, index: str) -> bytes:
        """HMAC-SHA256 of an already-normalised value under the (table, index) key."""
        cache_key = (table, index)
        key = self._bidx.get(cache_key)
        if key is None:
            # The root is kept by the key store, so rotating the master key keeps indexes.
            root = _hkdf(self.data_keys.index_root(), table, _DS_BIDX + index.encode())
            key = hmac.digest(root, f"{table}|{index}".encode(), hashlib.sha256)
            self._bidx[cache_key] = key
        return hmac.digest(key, value.encode(), hashlib.sha256)[:BLIND_INDEX_BYTES]
