"""The durable inbox: what a source handed over once is never lost.

``put`` commits on its own, before the caller acknowledges anything to the sender (or, for
OPERA, before the dequeued events are processed). A batch that consumed messages lists their
ids in ``Batch.ack``; the engine marks them done in the batch's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .crypto import Keyring
from .schema import inbox
from .writer import utcnow


def _col(source: str, dedupe_key: str) -> dict[str, str]:
    # (source, dedupe_key) is the message's immutable identity, known before the insert.
    return {"table": "inbox", "column": "payload_ct", "row_id": f"{source}|{dedupe_key}"}


def _insert_for(conn: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING (both backends speak it)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


@dataclass
class InboxMessage:
    id: int
    kind: str
    dedupe_key: str
    payload: str
    attempts: int


@dataclass
class Inbox:
    engine: Engine
    keyring: Keyring
    source: str

    def put(self, messages: Iterable[tuple[str, str, str]]) -> list[int]:
        """Store (kind, dedupe_key, payload) messages; a key seen before is not stored twice.

        Returns the ids of the messages, new or already present, in order."""
        return [mid for mid, _ in self.put_new(messages)]

    def put_new(self, messages: Iterable[tuple[str, str, str]]) -> list[tuple[int, bool]]:
        """Like `put`, with whether each message was stored by this call (False: a copy of
        one already there). Safe under concurrency: two copies sent at once store one message,
        and exactly one caller is told it is new."""
        msgs = list(messages)
        if not msgs:
            return []
        out: dict[str, tuple[int, bool]] = {}
        with self.engine.begin() as conn:
            # The insert comes first: on SQLite the transaction then takes the write lock
            # (waiting on busy_timeout) instead of reading and failing to upgrade later, and
            # ON CONFLICT DO NOTHING makes a concurrent copy a no-op on both backends.
            upsert = _insert_for(conn)
            now = utcnow()
            # One insert per message, in arrival order: the serial id is the processing order.
            for kind, key, payload in msgs:
                if key in out:
                    continue
                stmt = (
                    upsert(inbox)
                    .values(
                        source=self.source,
                        kind=kind,
                        dedupe_key=key,
                        payload_ct=self.keyring.encrypt(payload, **_col(self.source, key)),
                        received_at=now,
                        status="pending",
                        attempts=0,
                    )
                    .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
                    .returning(inbox.c.id)
                )
                new_id = conn.execute(stmt).scalar_one_or_none()
                if new_id is not None:
                    out[key] = (new_id, True)
            missing = [k for _, k, _ in msgs if k not in out]
            if missing:
                rows = conn.execute(
                    select(inbox.c.dedupe_key, inbox.c.id).where(
                        inbox.c.source == self.source, inbox.c.dedupe_key.in_(missing)
                    )
                )
                out.update({k: (i, False) for k, i in rows})
        return [out[k] for _, k, _ in msgs]

    def pending(
        self, kinds: Sequence[str] | None = None, limit: int = 1000, after_id: int = 0
    ) -> list[InboxMessage]:
        """Pending messages in arrival order; `after_id` pages past messages left waiting."""
        q = (
            select(inbox)
            .where(inbox.c.source == self.source, inbox.c.status == "pending", inbox.c.id > after_id)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        if kinds:
            q = q.where(inbox.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            return [self._message(r) for r in conn.execute(q)]

    def _message(self, r: Any) -> InboxMessage:
        payload = self.keyring.decrypt(bytes(r.payload_ct), **_col(self.source, r.dedupe_key))
        return InboxMessage(r.id, r.kind, r.dedupe_key, payload, r.attempts)

    def history(self, key_prefix: str) -> list[tuple[str, InboxMessage]]:
        """(status, message) of every message, in any status, whose dedupe key starts with
        `key_prefix`, in arrival order: e.g. an order with its later modifications and cancel."""
        q = (
            select(inbox)
            .where(
                inbox.c.source == self.source,
                inbox.c.dedupe_key.startswith(key_prefix, autoescape=True),
                # LIKE ignores case on SQLite (ORD7A would find ord7a's messages); the prefix
                # compared with = is exact on both backends.
                func.substr(inbox.c.dedupe_key, 1, len(key_prefix)) == key_prefix,
            )
            .order_by(inbox.c.id)
        )
        with self.engine.connect() as conn:
            return [(r.status, self._message(r)) for r in conn.execute(q)]

    def find(self, dedupe_keys: Sequence[str]) -> dict[str, tuple[str, InboxMessage]]:
        """(status, message) by dedupe key, whatever the status, for the keys present.

        A push adapter answers status queries, and folds a late cancel into its booking,
        from what it was sent before."""
        keys = list(dict.fromkeys(dedupe_keys))
        out: dict[str, tuple[str, InboxMessage]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                q = select(inbox).where(
                    inbox.c.source == self.source, inbox.c.dedupe_key.in_(keys[i : i + 500])
                )
                for r in conn.execute(q):
                    out[r.dedupe_key] = (r.status, self._message(r))
        return out

    def get(self, message_id: int) -> tuple[str, InboxMessage]:
        """(status, message) of one message."""
        with self.engine.connect() as conn:
            r = conn.execute(select(inbox).where(inbox.c.id == message_id)).one()
        return r.status, self._message(r)

    @staticmethod
    def mark_done(conn: Connection, ids: Sequence[int]) -> None:
        """Called by the engine inside the transaction that wrote the messages' data."""
        if ids:
            conn.execute(
                update(inbox).where(inbox.c.id.in_(list(ids))).values(status="done", processed_at=utcnow())
            )

    def mark_failed(self, message_id: int, error: str, *, give_up: bool = False) -> None:
        """Record a processing failure; the message stays pending for retry unless give_up."""
        with self.engine.begin() as conn:
            conn.execute(
                update(inbox)
                .where(inbox.c.id == message_id)
                .values(
                    attempts=inbox.c.attempts + 1,
                    last_error=error[:2000],
                    status="failed" if give_up else "pending",
                )
            )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(inbox.c.status, func.count())
                .where(inbox.c.source == self.source)
                .group_by(inbox.c.status)
            )
            return {status: n for status, n in rows}
