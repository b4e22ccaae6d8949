"""The key store: data keys, wrapped by the master key, in a database apart from the data.

Each profile record's values are encrypted under the record's own data key (its id is the
record id), so a guest is as many keys as it has records. Merging and unmerging guests moves
records, never keys: nothing is re-encrypted or re-wrapped. Erasing a guest deletes its
records' keys here; every copy of the data database, backups included, then holds only
ciphertext nobody can open. The store also keeps:

* one shared data key (``store``) for values that belong to no single guest yet (inbox and
  quarantine payloads, feedback text, POS notes);
* the blind-index root (``index``), so rotating the master key leaves every index valid;
* the key check values of the master keys, and the suppression list of erased source records
  (keyed hashes only), which must survive a restore of the data database from a backup.

Writes are buffered per batch and committed by `flush` *before* the data transaction commits:
a crash in between leaves an unused key, never data without its key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    event,
    insert,
    select,
    text,
    update,
)

from .crypto import KeyError_, Keyring, derived_key, key_check_value, key_encryption_key
from .db import make_engine

metadata = MetaData()
data_keys = Table(
    "data_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kek_id", String(63), nullable=False),  # the master key that wraps it
    Column("wrapped", LargeBinary, nullable=False),  # RFC 3394 AES key wrap, 40 bytes
    Column("created_at", DateTime(timezone=True), nullable=False),
)
key_meta = Table(
    "key_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)
# Ids of destroyed data keys: such a key is gone for good, never derived again (below).
destroyed = Table(
    "destroyed_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("destroyed_at", DateTime(timezone=True), nullable=False),
)
suppressions = Table(
    "suppressions",
    metadata,
    Column("hash", LargeBinary(32), primary_key=True),  # keyed hash of "source|source_id"
    Column("created_at", DateTime(timezone=True), nullable=False),
)

STORE_KEY = "store"
INDEX_KEY = "index"
CACHE_LIMIT = 200_000  # unwrapped keys kept; past it the cache starts over
CHUNK = 500


def _secure_delete(dbapi_conn: Any, _record: Any) -> None:
    # Deleted key bytes are overwritten in the file, not just unlinked from the b-tree.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


class SqlKeyStore:
    """Data keys in their own SQLite file or PostgreSQL database (see module docstring)."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        self._cache: dict[str, AESGCM] = {}
        self._pending: list[dict[str, Any]] = []
        self._root: bytes | None = None
        self._keks: dict[str, bytes] = {}

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, keyring: Keyring) -> SqlKeyStore:
        engine = make_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _secure_delete)
        metadata.create_all(engine)
        ks = cls(engine, keyring)
        ks._bootstrap()
        return ks

    def _bootstrap(self) -> None:
        with self.engine.begin() as conn:
            meta = dict(conn.execute(select(key_meta.c.name, key_meta.c.value)).all())
            self._check_keys(conn, meta)
            have = {
                r.id
                for r in conn.execute(
                    select(data_keys.c.id).where(data_keys.c.id.in_([STORE_KEY, INDEX_KEY]))
                )
            }
            # The index root of an existing store is the master key its indexes were built
            # under (how crmbridge derived them before the key store): kept, they stay valid.
            # The shared key is derived the same way as without a key store, so values written
            # by a tool without one stay readable; it is never shredded, so that costs nothing.
            root = self.keyring.keys[self.keyring.active]
            seeds = {STORE_KEY: derived_key(root, STORE_KEY), INDEX_KEY: root}
            for name, key in seeds.items():
                if name not in have:
                    conn.execute(insert(data_keys), [self._wrap_row(name, key)])

    def _check_keys(self, conn: Any, meta: dict[str, str]) -> None:
        for kid, key in self.keyring.keys.items():
            stored = meta.get(f"kcv:{kid}")
            if stored is None:
                conn.execute(insert(key_meta), {"name": f"kcv:{kid}", "value": key_check_value(key)})
            elif stored != key_check_value(key):
                raise KeyError_(
                    f"master key {kid!r} is not the key the key store was written with "
                    "(its key check value differs): restore the right key file or $CRMBRIDGE_KEYS"
                )

    def _kek(self, kid: str) -> bytes:
        kek = self._keks.get(kid)
        if kek is None:
            master = self.keyring.keys.get(kid)
            if master is None:
                raise KeyError_(f"data keys are wrapped by master key {kid!r}, which is not in the keyring")
            kek = self._keks[kid] = key_encryption_key(master)
        return kek

    def _wrap_row(self, dek_id: str, key: bytes) -> dict[str, Any]:
        kid = self.keyring.active
        return {
            "id": dek_id,
            "kek_id": kid,
            "wrapped": aes_key_wrap(self._kek(kid), key),
            "created_at": datetime.now(UTC),
        }

    def _unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._kek(kek_id), wrapped)
        except InvalidUnwrap:
            raise KeyError_(f"master key {kek_id!r} does not unwrap the data keys: wrong key") from None

    # -- the DataKeys protocol -----------------------------------------------------------
    def aead(self, dek_id: str) -> AESGCM | None:
        """The data key `dek_id`; None once destroyed. A record written before this key store
        existed (or by a tool without one) has no stored key: its key is derived from the
        index root as `MemoryDataKeys` derives it, so such data stays readable."""
        aead = self._cache.get(dek_id)
        if aead is None:
            self._load([dek_id])
            aead = self._cache.get(dek_id)
        return aead

    def _load(self, ids: Sequence[str]) -> None:
        want = [i for i in dict.fromkeys(ids) if i not in self._cache]
        if not want:
            return
        if len(self._cache) + len(want) > CACHE_LIMIT:
            # keys created but not yet flushed exist nowhere else: they stay
            self._cache = {r["id"]: self._cache[r["id"]] for r in self._pending}
        with self.engine.connect() as conn:
            gone: set[str] = set()
            for k in range(0, len(want), CHUNK):
                part = want[k : k + CHUNK]
                for r in conn.execute(select(data_keys).where(data_keys.c.id.in_(part))):
                    self._cache[r.id] = AESGCM(self._unwrap(r.kek_id, bytes(r.wrapped)))
                gone |= {r.id for r in conn.execute(select(destroyed.c.id).where(destroyed.c.id.in_(part)))}
        for d in want:
            if d not in self._cache and d not in gone:
                self._cache[d] = AESGCM(derived_key(self.index_root(), d))

    def ensure(self, dek_ids: Sequence[str]) -> None:
        """Create a fresh random key for each of these *new* ids (ids never used before),
        written to the key store at the next `flush`."""
        for d in dict.fromkeys(dek_ids):
            key = secrets.token_bytes(32)
            self._pending.append(self._wrap_row(d, key))
            self._cache[d] = AESGCM(key)

    def flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        with self.engine.begin() as conn:
            for k in range(0, len(rows), CHUNK):
                conn.execute(insert(data_keys), rows[k : k + CHUNK])

    def store_key_id(self) -> str:
        return STORE_KEY

    def index_root(self) -> bytes:
        if self._root is None:
            with self.engine.connect() as conn:
                r = conn.execute(select(data_keys).where(data_keys.c.id == INDEX_KEY)).one()
            self._root = self._unwrap(r.kek_id, bytes(r.wrapped))
        return self._root

    def destroy(self, dek_ids: Sequence[str]) -> int:
        """Delete these data keys for good (the shared and index keys are never destroyed)."""
        ids = [d for d in dict.fromkeys(dek_ids) if d not in (STORE_KEY, INDEX_KEY)]
        n = 0
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            for k in range(0, len(ids), CHUNK):
                part = ids[k : k + CHUNK]
                n += conn.execute(delete(data_keys).where(data_keys.c.id.in_(part))).rowcount
                have = {r.id for r in conn.execute(select(destroyed.c.id).where(destroyed.c.id.in_(part)))}
                rows = [{"id": d, "destroyed_at": now} for d in part if d not in have]
                if rows:
                    conn.execute(insert(destroyed), rows)
        for d in ids:
            self._cache.pop(d, None)
        self._vacuum()
        return n

    def _vacuum(self) -> None:
        # PostgreSQL keeps deleted tuples until vacuumed; SQLite's WAL keeps old pages.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if self.engine.dialect.name == "sqlite":
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            else:
                conn.execute(text("VACUUM data_keys, destroyed_keys"))

    def destroyed_among(self, dek_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(dek_ids))
        out: set[str] = set()
        with self.engine.connect() as conn:
            for k in range(0, len(ids), CHUNK):
                q = select(destroyed.c.id).where(destroyed.c.id.in_(ids[k : k + CHUNK]))
                out |= {r.id for r in conn.execute(q)}
        return out

    # -- suppression of erased source records --------------------------------------------
    def suppress(self, hashes: Iterable[bytes]) -> None:
        rows = [{"hash": h, "created_at": datetime.now(UTC)} for h in dict.fromkeys(hashes)]
        with self.engine.begin() as conn:
            have = self._suppressed(conn, [r["hash"] for r in rows])
            new = [r for r in rows if r["hash"] not in have]
            if new:
                conn.execute(insert(suppressions), new)

    def suppressed(self, hashes: Sequence[bytes]) -> set[bytes]:
        with self.engine.connect() as conn:
            return self._suppressed(conn, hashes)

    @staticmethod
    def _suppressed(conn: Any, hashes: Sequence[bytes]) -> set[bytes]:
        out: set[bytes] = set()
        for k in range(0, len(hashes), CHUNK):
            q = select(suppressions.c.hash).where(suppressions.c.hash.in_(list(hashes[k : k + CHUNK])))
            out |= {bytes(h) for (h,) in conn.execute(q)}
        return out

    # -- rotation ------------------------------------------------------------------------
    def rewrap(self, batch: int = 1000, limit: int | None = None) -> tuple[int, int]:
        """Re-wrap data keys not yet under the active master key, `batch` per transaction
        (resumable: a killed run goes on where it stopped), at most `limit` of them.
        Returns (re-wrapped, remaining)."""
        active = self.keyring.active
        done = 0
        while limit is None or done < limit:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    select(data_keys)
                    .where(data_keys.c.kek_id != active)
                    .order_by(data_keys.c.id)
                    .limit(batch)
                ).all()
                for r in rows:
                    key = self._unwrap(r.kek_id, bytes(r.wrapped))
                    new = self._wrap_row(r.id, key)
                    conn.execute(
                        update(data_keys)
                        .where(data_keys.c.id == r.id)
                        .values(kek_id=new["kek_id"], wrapped=new["wrapped"])
                    )
            done += len(rows)
            if len(rows) < batch:
                break
        return done, self.remaining()

    def remaining(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(data_keys).where(data_keys.c.kek_id != self.keyring.active)
            ).scalar_one()

    def count(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(data_keys)).scalar_one()

    def close(self) -> None:
        self.engine.dispose()
