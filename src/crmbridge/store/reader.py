"""Reading the store back: status per source, guests with their linked records, profiles."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from ..masking import mask_document, mask_email, mask_name, mask_phone
from .crypto import Keyring
from .schema import (
    PROFILE_PII_COLUMNS,
    guest_merges,
    guests,
    profile_records,
    quarantine,
    reservations,
    sync_runs,
    sync_state,
)
from .writer import as_utc


def source_status(conn: Connection) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(select(sync_state)):
        out.setdefault(r.source, {"source": r.source, "streams": {}})["streams"][r.stream] = {
            "cursor": r.cursor,
            "cursor_saved_at": as_utc(r.updated_at).isoformat(),
        }
    latest = (
        select(sync_runs.c.source, sync_runs.c.stream, func.max(sync_runs.c.id).label("id"))
        .group_by(sync_runs.c.source, sync_runs.c.stream)
        .subquery()
    )
    for r in conn.execute(select(sync_runs).join(latest, latest.c.id == sync_runs.c.id)):
        s = out.setdefault(r.source, {"source": r.source, "streams": {}})
        s["streams"].setdefault(r.stream, {})["last_run"] = {
            "status": r.status,
            "started_at": as_utc(r.started_at).isoformat(),
            "finished_at": as_utc(r.finished_at).isoformat() if r.finished_at else None,
            "full": bool(r.full),
            **{k: getattr(r, k) for k in ("fetched", "inserted", "updated", "unchanged", "quarantined")},
            "error": r.error,
        }
    q = select(quarantine.c.source, func.count()).where(quarantine.c.resolved_at.is_(None))
    for source, n in conn.execute(q.group_by(quarantine.c.source)):
        out.setdefault(source, {"source": source, "streams": {}})["quarantined"] = n
    for s in out.values():
        s.setdefault("quarantined", 0)
    return sorted(out.values(), key=lambda s: s["source"])


@dataclass
class ProfileRecord:
    record_id: str
    source: str
    source_id: str
    observed_at: datetime | None
    values: dict[str, Any]


def _mask_value(column: str, v: Any) -> Any:
    if column in ("given_name", "surname", "local_name"):
        return mask_name(v)
    if column == "birth_date":
        return "****-" + v[5:]
    if column == "emails":
        return [mask_email(e["address"]) for e in v]
    if column == "phones":
        return [mask_phone(p["number"]) for p in v]
    if column == "documents":
        return [f"{d['doc_type']} {mask_document(d['number'])}" for d in v]
    if column == "addresses":
        return [{"city": a.get("city"), "country": a.get("country")} for a in v]
    if column == "notes":
        return f"{len(v)} note(s)"
    if column == "attributes":
        return sorted(k for k, x in v.items() if x not in (None, "", [], {}, "unknown"))
    return "***"


@dataclass
class GuestView:
    guest_id: str
    records: list[ProfileRecord] = field(default_factory=list)
    reservations: int = 0
    # source -> trust: survivorship shows the most trusted source's value
    trust: dict[str, int] = field(default_factory=dict)

    def _ordered(self) -> list[ProfileRecord]:
        # least preferred first, so the preferred value is written last
        return sorted(
            self.records,
            key=lambda r: (
                self.trust.get(r.source, 0),
                r.observed_at is not None,
                r.observed_at.isoformat() if r.observed_at else "",
            ),
        )

    def provenance(self) -> dict[str, list[dict[str, Any]]]:
        """Every value of every field, masked, with its source and time; `shown` marks the winner."""
        shown = {k: v["from"] for k, v in self.display().items()}
        out: dict[str, list[dict[str, Any]]] = {}
        for rec in reversed(self._ordered()):
            label = f"{rec.source}/{rec.source_id}"
            for k, v in rec.values.items():
                if v in (None, "", [], {}):
                    continue
                out.setdefault(k, []).append(
                    {
                        "value": _mask_value(k, v),
                        "from": label,
                        "observed_at": rec.observed_at.isoformat() if rec.observed_at else None,
                        "trust": self.trust.get(rec.source, 0),
                        "shown": shown.get(k) == label,
                    }
                )
        return out

    def display(self) -> dict[str, Any]:
        """Survivorship: per field, the value from the most trusted source wins, and among
        equally trusted sources the most recently observed one."""
        best: dict[str, tuple[Any, str]] = {}
        ordered = self._ordered()
        for rec in ordered:
            for k, v in rec.values.items():
                if v not in (None, "", [], {}):
                    best[k] = (v, f"{rec.source}/{rec.source_id}")
        return {k: {"value": v, "from": src} for k, (v, src) in best.items()}

    def masked(self) -> dict[str, Any]:
        d = self.display()

        def val(k: str) -> Any:
            return d.get(k, {}).get("value")

        return {
            "guest_id": self.guest_id,
            "name": mask_name(val("local_name"))
            or mask_name(" ".join(x for x in (val("given_name"), val("surname")) if x)),
            "latin_name": mask_name(" ".join(x for x in (val("given_name"), val("surname")) if x)),
            "emails": sorted(
                {mask_email(e["address"]) for r in self.records for e in r.values.get("emails") or []}
            ),
            "phones": sorted(
                {mask_phone(p["number"]) for r in self.records for p in r.values.get("phones") or []}
            ),
            "documents": sorted(
                {mask_document(x["number"]) for r in self.records for x in r.values.get("documents") or []}
            ),
            "birth_date": "****-" + val("birth_date")[5:] if val("birth_date") else None,
            "preferences": sorted(
                {
                    f"{p['category']}:{p['code']}"
                    for r in self.records
                    for p in (r.values.get("attributes") or {}).get("preferences", [])
                }
            ),
            "records": [
                {
                    "source": r.source,
                    "source_id": r.source_id,
                    "observed_at": r.observed_at.isoformat() if r.observed_at else None,
                }
                for r in self.records
            ],
            "reservations": self.reservations,
        }


JSON_COLUMNS = {"emails", "phones", "addresses", "documents", "notes", "attributes"}


def _decrypt_record(keyring: Keyring, row: Any) -> ProfileRecord:
    values: dict[str, Any] = {}
    for c in PROFILE_PII_COLUMNS:
        blob = getattr(row, f"{c}_ct")
        if blob is None:
            continue
        text = keyring.decrypt(bytes(blob), table="profile_records", column=f"{c}_ct", row_id=row.id)
        values[c] = json.loads(text) if c in JSON_COLUMNS else text
    return ProfileRecord(row.id, row.source, row.source_id, as_utc(row.observed_at), values)


def load_guests(
    conn: Connection,
    keyring: Keyring,
    guest_ids: list[str] | None = None,
    limit: int | None = None,
    trust: Mapping[str, int] | None = None,
) -> list[GuestView]:
    q = select(guests.c.id).where(guests.c.merged_into.is_(None)).order_by(guests.c.created_at, guests.c.id)
    if guest_ids is not None:
        q = q.where(guests.c.id.in_(guest_ids))
    if limit:
        q = q.limit(limit)
    ids = [r.id for r in conn.execute(q)]
    views = {g: GuestView(g, trust=dict(trust or {})) for g in ids}
    if not ids:
        return []
    for row in conn.execute(select(profile_records).where(profile_records.c.guest_id.in_(ids))):
        views[row.guest_id].records.append(_decrypt_record(keyring, row))
    counts = conn.execute(
        select(profile_records.c.guest_id, func.count(reservations.c.id))
        .join(reservations, reservations.c.guest_record_id == profile_records.c.id)
        .where(profile_records.c.guest_id.in_(ids))
        .group_by(profile_records.c.guest_id)
    )
    for gid, n in counts:
        views[gid].reservations = n
    return [views[g] for g in ids]


def store_counts(conn: Connection) -> dict[str, int]:
    return {
        "guests": conn.execute(
            select(func.count()).select_from(guests).where(guests.c.merged_into.is_(None))
        ).scalar_one(),
        "profile_records": conn.execute(select(func.count()).select_from(profile_records)).scalar_one(),
        "reservations": conn.execute(select(func.count()).select_from(reservations)).scalar_one(),
        "merges": conn.execute(select(func.count()).select_from(guest_merges)).scalar_one(),
        "quarantined": conn.execute(
            select(func.count()).select_from(quarantine).where(quarantine.c.resolved_at.is_(None))
        ).scalar_one(),
    }
