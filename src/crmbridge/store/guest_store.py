"""The guest store as the rest of crmbridge uses it: open, migrate, write in transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from ..identity.keys import IdentityPolicy
from .crypto import Keyring
from .db import make_engine, migrate
from .inbox import Inbox
from .ledger import PushLedger
from .writer import BatchWriter


@dataclass
class GuestStore:
    engine: Engine
    keyring: Keyring
    policy: IdentityPolicy
    phone_region: str = "CN"

    @classmethod
    def open(
        cls,
        url: str,
        keyring: Keyring,
        policy: IdentityPolicy | None = None,
        phone_region: str = "CN",
        *,
        upgrade: bool = True,
    ) -> GuestStore:
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine, keyring, policy or IdentityPolicy(), phone_region)

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
