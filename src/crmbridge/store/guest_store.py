"""The guest store as the rest of crmbridge uses it: open, migrate, write in transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select

from ..identity.keys import IdentityPolicy
from .crypto import KeyError_, Keyring, key_check_value
from .db import make_engine, migrate
from .inbox import Inbox
from .keystore import SqlKeyStore
from .ledger import PushLedger
from .schema import store_meta
from .writer import BatchWriter


@dataclass
class GuestStore:
    engine: Engine
    keyring: Keyring
    policy: IdentityPolicy
    phone_region: str = "CN"
    key_store: SqlKeyStore | None = None

    @classmethod
    def open(
        cls,
        url: str,
        keyring: Keyring,
        policy: IdentityPolicy | None = None,
        phone_region: str = "CN",
        *,
        upgrade: bool = True,
        key_store_url: str | None = None,
    ) -> GuestStore:
        """Open (and migrate) the store. The master keys are checked against the key check
        values the store and the key store recorded: a wrong key raises `KeyError_` before
        anything is written. Without `key_store_url` data keys are derived in memory (tests)."""
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        try:
            with engine.begin() as conn:
                check_keys(conn, keyring)
            ks = SqlKeyStore.open(key_store_url, keyring) if key_store_url else None
        except Exception:
            engine.dispose()
            raise
        if ks is not None:
            keyring.attach(ks)
        return cls(engine, keyring, policy or IdentityPolicy(), phone_region, ks)

    @contextmanager
    def transaction(self) -> Iterator[BatchWriter]:
        """One unit of work: everything written through the writer commits together."""
        with self.engine.begin() as conn:
            yield BatchWriter(conn, self.keyring, self.policy)

    def inbox(self, source: str) -> Inbox:
        return Inbox(self.engine, self.keyring, source)

    def ledger(self, pms_source: str) -> PushLedger:
        return PushLedger(self.engine, self.keyring, pms_source)

    def close(self) -> None:
        self.engine.dispose()
        if self.key_store is not None:
            self.key_store.close()


def check_keys(conn: Connection, keyring: Keyring) -> None:
    """Refuse master keys whose bytes differ from those this store was written with (even
    under the same key id); record the check value of a key seen for the first time."""
    stored = dict(conn.execute(select(store_meta.c.name, store_meta.c.value)).all())
    for kid, key in keyring.keys.items():
        kcv = key_check_value(key)
        have = stored.get(f"kcv:{kid}")
        if have is None:
            conn.execute(insert(store_meta), {"name": f"kcv:{kid}", "value": kcv})
        elif have != kcv:
            raise KeyError_(
                f"master key {kid!r} is not the key this store was written with (its key check "
                "value differs); nothing was written. Use the key file (or $CRMBRIDGE_KEYS) "
                "that belongs to this store"
            )
