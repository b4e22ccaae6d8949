"""The push ledger: what each PMS already shows, so re-pushing never duplicates an alert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from ..models import Alert
from .crypto import Keyring
from .schema import push_ledger
from .writer import utcnow


@dataclass
class LedgerEntry:
    id: str
    target: str
    pms_id: str
    rule: str
    fingerprint: bytes
    external_id: str | None
    status: str


@dataclass
class PushLedger:
    engine: Engine
    keyring: Keyring
    pms_source: str

    def fingerprint(self, alert: Alert) -> bytes:
        """Keyed hash of what the desk would see; equal content, equal fingerprint."""
        body = "\x1f".join((alert.target, alert.pms_id, alert.rule, alert.code, alert.area, alert.text))
        return self.keyring.blind_index(body, table="push_ledger", index="fingerprint")

    def get(self, target: str, pms_id: str, rule: str) -> LedgerEntry | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(push_ledger).where(
                    push_ledger.c.pms_source == self.pms_source,
                    push_ledger.c.target == target,
                    push_ledger.c.pms_id == pms_id,
                    push_ledger.c.rule == rule,
                )
            ).one_or_none()
        if r is None:
            return None
        return LedgerEntry(r.id, r.target, r.pms_id, r.rule, bytes(r.fingerprint), r.external_id, r.status)

    def entries(self, status: str | None = None) -> list[LedgerEntry]:
        q = select(push_ledger).where(push_ledger.c.pms_source == self.pms_source)
        if status:
            q = q.where(push_ledger.c.status == status)
        with self.engine.connect() as conn:
            return [
                LedgerEntry(r.id, r.target, r.pms_id, r.rule, bytes(r.fingerprint), r.external_id, r.status)
                for r in conn.execute(q)
            ]

    def record(
        self,
        alert: Alert,
        status: str,
        external_id: str | None = None,
        detail: str = "",
    ) -> None:
        """Upsert the slot (target, pms_id, rule) with this alert's fingerprint and outcome."""
        fp = self.fingerprint(alert)
        now = utcnow()
        with self.engine.begin() as conn:
            n = conn.execute(
                update(push_ledger)
                .where(
                    push_ledger.c.pms_source == self.pms_source,
                    push_ledger.c.target == alert.target,
                    push_ledger.c.pms_id == alert.pms_id,
                    push_ledger.c.rule == alert.rule,
                )
                .values(
                    fingerprint=fp,
                    status=status,
                    external_id=external_id,
                    detail=detail[:2000],
                    updated_at=now,
                )
            ).rowcount
            if n == 0:
                conn.execute(
                    insert(push_ledger),
                    {
                        "id": str(uuid.uuid4()), "pms_source": self.pms_source, "target": alert.target,
                        "pms_id": alert.pms_id, "rule": alert.rule, "fingerprint": fp,
                        "external_id": external_id, "status": status, "detail": detail[:2000],
                        "updated_at": now,
                    },
                )  # fmt: skip

    def retire(self, target: str, pms_id: str, rule: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(push_ledger)
                .where(
                    push_ledger.c.pms_source == self.pms_source,
                    push_ledger.c.target == target,
                    push_ledger.c.pms_id == pms_id,
                    push_ledger.c.rule == rule,
                )
                .values(status="retired", updated_at=utcnow())
            )
