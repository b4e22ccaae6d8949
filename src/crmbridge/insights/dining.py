"""Dining insights: what a guest's linked POS checks say about them, kept on the profile.

Each guest with linked checks gets one profile record with source ``pos`` (source id
``dining:<guest id>``) whose preferences are inferred, each with a confidence:

* ``DINING_ITEM`` / ``DINING_DRINK``: a dish or drink ordered on at least two checks;
* ``DIET``: a signal such as ``VEGETARIAN`` when most of the guest's dishes carry it;
* ``DINING_SPEND``: average spend per check by outlet.

The record sits beside the guest's other records, so the profile view and the alert rules
read it like any other source's preferences, encrypted like them. Confidence is the
evidence's strength (how many checks) times how sure the check links were.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from ..models import GuestProfile, Preference
from ..store.crypto import Keyring
from ..store.schema import guests, pos_checks, pos_items, pos_links, profile_records, reservations
from ..store.writer import CHUNK, BatchWriter, as_utc

SOURCE = "pos"
MIN_CHECKS_FAVOURITE = 2
TOP_N = 5
DRINK_WORDS = (
    "beverage", "drink", "bar", "wine", "beer", "tea", "coffee", "juice", "spirit", "cocktail",
    "whisky", "soda", "饮", "酒", "茶", "咖啡",
)  # fmt: skip
# Words in a dish's name or menu group that signal a diet. Hotels extend this per menu.
DIET_WORDS: dict[str, tuple[str, ...]] = {
    "VEGETARIAN": ("vegetarian", "vegan", "素", "斋"),
    "HALAL": ("halal", "清真"),
    "GLUTEN_FREE": ("gluten free", "gluten-free", "无麸质"),
}
DIET_SHARE = Decimal("0.6")  # share of the guest's dishes that must carry the signal


def record_id_for(guest_id: str) -> str:
    return f"dining:{guest_id}"


@dataclass
class _Line:
    check_id: str
    item_id: str
    name: str
    group: str | None
    quantity: Decimal


@dataclass
class _GuestChecks:
    checks: dict[str, Any] = field(default_factory=dict)  # check id -> check row
    link_conf: dict[str, Decimal] = field(default_factory=dict)
    lines: list[_Line] = field(default_factory=list)


def _matcher(words: Iterable[str]) -> Callable[[str], bool]:
    """Latin words match whole ("tea" is not in "steak"); Chinese ones as substrings."""
    words = list(words)
    latin = [w for w in words if w.isascii()]
    cjk = [w for w in words if not w.isascii()]
    rx = re.compile(r"\b(?:" + "|".join(map(re.escape, latin)) + r")s?\b") if latin else None
    return lambda text: (rx is not None and rx.search(text) is not None) or any(w in text for w in cjk)


_drink = _matcher(DRINK_WORDS)
_diets = {diet: _matcher(words) for diet, words in DIET_WORDS.items()}


def _is_drink(line: _Line) -> bool:
    # The menu group decides when there is one: 樟茶鸭 (tea-smoked duck) is in "Roast".
    return _drink((line.group or line.name).casefold())


def _conf(x: Decimal) -> float:
    return float(min(Decimal("0.95"), x).quantize(Decimal("0.01"), ROUND_HALF_UP))


def infer(g: _GuestChecks) -> list[Preference]:
    """The inferred preferences for one guest's linked checks (deterministic order)."""
    prefs: list[Preference] = []
    live = {cid: c for cid, c in g.checks.items() if not c.cancelled}
    mean_link = sum((g.link_conf[c] for c in live), Decimal(0)) / len(live) if live else Decimal(0)
    net: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    meta: dict[tuple[str, str], _Line] = {}
    for ln in g.lines:
        if ln.check_id in live:
            key = (ln.item_id, ln.name)
            net[key][ln.check_id] += ln.quantity  # returns are negative and cancel out
            meta[key] = ln
    favourites: dict[str, list[tuple[int, Decimal, str, str]]] = {"DINING_ITEM": [], "DINING_DRINK": []}
    food_checks_by_diet: dict[str, set[str]] = defaultdict(set)
    food_lines = 0
    diet_lines: dict[str, int] = defaultdict(int)
    for key, per_check in net.items():
        on = {cid for cid, q in per_check.items() if q > 0}
        if not on:
            continue
        qty = sum((q for q in per_check.values() if q > 0), Decimal(0))
        ln = meta[key]
        drink = _is_drink(ln)
        if len(on) >= MIN_CHECKS_FAVOURITE:
            cat = "DINING_DRINK" if drink else "DINING_ITEM"
            favourites[cat].append((len(on), qty, ln.name, ln.item_id))
        if not drink:
            food_lines += 1
            text = f"{ln.group or ''} {ln.name}".casefold()
            for diet, matches in _diets.items():
                if matches(text):
                    diet_lines[diet] += 1
                    food_checks_by_diet[diet] |= on
    for cat, found in favourites.items():
        found.sort(key=lambda t: (-t[0], -t[1], t[2]))
        for n_checks, qty, name, _ in found[:TOP_N]:
            strength = Decimal("0.4") + Decimal("0.15") * n_checks
            prefs.append(
                Preference(
                    category=cat,
                    code=name,
                    value=f"ordered {qty.normalize():f} times on {n_checks} checks",
                    confidence=_conf(strength * mean_link),
                )
            )
    for diet in sorted(diet_lines):
        checks_with = len(food_checks_by_diet[diet])
        share = Decimal(diet_lines[diet]) / food_lines if food_lines else Decimal(0)
        if checks_with >= MIN_CHECKS_FAVOURITE and share >= DIET_SHARE:
            strength = share * (Decimal("0.5") + Decimal("0.1") * checks_with)
            prefs.append(
                Preference(
                    category="DIET",
                    code=diet,
                    value=f"{diet_lines[diet]} of {food_lines} dishes on {checks_with} checks",
                    confidence=_conf(strength * mean_link),
                )
            )
    spend: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for c in live.values():
        spend[(c.outlet, c.currency)].append(Decimal(c.total_amount))
    for (outlet, currency), totals in sorted(spend.items()):
        avg = (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        strength = Decimal("0.5") + Decimal("0.1") * len(totals)
        prefs.append(
            Preference(
                category="DINING_SPEND",
                code=outlet,
                value=f"{avg} {currency} per check over {len(totals)} checks",
                confidence=_conf(strength * mean_link),
            )
        )
    return prefs


class _Survivors:
    """Follows guests.merged_into to the guest a merged one lives on in (merges are few)."""

    def __init__(self, conn: Connection):
        self.merged = dict(
            conn.execute(
                select(guests.c.id, guests.c.merged_into).where(guests.c.merged_into.is_not(None))
            ).all()
        )

    def __call__(self, guest_id: str) -> str:
        seen: set[str] = set()
        while guest_id in self.merged and guest_id not in seen:
            seen.add(guest_id)
            guest_id = self.merged[guest_id]
        return guest_id


def guests_of_reservations(conn: Connection, reservation_ids: Iterable[str]) -> set[str]:
    ids = list(reservation_ids)
    out: set[str] = set()
    live = _Survivors(conn)
    for i in range(0, len(ids), CHUNK):
        q = (
            select(profile_records.c.guest_id)
            .join(reservations, reservations.c.guest_record_id == profile_records.c.id)
            .where(reservations.c.id.in_(ids[i : i + CHUNK]))
        )
        out |= {live(g) for (g,) in conn.execute(q)}
    return out


def _load(conn: Connection, guest_ids: list[str] | None, live: _Survivors) -> dict[str, _GuestChecks]:
    q = (
        select(pos_links.c.check_id, pos_links.c.confidence, profile_records.c.guest_id)
        .join(reservations, reservations.c.id == pos_links.c.reservation_id)
        .join(profile_records, profile_records.c.id == reservations.c.guest_record_id)
        .where(pos_links.c.status == "linked")
    )
    rows = []
    if guest_ids is None:
        rows = conn.execute(q).all()
    else:
        for i in range(0, len(guest_ids), CHUNK):
            rows += conn.execute(q.where(profile_records.c.guest_id.in_(guest_ids[i : i + CHUNK]))).all()
    by_guest: dict[str, _GuestChecks] = defaultdict(_GuestChecks)
    owner: dict[str, str] = {}
    for check_id, conf, gid in rows:
        gid = live(gid)
        by_guest[gid].link_conf[check_id] = Decimal(conf)
        owner[check_id] = gid
    ids = list(owner)
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        for c in conn.execute(select(pos_checks).where(pos_checks.c.id.in_(part))):
            by_guest[owner[c.id]].checks[c.id] = c
        items = conn.execute(
            select(pos_items).where(
                pos_items.c.check_id.in_(part),
                pos_items.c.kind == "item",
                pos_items.c.voided == 0,
            )
        )
        for it in items:
            by_guest[owner[it.check_id]].lines.append(
                _Line(it.check_id, it.item_id, it.name, it.item_group, Decimal(it.quantity))
            )
    return by_guest


def dining_preferences(conn: Connection, keyring: Keyring, guest_id: str) -> list[Preference]:
    """The inferred dining preferences of one guest (for alert rules), strongest first."""
    gid = _Survivors(conn)(guest_id)
    row = conn.execute(
        select(profile_records.c.id, profile_records.c.attributes_ct).where(
            profile_records.c.source == SOURCE, profile_records.c.source_id == record_id_for(gid)
        )
    ).one_or_none()
    if row is None or row.attributes_ct is None:
        return []
    text = keyring.decrypt(
        bytes(row.attributes_ct), table="profile_records", column="attributes_ct", row_id=row.id
    )
    prefs = [Preference.model_validate(p) for p in json.loads(text).get("preferences", [])]
    return sorted(prefs, key=lambda p: -(p.confidence or 0))


def refresh_dining_insights(
    conn: Connection, keyring: Keyring, guest_ids: Iterable[str] | None = None
) -> int:
    """Recompute the ``pos`` dining record of the given guests (all when None).

    Returns how many records were written or removed; an unchanged guest costs no write."""
    live = _Survivors(conn)
    wanted = None if guest_ids is None else sorted({live(g) for g in guest_ids})
    by_guest = _load(conn, wanted, live)
    w = BatchWriter(conn, keyring)
    existing: dict[str, Any] = {}
    q = select(profile_records.c.id, profile_records.c.source_id, profile_records.c.guest_id,
               profile_records.c.content_hash).where(profile_records.c.source == SOURCE)  # fmt: skip
    if wanted is not None:
        for i in range(0, len(wanted), CHUNK):
            for r in conn.execute(q.where(profile_records.c.guest_id.in_(wanted[i : i + CHUNK]))):
                existing[r.source_id] = r
    else:
        existing = {r.source_id: r for r in conn.execute(q)}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    keep: set[str] = set()
    for gid in sorted(by_guest):
        g = by_guest[gid]
        prefs = infer(g)
        if not prefs:
            continue
        sid = record_id_for(gid)
        keep.add(sid)
        closed = [
            as_utc(c.closed_at or c.opened_at) for c in g.checks.values() if (c.closed_at or c.opened_at)
        ]
        profile = GuestProfile(
            source=SOURCE, source_id=sid, preferences=prefs, updated_at=max(closed, default=None)
        )
        h = w._hash("profile_records", profile, set())
        old = existing.get(sid)
        if old is not None and bytes(old.content_hash) == h and old.guest_id == gid:
            continue
        rid = old.id if old is not None else str(uuid.uuid4())
        values = w._profile_row(rid, profile, h) | {"guest_id": gid}
        if old is None:
            inserts.append(values | {"id": rid})
        else:
            updates.append(values | {"_id": rid})
    if inserts:
        conn.execute(insert(profile_records), inserts)
    if updates:
        cols = {k: bindparam(k) for k in updates[0] if k != "_id"}
        conn.execute(
            update(profile_records).where(profile_records.c.id == bindparam("_id")).values(cols), updates
        )
    # A guest merged away, or whose checks were unlinked, keeps no stale dining record.
    gone = [r.id for sid, r in existing.items() if sid not in keep]
    for i in range(0, len(gone), CHUNK):
        conn.execute(
            delete(profile_records).where(
                and_(profile_records.c.source == SOURCE, profile_records.c.id.in_(gone[i : i + CHUNK]))
            )
        )
    return len(inserts) + len(updates) + len(gone)
