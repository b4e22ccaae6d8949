"""The audit of reads of personal data: append-only, each row chained to the one before.

`row_hash` = keyed hash (under a key derived from the blind-index root, so someone with only
the database cannot forge a chain) of the row's content and the previous row's hash. Editing a
row breaks its own hash; deleting one breaks the next row's link. Rows hold ids, field names and
the encrypted reason: no plaintext personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from ..store.crypto import Keyring
from ..store.schema import audit_log
from ..store.writer import as_utc
from .staff import Actor

GENESIS = b"\x00" * 16
_LOCK_ID = 7_412_001  # PostgreSQL advisory lock serialising appends to the chain


def _digest(keyring: Keyring, prev: bytes, row: dict[str, Any]) -> bytes:
    body = json.dumps(
        {
            "at": as_utc(row["at"]).isoformat(timespec="microseconds"),
            "staff": row["staff_name"],
            "role": row["role"],
            "surface": row["surface"],
            "action": row["action"],
            "guest": row["guest_id"],
            "fields": sorted(row["fields"]),
            "unmasked": int(row["unmasked"]),
            "reason": (bytes(row["reason_ct"]).hex() if row["reason_ct"] else None),
        },
        sort_keys=True,
        ensure_ascii=True,
    )
    return keyring.blind_index(prev.hex() + body, table="audit", index="chain")


def record(
    conn: Connection,
    keyring: Keyring,
    actor: Actor,
    action: str,
    guest_ids: list[str | None],
    fields: list[str],
    now: datetime,
    *,
    unmasked: bool = False,
    reason: str | None = None,
) -> None:
    """Append one row per guest read (a search returning five guests writes five)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    last = conn.execute(select(audit_log.c.row_hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev = bytes(last) if last is not None else GENESIS
    rows = []
    for gid in guest_ids:
        row: dict[str, Any] = {
            "at": now,
            "staff_name": actor.name,
            "role": actor.role.name,
            "surface": actor.surface,
            "action": action,
            "guest_id": gid,
            "fields": sorted(fields),
            "unmasked": int(unmasked),
            "reason_ct": None,
        }
        if reason:
            # bound to the row's time and actor: a reason cannot be moved to another row
            row["reason_ct"] = keyring.encrypt(
                reason, table="audit_log", column="reason_ct", row_id=f"{actor.name}|{now.isoformat()}"
            )
        row["prev_hash"] = prev
        row["row_hash"] = prev = _digest(keyring, prev, row)
        rows.append(row)
    if rows:
        conn.execute(insert(audit_log), rows)


@dataclass
class Verification:
    ok: bool
    rows: int
    problems: list[str]
    head: str | None  # the last row's hash: keep it to detect a truncated tail later


def verify(conn: Connection, keyring: Keyring) -> Verification:
    prev, prev_id, n, problems = GENESIS, None, 0, []
    head = None
    for r in conn.execute(select(audit_log).order_by(audit_log.c.id)):
        n += 1
        row = r._asdict()
        if bytes(r.prev_hash) != prev:
            after = f"after row {prev_id}" if prev_id is not None else "at the start"
            problems.append(f"row {r.id}: the chain is broken {after} (a row was deleted or edited)")
        if _digest(keyring, bytes(r.prev_hash), row) != bytes(r.row_hash):
            problems.append(f"row {r.id}: its content does not match its hash (the row was edited)")
        prev, prev_id, head = bytes(r.row_hash), r.id, bytes(r.row_hash).hex()
    return Verification(not problems, n, problems, head)


def listing(
    conn: Connection,
    keyring: Keyring,
    staff_name: str | None = None,
    guest_id: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if staff_name:
        q = q.where(audit_log.c.staff_name == staff_name)
    if guest_id:
        q = q.where(audit_log.c.guest_id == guest_id)
    out = []
    for r in conn.execute(q):
        reason = None
        if r.reason_ct:
            reason = keyring.decrypt(
                bytes(r.reason_ct),
                table="audit_log",
                column="reason_ct",
                row_id=f"{r.staff_name}|{as_utc(r.at).isoformat()}",
            )
        out.append(
            {
                "id": r.id,
                "at": as_utc(r.at).isoformat(),
                "staff": r.staff_name,
                "role": r.role,
                "surface": r.surface,
                "action": r.action,
                "guest_id": r.guest_id,
                "fields": r.fields,
                "unmasked": bool(r.unmasked),
                "reason": reason,
            }
        )
    return out
