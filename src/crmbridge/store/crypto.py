"""Field-level encryption and blind indexes (CipherSweet's design on `cryptography`).

Key hierarchy, from one master key per key id:

* per (table, column) AES-256-GCM key = HKDF-SHA384(master, salt=table, info=FENC|column)
* per (table, index) blind-index key  = HKDF-SHA384(master, salt=table, info=BIDX|index)

Ciphertext layout (bytes): ``b"\\x01" | len(kid) | kid | nonce(12) | ct+tag``. The key id is in
the clear so a later rotation knows which key to decrypt with. The associated data binds the
value to ``table|column|row_id``: a ciphertext copied to another row or column fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = 1
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


def _hkdf(master: bytes, salt: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA384(), length=32, salt=salt.encode(), info=info).derive(master)


@dataclass
class Keyring:
    """Master keys by id; `active` encrypts new values, any listed key decrypts."""

    keys: dict[str, bytes]
    active: str
    _aead: dict[tuple[str, str, str], AESGCM] = field(default_factory=dict, repr=False)
    _bidx: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyError_(f"active key id {self.active!r} is not among the keys")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise KeyError_(f"key {kid!r} must be 32 bytes, got {len(key)}")
            if not kid.isascii() or not 0 < len(kid) < 64:
                raise KeyError_("key ids must be 1-63 ASCII characters")

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

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> bytes:
        kid = self.active
        nonce = os.urandom(12)
        ct = self._cipher(kid, table, column).encrypt(
            nonce, plaintext.encode(), self._aad(table, column, row_id)
        )
        kid_b = kid.encode()
        return bytes([FORMAT_VERSION, len(kid_b)]) + kid_b + nonce + ct

    def decrypt(self, blob: bytes, *, table: str, column: str, row_id: str) -> str:
        if not blob or blob[0] != FORMAT_VERSION:
            raise DecryptionError(f"{table}.{column}: unknown ciphertext format")
        klen = blob[1]
        kid = blob[2 : 2 + klen].decode()
        if kid not in self.keys:
            raise DecryptionError(f"{table}.{column}: key {kid!r} is not in the keyring")
        nonce = blob[2 + klen : 14 + klen]
        try:
            pt = self._cipher(kid, table, column).decrypt(
                nonce, blob[14 + klen :], self._aad(table, column, row_id)
            )
        except InvalidTag:
            raise DecryptionError(
                f"{table}.{column} of row {row_id}: authentication failed "
                "(wrong key, or the value was moved from another row or column)"
            ) from None
        return pt.decode()

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        return blob[2 : 2 + blob[1]].decode()

    # -- blind indexes ------------------------------------------------------------------
    def blind_index(self, value: str, *, table: str, index: str) -> bytes:
        """HMAC-SHA256 of an already-normalised value under the (table, index) key."""
        cache_key = (table, index)
        key = self._bidx.get(cache_key)
        if key is None:
            # Index keys come from the *active* key; rotating it means re-indexing.
            root = _hkdf(self.keys[self.active], table, _DS_BIDX + index.encode())
            key = hmac.digest(root, f"{table}|{index}".encode(), hashlib.sha256)
            self._bidx[cache_key] = key
        return hmac.digest(key, value.encode(), hashlib.sha256)[:BLIND_INDEX_BYTES]
