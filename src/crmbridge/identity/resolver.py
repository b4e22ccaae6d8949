"""Incremental identity resolution: which guest each arriving record belongs to.

For each record of a batch: look its blocking keys up in the blind indexes (and among the
batch's earlier records), decrypt the few candidates' match features, score the record against
each, and per candidate guest decide merge / review / apart. Every new record first gets a
guest of its own, so joining it to an existing guest is a merge like any other: audited, with
its evidence, and reversible by an unmerge.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, distinct, func, or_, select

from ..store.crypto import Keyring
from ..store.schema import guest_index, guests, identity_apart, identity_reviews, profile_records
from .evidence import EvidenceContext, evidence_context, first_contradiction, household_notes
from .features import MatchFeatures, features_from_values
from .keys import IdentityPolicy
from .scoring import Comparison, Decision, only_masked

CHUNK = 500


@dataclass
class Candidate:
    record_id: str
    label: str  # "source/source_id", for the audit trail
    current_guest: str | None
    keys: list[tuple[str, bytes]]  # (kind, blind index)
    features: MatchFeatures


@dataclass
class Merge:
    survivor: str
    merged: str
    evidence: dict[str, Any]
    score: float | None
    batch_records: list[str] = field(default_factory=list)  # this batch's records that moved


@dataclass
class Review:
    record_id: str
    guest_id: str
    score: float
    evidence: dict[str, Any]


@dataclass
class Resolution:
    assignment: dict[str, str] = field(default_factory=dict)  # record id -> guest id
    new_guests: list[str] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)


def _chunks(items: list[Any], n: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _naive_utc(t: datetime) -> datetime:
    # SQLite returns naive UTC, PostgreSQL aware: compare them as naive UTC.
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def decrypt_features(keyring: Keyring, row: Any, policy: IdentityPolicy) -> MatchFeatures:
    """A stored record's match features; records written before 0002 have none stored."""
    t = "profile_records"
    if row.match_ct is not None:
        return MatchFeatures.from_json(
            keyring.decrypt(bytes(row.match_ct), table=t, column="match_ct", row_id=row.id)
        )

    def dec(col: str) -> str | None:
        blob = getattr(row, f"{col}_ct")
        return keyring.decrypt(bytes(blob), table=t, column=f"{col}_ct", row_id=row.id) if blob else None

    def js(col: str) -> list[Any]:
        v = dec(col)
        return json.loads(v) if v else []

    addresses = js("addresses")
    return features_from_values(
        given=dec("given_name"),
        surname=dec("surname"),
        local=dec("local_name"),
        birth_date=dec("birth_date"),
        phones=[p["number"] for p in js("phones")],
        emails=[e["address"] for e in js("emails")],
        documents=[(d["doc_type"], d["number"], d.get("issuing_country")) for d in js("documents")],
        address=addresses[0] if addresses else None,
        match_on_documents=policy.match_on_documents,
        relay_domains=policy.relay_email_domains,
        virtual_prefixes=policy.virtual_phone_prefixes,
    )


_FEATURE_COLUMNS = [
    profile_records.c.id,
    profile_records.c.guest_id,
    profile_records.c.match_ct,
    *(
        profile_records.c[f"{c}_ct"]
        for c in (
            "given_name",
            "surname",
            "local_name",
            "birth_date",
            "emails",
            "phones",
            "addresses",
            "documents",
        )
    ),
]


