"""Deterministic identity: records sharing an exact identity key belong to one guest.

This is the seam later matchers (fuzzy, cross-script) plug into: they receive the same
``Candidate`` list and return the same ``Resolution``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from ..store.schema import guest_index, guests, profile_records


@dataclass
class Candidate:
    record_id: str
    label: str  # "source/source_id", for the audit trail
    current_guest: str | None
    keys: list[tuple[str, bytes]]  # (kind, blind index)


@dataclass
class Merge:
    survivor: str
    merged: str
    evidence: dict[str, object]


@dataclass
class Resolution:
    assignment: dict[str, str] = field(default_factory=dict)  # record id -> guest id
    new_guests: list[str] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)


def _chunks(items: list, n: int = 500) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class DeterministicResolver:
    def resolve(self, conn: Connection, candidates: list[Candidate]) -> Resolution:
        res = Resolution()
        owner: dict[tuple[str, bytes], str] = {}
        hashes = list({h for c in candidates for _, h in c.keys})
        for chunk in _chunks(hashes):
            rows = conn.execute(
                # DISTINCT: a frequent guest has one index row per record; one per guest will do.
                select(guest_index.c.kind, guest_index.c.hash, profile_records.c.guest_id)
                .distinct()
                .join(profile_records, profile_records.c.id == guest_index.c.record_id)
                .where(guest_index.c.hash.in_(chunk))
            )
            for kind, h, gid in rows:
                owner.setdefault((kind, bytes(h)), gid)

        alias: dict[str, str] = {}

        def find(g: str) -> str:
            while g in alias:
                g = alias[g]
            return g

        created: dict[str, object] = {}
        for c in candidates:
            matched: dict[str, set[str]] = {}
            for kind, h in c.keys:
                g = owner.get((kind, h))
                if g is not None:
                    matched.setdefault(find(g), set()).add(kind)
            if c.current_guest is not None:
                matched.setdefault(find(c.current_guest), set()).add("same_record")
            if not matched:
                gid = str(uuid.uuid4())
                res.new_guests.append(gid)
                created[gid] = len(created)
                survivor = gid
            else:
                survivor = self._oldest(conn, list(matched), created)
                for other in matched:
                    if other != survivor:
                        alias[other] = survivor
                        res.merges.append(
                            Merge(
                                survivor,
                                other,
                                {
                                    "rule": "deterministic",
                                    "record": c.label,
                                    "matched_on": sorted(matched[other] | matched[survivor]),
                                },
                            )
                        )
            res.assignment[c.record_id] = survivor
            for kind, h in c.keys:
                owner[(kind, h)] = survivor
        # A later merge in the batch may have re-pointed a guest assigned earlier.
        res.assignment = {r: find(g) for r, g in res.assignment.items()}
        return res

    @staticmethod
    def _oldest(conn: Connection, gids: list[str], created: dict[str, object]) -> str:
        """The surviving guest is the oldest, so ids already shown in the PMS stay stable."""
        if len(gids) == 1:
            return gids[0]
        existing = [g for g in gids if g not in created]
        if not existing:
            return min(gids, key=lambda g: created[g])  # type: ignore[arg-type, return-value]
        rows = conn.execute(select(guests.c.id, guests.c.created_at).where(guests.c.id.in_(existing))).all()
        return min(rows, key=lambda r: (r.created_at, r.id)).id