class Resolver:
    def __init__(self, policy: IdentityPolicy, keyring: Keyring):
        self.policy = policy
        self.keyring = keyring
        self.scorer = policy.scorer()

    # -- lookups ------------------------------------------------------------------------
    def _buckets(self, conn: Connection, candidates: list[Candidate]) -> dict[tuple[str, bytes], list[str]]:
        wanted = sorted({key for c in candidates for key in c.keys})
        buckets: dict[tuple[str, bytes], list[str]] = {}
        for chunk in _chunks(wanted):
            by_kind: dict[str, list[bytes]] = {}
            for kind, h in chunk:
                by_kind.setdefault(kind, []).append(h)
            # one round trip for all kinds; kind leads ix_guest_index_kind_hash, so each arm is
            # an index range scan
            q = select(guest_index.c.kind, guest_index.c.hash, guest_index.c.record_id).where(
                or_(*(and_(guest_index.c.kind == k, guest_index.c.hash.in_(hs)) for k, hs in by_kind.items()))
            )
            for kind, h, rid in conn.execute(q):
                buckets.setdefault((kind, bytes(h)), []).append(rid)
        return {k: v for k, v in buckets.items() if len(v) <= self.policy.max_bucket}

    def _stored(self, conn: Connection, ids: list[str]) -> tuple[dict[str, MatchFeatures], dict[str, str]]:
        feats: dict[str, MatchFeatures] = {}
        guest_of: dict[str, str] = {}
        for chunk in _chunks(ids):
            for row in conn.execute(select(*_FEATURE_COLUMNS).where(profile_records.c.id.in_(chunk))):
                feats[row.id] = decrypt_features(self.keyring, row, self.policy)
                guest_of[row.id] = row.guest_id
        return feats, guest_of

    @staticmethod
    def _guest_info(
        conn: Connection, gids: list[str], record_ids: list[str]
    ) -> tuple[dict[str, tuple[Any, str]], set[tuple[str, str]], set[tuple[str, str]]]:
        order: dict[str, tuple[Any, str]] = {}
        apart: set[tuple[str, str]] = set()
        reviewed: set[tuple[str, str]] = set()
        for chunk in _chunks(gids):
            # creation times decide which of two stored guests survives; with one stored guest
            # it is older than any guest this batch creates
            if len(gids) > 1:
                for gid, created in conn.execute(
                    select(guests.c.id, guests.c.created_at).where(guests.c.id.in_(chunk))
                ):
                    order[gid] = (_naive_utc(created), gid)
            q = select(identity_apart.c.guest_a, identity_apart.c.guest_b).where(
                or_(identity_apart.c.guest_a.in_(chunk), identity_apart.c.guest_b.in_(chunk))
            )
            apart.update((a, b) for a, b in conn.execute(q))
        for chunk in _chunks(record_ids):
            q = select(identity_reviews.c.record_id, identity_reviews.c.guest_id).where(
                identity_reviews.c.record_id.in_(chunk)
            )
            reviewed.update((r, g) for r, g in conn.execute(q))
        return order, apart, reviewed

    # -- resolution ---------------------------------------------------------------------
    def resolve(self, conn: Connection, candidates: list[Candidate], now: datetime) -> Resolution:
        res = Resolution()
        batch_ids = {c.record_id for c in candidates}
        buckets = self._buckets(conn, candidates)
        stored_ids = sorted({r for rs in buckets.values() for r in rs} - batch_ids)
        feats, guest_of = self._stored(conn, stored_ids)
        arriving = {v for c in candidates for v in (*c.features.phones, *c.features.emails)}
        guests_on = self._guests_on(conn, feats.values(), arriving)
        involved = set(guest_of.values()) | {c.current_guest for c in candidates if c.current_guest}
        stored_before = sorted(c.record_id for c in candidates if c.current_guest)
        order, apart, reviewed = self._guest_info(conn, sorted(involved), stored_before)
        reviewed_before = set(reviewed)
        stamp = _naive_utc(now)

        alias: dict[str, str] = {}

        def find(g: str) -> str:
            while g in alias:
                g = alias[g]
            return g

        def is_apart(a: str, b: str) -> bool:
            return _pair(a, b) in apart

        members: dict[str, list[str]] = {}  # guest -> this batch's records now in it
        # guest -> all its records' features (stored and this batch's), for the whole-profile rule
        profile: dict[str, list[tuple[str, MatchFeatures]]] = self._profiles(conn, sorted(involved), feats)
        batch_bucket: dict[tuple[str, bytes], list[str]] = {}
        batch_holders: dict[str, list[MatchFeatures]] = {}  # phone/e-mail -> this batch's records
        for c in candidates:
            own = c.current_guest
            if own is None:
                own = str(uuid.uuid4())
                res.new_guests.append(own)
                order[own] = (stamp, f"~{len(res.new_guests):09d}")  # newest of all, in arrival order
            own = find(own)
            members.setdefault(own, []).append(c.record_id)

            kinds_of: dict[str, set[str]] = {}
            for key in c.keys:
                for r in buckets.get(key, []) + batch_bucket.get(key, []):
                    if r != c.record_id:
                        kinds_of.setdefault(r, set()).add(key[0])
            near = [feats[r] for r in kinds_of if r in feats]
            ctx = evidence_context(c.features, near, guests_on, batch_holders)
            best: dict[str, tuple[Comparison, set[str]]] = {}
            for r, kinds in kinds_of.items():
                f = feats.get(r)
                if f is None:
                    continue
                g = find(guest_of[r])
                if g == own:
                    continue
                cmp = self.scorer.compare(c.features, f, ctx)
                prev = best.get(g)
                if prev is None or cmp.score > prev[0].score:
                    best[g] = (cmp, kinds)

            targets = sorted(
                (
                    g
                    for g, (cmp, _) in best.items()
                    if cmp.decision is Decision.MERGE and not is_apart(own, g)
                ),
                key=lambda g: order.get(g, (stamp, g)),
            )
            # A record that would join two or more existing guests is a bridge: each side must
            # reach the merge threshold on its own, and a masked phone never carries one.
            stored_sides = [g for g in targets if g != own] + ([own] if c.current_guest else [])
            bridging = len(stored_sides) > 1
            held: dict[str, str] = {}
            if bridging:
                for g in targets:
                    if only_masked(best[g][0].agreements):
                        held[g] = "masked phone cannot bridge two guests"
            # the record's own earlier version is not evidence against it
            joined_records = [c.features] + [f for r, f in profile.get(own, []) if r != c.record_id]
            group = [own]
            for g in targets:
                if g in held:
                    continue
                # the whole profile: no record of the guest may contradict the records joining it
                theirs = [f for r, f in profile.get(g, []) if r != c.record_id]
                why = first_contradiction(joined_records, theirs)
                if why is not None:
                    held[g] = f"contradicts the guest's {why}"
                    continue
                group.append(g)
                joined_records += theirs
            survivor = min(group, key=lambda g: order.get(g, (stamp, g)))
            joined = {survivor}
            for g in group:
                if g == survivor or any(is_apart(g, x) for x in joined):
                    continue
                joined.add(g)
                res.merges.append(self._merge(c, survivor, g, own, best, members, ctx))
                alias[g] = survivor
                members.setdefault(survivor, []).extend(members.pop(g, []))
                profile.setdefault(survivor, []).extend(profile.pop(g, []))
            own = survivor
            profile[own] = [x for x in profile.get(own, []) if x[0] != c.record_id]
            profile[own].append((c.record_id, c.features))
            for g, (cmp, kinds) in best.items():
                if (
                    (cmp.decision is Decision.REVIEW or g in held)
                    and find(g) != own
                    and not is_apart(own, find(g))
                    and (c.record_id, g) not in reviewed
                ):
                    reviewed.add((c.record_id, g))
                    ev = {"record": c.label, "blocked_on": sorted(kinds), **cmp.evidence(), **self._band()}
                    ev.update(household_notes(c.features, ctx))
                    if g in held:
                        ev["held"] = held[g]
                    res.reviews.append(Review(c.record_id, g, cmp.score, ev))

            guest_of[c.record_id] = own
            feats[c.record_id] = c.features
            for v in (*c.features.phones, *c.features.emails):
                batch_holders.setdefault(v, []).append(c.features)
            for key in c.keys:
                batch_bucket.setdefault(key, []).append(c.record_id)
        res.assignment = {c.record_id: find(guest_of[c.record_id]) for c in candidates}
        unique: dict[tuple[str, str], Review] = {}
        for rv in res.reviews:
            rv.guest_id = find(rv.guest_id)
            key = (rv.record_id, rv.guest_id)
            if (
                rv.guest_id != res.assignment[rv.record_id]
                and key not in reviewed_before
                and (key not in unique or rv.score > unique[key].score)
            ):
                unique[key] = rv
        res.reviews = list(unique.values())
        return res

    def _guests_on(self, conn: Connection, stored: Iterable[MatchFeatures], skip: set[str]) -> dict[str, int]:
        """For the candidates' phones and e-mails that no arriving record carries (those are
        counted from the candidates themselves): how many guests of the store hold each."""
        wanted: dict[tuple[str, bytes], str] = {}
        for f in stored:
            for kind, values in (("phone", f.phones), ("email", f.emails)):
                for v in values:
                    if v not in skip:
                        wanted[(kind, self.keyring.blind_index(v, table="guest_index", index=kind))] = v
        out: dict[str, int] = {}
        keys = sorted(wanted)
        for chunk in _chunks(keys):
            by_kind: dict[str, list[bytes]] = {}
            for kind, h in chunk:
                by_kind.setdefault(kind, []).append(h)
            q = (
                select(
                    guest_index.c.kind, guest_index.c.hash, func.count(distinct(profile_records.c.guest_id))
                )
                .join(profile_records, profile_records.c.id == guest_index.c.record_id)
                .where(
                    or_(
                        *(
                            and_(guest_index.c.kind == k, guest_index.c.hash.in_(hs))
                            for k, hs in by_kind.items()
                        )
                    )
                )
                .group_by(guest_index.c.kind, guest_index.c.hash)
            )
            for kind, h, n in conn.execute(q):
                if n > 1:
                    out[wanted[(kind, bytes(h))]] = n
        return out

    def _profiles(
        self, conn: Connection, gids: list[str], known: dict[str, MatchFeatures]
    ) -> dict[str, list[tuple[str, MatchFeatures]]]:
        """Every stored record of the candidate guests, for the whole-profile rule (records
        already decrypted for blocking are reused)."""
        out: dict[str, list[tuple[str, MatchFeatures]]] = {}
        for chunk in _chunks(gids):
            q = select(profile_records.c.id, profile_records.c.guest_id).where(
                profile_records.c.guest_id.in_(chunk)
            )
            missing: list[str] = []
            for rid, gid in conn.execute(q):
                if rid in known:
                    out.setdefault(gid, []).append((rid, known[rid]))
                else:
                    missing.append(rid)
            for sub in _chunks(missing):
                for row in conn.execute(select(*_FEATURE_COLUMNS).where(profile_records.c.id.in_(sub))):
                    f = decrypt_features(self.keyring, row, self.policy)
                    out.setdefault(row.guest_id, []).append((row.id, f))
        return out

    def _band(self) -> dict[str, Any]:
        return {"thresholds": {"review": self.scorer.thresholds.lower, "merge": self.scorer.thresholds.upper}}

    def _merge(
        self,
        c: Candidate,
        survivor: str,
        merged: str,
        own: str,
        best: dict[str, tuple[Comparison, set[str]]],
        members: dict[str, list[str]],
        ctx: EvidenceContext,
    ) -> Merge:
        # The evidence is the arriving record's comparison with whichever side it is not on;
        # a record bridging two existing guests carries both comparisons.
        ev: dict[str, Any] = {"rule": "fellegi-sunter", "record": c.label, **self._band()}
        ev.update(household_notes(c.features, ctx))
        score: float | None = None
        for side, g in (("merged", merged), ("survivor", survivor)):
            if g == own or g not in best:
                continue
            cmp, kinds = best[g]
            ev[side] = {"blocked_on": sorted(kinds), **cmp.evidence()}
            score = cmp.score if score is None else min(score, cmp.score)
        ev["kind"] = (
            "link"
            if merged == own and c.current_guest is None
            else "bridge"
            if own
            not in (
                survivor,
                merged,
            )
            else "merge"
        )
        return Merge(survivor, merged, ev, score, list(members.get(merged, [])))
