"""The one place that decides what a staff member sees, and records that they saw it.

Every surface (CLI, staff API, exports) builds an `Access` for the actor and calls it; nothing
else decrypts profiles for staff. Each method checks the role's action, leaves out fields the
role may not see, masks the rest unless the role may unmask and a reason is given, and writes
one audit row per guest read in the same transaction as the read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, String, cast, func, or_, select

from ..identity.identifiers import normalise_email
from ..identity.keys import IdentityPolicy
from ..identity.merging import history, open_reviews
from ..identity.names import name_keys
from ..masking import mask_document, mask_email, mask_name, mask_phone
from ..models import GuestProfile
from ..store.crypto import Keyring
from ..store.erasure import UnknownGuest, erase, footprint
from ..store.guest_store import GuestStore
from ..store.reader import GuestView, load_guests
from ..store.schema import (
    audit_log,
    consents,
    feedback,
    folio_lines,
    guest_index,
    guests,
    profile_records,
    push_ledger,
    reservations,
    stays,
)
from ..store.writer import SEARCH_NAME, as_utc
from . import audit
from .roles import FIELDS
from .staff import Actor

PURPOSES = ("marketing", "profiling", "cross_border")
# which keys of a masked list view each field covers
_SUMMARY_KEYS = {
    "name": {"name", "latin_name"},
    "contact": {"phones", "emails"},
    "documents": {"documents"},
    "birth_date": {"birth_date"},
    "preferences": {"preferences"},
    "stays": {"reservations"},
}
SegmentOf = Callable[[Connection, list[str]], Mapping[str, dict[str, Any]]]


class AccessError(Exception):
    status = 400


class Denied(AccessError):
    status = 403


class NotFound(AccessError):
    status = 404


class BadRequest(AccessError):
    status = 400


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Access:
    store: GuestStore
    actor: Actor
    trust: Mapping[str, int] | None = None
    segment_of: SegmentOf | None = None  # the surface supplies segmentation (insights layer)

    @property
    def keyring(self) -> Keyring:
        return self.store.keyring

    @property
    def policy(self) -> IdentityPolicy:
        return self.store.policy

    # -- checks ---------------------------------------------------------------------------
    def require(self, action: str) -> None:
        if action not in self.actor.role.actions:
            raise Denied(f"{self.actor.name} ({self.actor.role.name}) may not {action.replace('.', ' ')}")

    def _unmask_check(self, unmask: bool, reason: str | None) -> str | None:
        if not unmask:
            return reason.strip() if reason and reason.strip() else None
        self.require("guests.unmask")
        if not reason or not reason.strip():
            raise BadRequest("a reason is required to unmask (it is kept in the audit)")
        return reason.strip()

    def _visible(self, conn: Connection, guest_ids: list[str]) -> list[str]:
        purpose = self.actor.role.consented_only
        if purpose is None:
            return guest_ids
        current = current_consents(conn, self.keyring, guest_ids)
        return [g for g in guest_ids if current.get(g, {}).get(purpose, {}).get("granted")]

    def _live_guest(self, conn: Connection, guest_id: str) -> str:
        row = conn.execute(select(guests.c.id, guests.c.merged_into).where(guests.c.id == guest_id)).first()
        if row is None:
            raise NotFound(f"no guest {guest_id!r}")
        if row.merged_into is not None:
            raise NotFound(f"guest {guest_id} was merged into {row.merged_into}: ask for that one")
        return row.id

    # -- reads ----------------------------------------------------------------------------
    def profile(self, guest_id: str, *, unmask: bool = False, reason: str | None = None) -> dict[str, Any]:
        """One guest as this role may see it (masked unless `unmask` with a reason)."""
        self.require("guests.read")
        reason = self._unmask_check(unmask, reason)
        with self.store.engine.begin() as conn:
            gid = self._live_guest(conn, guest_id)
            if not self._visible(conn, [gid]):
                raise NotFound(f"no guest {guest_id!r} visible to the {self.actor.role.name} role")
            views = load_guests(conn, self.keyring, guest_ids=[gid], trust=self.trust)
            full = self._full(conn, views[0], unmask)
            allowed = [f for f in FIELDS if f in self.actor.role.fields]
            out: dict[str, Any] = {"guest_id": gid, "records": full.pop("records")}
            for f in allowed:
                out.update(full.get(f, {}))
            audit.record(
                conn,
                self.keyring,
                self.actor,
                "profile",
                [gid],
                allowed,
                _now(),
                unmasked=unmask,
                reason=reason,
            )
        return out

    def _full(self, conn: Connection, view: GuestView, unmask: bool) -> dict[str, dict[str, Any]]:
        d = {k: v["value"] for k, v in view.display().items()}
        recs = view.records
        latin = " ".join(x for x in (d.get("given_name"), d.get("surname")) if x)
        emails = sorted({e["address"] for r in recs for e in r.values.get("emails") or []})
        phones = sorted({p["number"] for r in recs for p in r.values.get("phones") or []})
        docs = sorted({(x["doc_type"], x["number"]) for r in recs for x in r.values.get("documents") or []})
        prefs = sorted(
            {
                f"{p['category']}:{p['code']}"
                for r in recs
                for p in (r.values.get("attributes") or {}).get("preferences", [])
            }
        )
        notes = [n for r in recs for n in (r.values.get("notes") or [])]
        addresses = [a for r in recs for a in (r.values.get("addresses") or [])]
        rsv = guest_reservations(conn, [r.record_id for r in recs], self.keyring, unmask)
        spend: dict[str, Decimal] = {}
        for x in rsv:
            if x["total"] is not None and x["status"] not in ("cancelled", "no_show"):
                spend[x["currency"]] = spend.get(x["currency"], Decimal(0)) + Decimal(x["total"])
        seg = self.segment_of(conn, [view.guest_id]).get(view.guest_id) if self.segment_of else None
        if unmask:
            name = {"name": d.get("local_name") or latin or None, "latin_name": latin or None}
            contact = {"phones": phones, "emails": emails}
            bd = d.get("birth_date")
            documents = [f"{t} {n}" for t, n in docs]
            note_v: Any = notes
            addr: Any = addresses
        else:
            name = {
                "name": mask_name(d.get("local_name")) or mask_name(latin),
                "latin_name": mask_name(latin),
            }
            contact = {
                "phones": sorted({mask_phone(p) for p in phones}),
                "emails": sorted({mask_email(e) for e in emails}),
            }
            bd = "****-" + d["birth_date"][5:] if d.get("birth_date") else None
            documents = sorted({f"{t} {mask_document(n)}" for t, n in docs})
            note_v = f"{len(notes)} note(s)"
            addr = [{"city": a.get("city"), "country": a.get("country")} for a in addresses]
        fb = guest_feedback(conn, self.keyring, rsv, unmask)
        return {
            "records": {
                "records": [
                    {
                        "source": r.source,
                        "source_id": r.source_id,
                        "observed_at": r.observed_at.isoformat() if r.observed_at else None,
                    }
                    for r in recs
                ]
            },
            "name": name,
            "contact": contact,
            "birth_date": {"birth_date": bd},
            "documents": {"documents": documents},
            "addresses": {"addresses": addr},
            "preferences": {"preferences": prefs},
            "notes": {"notes": note_v},
            "stays": {"reservations": len(rsv), "stays": rsv},
            "spend": {"spend": {k: str(v) for k, v in sorted(spend.items())}},
            "feedback": {"feedback": fb},
            "segment": {"segment": seg},
            "consents": {
                "consents": current_consents(conn, self.keyring, [view.guest_id]).get(view.guest_id, {})
            },
            "provenance": {"provenance": view.provenance() if not unmask else _raw_provenance(view)},
            "history": {"history": history(conn, view.guest_id)},
        }

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Guests found by name (any script), phone, e-mail, reservation or confirmation number;
        a masked summary of each, with only the fields the role may see."""
        self.require("guests.search")
        q = (query or "").strip()
        if len(q) < 2:
            raise BadRequest("give at least two characters to search for")
        with self.store.engine.begin() as conn:
            ids = self._visible(conn, find_guests(conn, self.keyring, self.policy, q)[:limit])
            views = load_guests(conn, self.keyring, guest_ids=ids, trust=self.trust)
            out = [self._summary(v) for v in views]
            audit.record(
                conn,
                self.keyring,
                self.actor,
                "search",
                [v.guest_id for v in views],
                self._summary_fields(),
                _now(),
            )
        return out

    def _summary_fields(self) -> list[str]:
        return [f for f in _SUMMARY_KEYS if f in self.actor.role.fields]

    def _summary(self, v: GuestView) -> dict[str, Any]:
        """The masked list view (`GuestView.masked`) cut to the role's fields."""
        m = v.masked()
        fields = self.actor.role.fields
        keep = {"guest_id", "records"}
        for f, keys in _SUMMARY_KEYS.items():
            if f in fields:
                keep |= keys
        return {k: x for k, x in m.items() if k in keep}

    def listing(self, limit: int = 50) -> list[dict[str, Any]]:
        """The first `limit` guests, masked, cut to the role's fields."""
        self.require("guests.search")
        with self.store.engine.begin() as conn:
            views = load_guests(conn, self.keyring, limit=limit, trust=self.trust)
            visible = set(self._visible(conn, [v.guest_id for v in views]))
            out = [self._summary(v) for v in views if v.guest_id in visible]
            audit.record(
                conn,
                self.keyring,
                self.actor,
                "list",
                [o["guest_id"] for o in out],
                self._summary_fields(),
                _now(),
            )
        return out

    def review_queue(self, limit: int = 50) -> list[dict[str, Any]]:
        self.require("reviews.read")
        with self.store.engine.begin() as conn:
            items = open_reviews(conn, limit)
            ids = sorted({g for i in items for g in (i.record_guest, i.guest_id)})
            views = {
                v.guest_id: self._summary(v)
                for v in load_guests(conn, self.keyring, guest_ids=ids, trust=self.trust)
            }
            rows = [
                {
                    "item": i.id,
                    "score": round(i.score, 2),
                    "record": i.evidence.get("record"),
                    "record_guest": views.get(i.record_guest, {"guest_id": i.record_guest}),
                    "candidate_guest": views.get(i.guest_id, {"guest_id": i.guest_id}),
                    "agreements": i.evidence.get("agreements", {}),
                }
                for i in items
            ]
            audit.record(conn, self.keyring, self.actor, "review_queue", ids, self._summary_fields(), _now())
        return rows

    def arrivals(self, plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Arrivals (`ArrivalPlan.as_dict()` rows) with their alerts, the guest masked by role."""
        self.require("arrivals.read")
        with self.store.engine.begin() as conn:
            ids = sorted({p["guest_id"] for p in plans if p.get("guest_id")})
            views = {
                v.guest_id: self._summary(v)
                for v in load_guests(conn, self.keyring, guest_ids=ids, trust=self.trust)
            }
            out = []
            for p in plans:
                row = {k: p[k] for k in ("reservation", "hotel", "arrival", "departure", "guest_id")}
                row["guest"] = views.get(p["guest_id"]) if p.get("guest_id") else None
                row["alerts"] = [{"rule": a["rule"], "text": a["text"]} for a in p.get("alerts", [])]
                out.append(row)
            audit.record(
                conn,
                self.keyring,
                self.actor,
                "arrivals",
                ids,
                [*self._summary_fields(), "preferences"],
                _now(),
            )
        return out

    # -- the data-protection officer ------------------------------------------------------
    def export_subject(self, guest_id: str, reason: str) -> dict[str, Any]:
        """Everything held about one guest, decrypted (PIPL Art. 45, GDPR Art. 15/20)."""
        self.require("privacy.export")
        if not reason or not reason.strip():
            raise BadRequest(
                "a reason is required for a subject access export (e.g. the request's reference)"
            )
        with self.store.engine.begin() as conn:
            gid = self._live_guest(conn, guest_id)
            fp = footprint(conn, gid)
            views = load_guests(conn, self.keyring, guest_ids=[gid], trust=self.trust)
            view = views[0]
            full = self._full(conn, view, True)
            rsv_keys = {(s, sid) for _, s, sid in fp.reservations}
            doc: dict[str, Any] = {
                "guest_id": gid,
                "exported_at": _now().isoformat(),
                "merged_guests": fp.guest_ids[1:],
                "records": [
                    {
                        "source": r.source,
                        "source_id": r.source_id,
                        "observed_at": r.observed_at.isoformat() if r.observed_at else None,
                        "values": r.values,
                    }
                    for r in view.records
                ],
                "profile": {k: v for f in FIELDS for k, v in full.get(f, {}).items()},
                "stays_checked_in": _rows(conn, stays, rsv_keys),
                "folio_lines": _folio(conn, self.keyring, rsv_keys),
                "alerts_pushed": [
                    {
                        "pms_source": r.pms_source,
                        "reservation": r.pms_id,
                        "rule": r.rule,
                        "status": r.status,
                        "updated_at": as_utc(r.updated_at).isoformat(),
                    }
                    for r in conn.execute(select(push_ledger).where(push_ledger.c.target == "reservation"))
                    if (r.pms_source, r.pms_id) in rsv_keys
                ],
                "consents": current_consents(conn, self.keyring, [gid], history=True).get(gid, {}),
                "audit": audit.listing(conn, self.keyring, guest_id=gid, limit=10_000),
                "purposes": {
                    "contract": "reservations and stays (PIPL Art. 13(2))",
                    "legal_obligation": "identity documents for police registration (Art. 13(3))",
                    "consent": "marketing, profiling, cross-border transfer: see consents",
                },
            }
            audit.record(
                conn,
                self.keyring,
                self.actor,
                "export",
                [gid],
                list(FIELDS),
                _now(),
                unmasked=True,
                reason=reason,
            )
        return doc

    def erase(self, guest_id: str, reason: str) -> dict[str, Any]:
        """Crypto-shred the guest (see `store.erasure`); the audit keeps who, when and why."""
        self.require("privacy.erase")
        if not reason or not reason.strip():
            raise BadRequest("a reason is required to erase a guest (e.g. the request's reference)")
        with self.store.engine.connect() as conn:
            self._live_guest(conn, guest_id)
        try:
            result = erase(self.store.engine, self.keyring, guest_id, _now())
        except UnknownGuest as exc:
            raise NotFound(str(exc)) from None
        with self.store.engine.begin() as conn:
            audit.record(conn, self.keyring, self.actor, "erase", [guest_id], [], _now(), reason=reason)
        return result

    def record_consent(
        self, guest_id: str, purpose: str, granted: bool, wording_version: str, source: str | None = None
    ) -> dict[str, Any]:
        self.require("consent.write")
        if purpose not in PURPOSES:
            raise BadRequest(f"unknown purpose {purpose!r}; purposes: {', '.join(PURPOSES)}")
        if not wording_version or not wording_version.strip():
            raise BadRequest("give the version of the wording the guest agreed to (PIPL Art. 17 notice)")
        now = _now()
        with self.store.engine.begin() as conn:
            gid = self._live_guest(conn, guest_id)
            conn.execute(
                consents.insert(),
                {
                    "guest_id": gid,
                    "purpose": purpose,
                    "granted": int(granted),
                    "source": source or f"{self.actor.surface}:{self.actor.name}",
                    "wording_version": wording_version.strip(),
                    "recorded_at": now,
                },
            )
            audit.record(conn, self.keyring, self.actor, "consent", [gid], ["consents"], now)
        return {"guest_id": gid, "purpose": purpose, "granted": granted, "recorded_at": now.isoformat()}

    def marketing_export(
        self, purpose: str, segment_filter: Callable[[dict[str, Any] | None], bool]
    ) -> list[dict[str, Any]]:
        """Names and e-mail addresses of guests with a current consent for `purpose` whose
        segment passes the filter. Only consented guests, ever: withdrawal takes effect at once."""
        self.require("marketing.export")
        if purpose != "marketing":
            raise BadRequest("exports for campaigns are for the `marketing` purpose only")
        with self.store.engine.begin() as conn:
            ids = [r.id for r in conn.execute(select(guests.c.id).where(guests.c.merged_into.is_(None)))]
            current = current_consents(conn, self.keyring, ids)
            ids = [g for g in ids if current.get(g, {}).get("marketing", {}).get("granted")]
            segs = self.segment_of(conn, ids) if self.segment_of else {}
            ids = [g for g in ids if segment_filter(segs.get(g))]
            out = []
            for v in load_guests(conn, self.keyring, guest_ids=ids, trust=self.trust):
                d = {k: x["value"] for k, x in v.display().items()}
                latin = " ".join(x for x in (d.get("given_name"), d.get("surname")) if x)
                out.append(
                    {
                        "guest_id": v.guest_id,
                        "name": d.get("local_name") or latin,
                        "emails": sorted(
                            {e["address"] for r in v.records for e in r.values.get("emails") or []}
                        ),
                        "language": (d.get("attributes") or {}).get("language"),
                        "consent": current[v.guest_id]["marketing"],
                    }
                )
            exported = [o["guest_id"] for o in out]
            audit.record(
                conn,
                self.keyring,
                self.actor,
                "marketing_export",
                exported,
                ["name", "contact"],
                _now(),
                unmasked=True,
                reason="marketing export (consented guests only)",
            )
        return out


# -- queries the service uses ------------------------------------------------------------------
def find_guests(conn: Connection, keyring: Keyring, policy: IdentityPolicy, q: str) -> list[str]:
    """Live guest ids whose records match `q` through a blind index, or whose reservation has
    `q` as its id or a confirmation number."""
    probes: list[tuple[str, str]] = []
    if "@" in q and (e := normalise_email(q, policy.relay_email_domains)):
        probes.append(("email", e))
    digits = q.replace(" ", "").replace("-", "")
    if digits.lstrip("+").isdigit():
        try:
            f = policy.features(GuestProfile(source="q", source_id="q", phones=[{"number": q}]))
            probes += [("phone", p) for p in f.phones]
        except ValueError:  # not a phone number: maybe a reservation number
            pass
    if not any(ch.isdigit() for ch in q) and "@" not in q:
        han = any("\u4e00" <= ch <= "\u9fff" for ch in q)
        parts = q.replace(",", " ").split()
        profile = (
            GuestProfile(source="q", source_id="q", local_name=q)
            if han
            else GuestProfile(
                source="q", source_id="q", surname=parts[-1], given_name=" ".join(parts[:-1]) or None
            )
        )
        probes += [(SEARCH_NAME, n) for n in name_keys(tuple(policy.features(profile).readings))]
    record_ids: set[str] = set()
    for kind, value in probes:
        h = keyring.blind_index(value, table="guest_index", index=kind)
        record_ids |= {
            r.record_id
            for r in conn.execute(
                select(guest_index.c.record_id).where(guest_index.c.kind == kind, guest_index.c.hash == h)
            )
        }
    rsv = select(reservations.c.guest_record_id).where(
        or_(reservations.c.source_id == q, cast(reservations.c.confirmation_numbers, String).like(f'%"{q}"%'))
    )
    record_ids |= {r.guest_record_id for r in conn.execute(rsv) if r.guest_record_id}
    if not record_ids:
        return []
    gids = {
        r.guest_id
        for r in conn.execute(
            select(profile_records.c.guest_id).where(profile_records.c.id.in_(sorted(record_ids)))
        )
    }
    live = [
        r.id
        for r in conn.execute(
            select(guests.c.id)
            .where(guests.c.id.in_(sorted(gids)), guests.c.merged_into.is_(None))
            .order_by(guests.c.created_at)
        )
    ]
    return live


def guest_reservations(
    conn: Connection, record_ids: list[str], keyring: Keyring, unmask: bool
) -> list[dict[str, Any]]:
    if not record_ids:
        return []
    out = []
    q = (
        select(reservations)
        .where(reservations.c.guest_record_id.in_(record_ids))
        .order_by(reservations.c.arrival, reservations.c.source_id)
    )
    for r in conn.execute(q):
        row = {
            "source": r.source,
            "reservation": r.source_id,
            "hotel": r.hotel_code,
            "status": r.status,
            "arrival": r.arrival.isoformat(),
            "departure": r.departure.isoformat(),
            "room_type": r.room_type,
            "total": str(r.total_amount) if r.total_amount is not None else None,
            "currency": r.currency,
            "confirmation_numbers": r.confirmation_numbers,
        }
        if unmask and r.special_requests_ct:
            row["special_requests"] = json.loads(
                keyring.decrypt(
                    bytes(r.special_requests_ct),
                    table="reservations",
                    column="special_requests_ct",
                    row_id=r.id,
                )
            )
        out.append(row)
    return out


def guest_feedback(
    conn: Connection, keyring: Keyring, rsv: list[dict[str, Any]], unmask: bool
) -> list[dict[str, Any]]:
    keys = {(x["source"], x["reservation"]) for x in rsv}
    if not keys:
        return []
    q = select(feedback).where(feedback.c.reservation_source_id.in_(sorted({k[1] for k in keys})))
    out = []
    for r in conn.execute(q):
        if (r.reservation_source, r.reservation_source_id) not in keys:
            continue
        row = {
            "source": r.source,
            "id": r.source_id,
            "rating": r.rating,
            "category": r.category,
            "received_at": as_utc(r.received_at).isoformat() if r.received_at else None,
        }
        if unmask and r.text_ct:
            row["text"] = keyring.decrypt(bytes(r.text_ct), table="feedback", column="text_ct", row_id=r.id)
        out.append(row)
    return out


def _rows(conn: Connection, table: Any, rsv_keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
    ids = sorted({k[1] for k in rsv_keys})
    if not ids:
        return []
    rows = conn.execute(select(table).where(table.c.reservation_source_id.in_(ids)))
    return [
        {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in r._asdict().items()
            if k not in ("content_hash",)
        }
        for r in rows
        if (r.source, r.reservation_source_id) in rsv_keys
    ]


def _folio(conn: Connection, keyring: Keyring, rsv_keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for row in _rows(conn, folio_lines, rsv_keys):
        blob = row.pop("description_ct", None)
        row["amount"] = str(row["amount"])
        row["description"] = (
            keyring.decrypt(bytes(blob), table="folio_lines", column="description_ct", row_id=row["id"])
            if blob
            else None
        )
        out.append(row)
    return out


def _raw_provenance(view: GuestView) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in view.records:
        for k, v in rec.values.items():
            if v not in (None, "", [], {}):
                out.setdefault(k, []).append(
                    {
                        "value": v,
                        "from": f"{rec.source}/{rec.source_id}",
                        "observed_at": rec.observed_at.isoformat() if rec.observed_at else None,
                    }
                )
    return out


def current_consents(
    conn: Connection, keyring: Keyring, guest_ids: list[str], *, history: bool = False
) -> dict[str, dict[str, Any]]:
    """Per guest and purpose, the newest statement: from crmbridge (CLI/API) or from a source
    record (OPERA privacy options, OTA flags). A statement without a time counts as oldest."""
    events: dict[str, list[dict[str, Any]]] = {}
    for k in range(0, len(guest_ids), 500):
        part = guest_ids[k : k + 500]
        for r in conn.execute(select(consents).where(consents.c.guest_id.in_(part))):
            events.setdefault(r.guest_id, []).append(
                {
                    "purpose": r.purpose,
                    "granted": bool(r.granted),
                    "source": r.source,
                    "wording_version": r.wording_version,
                    "recorded_at": as_utc(r.recorded_at),
                }
            )
        q = select(
            profile_records.c.id,
            profile_records.c.guest_id,
            profile_records.c.source,
            profile_records.c.attributes_ct,
        ).where(profile_records.c.guest_id.in_(part))
        for r in conn.execute(q):
            if not r.attributes_ct:
                continue
            attrs = json.loads(
                keyring.decrypt(
                    bytes(r.attributes_ct), table="profile_records", column="attributes_ct", row_id=r.id
                )
            )
            for c in attrs.get("consents") or []:
                at = datetime.fromisoformat(c["recorded_at"]) if c.get("recorded_at") else None
                events.setdefault(r.guest_id, []).append(
                    {
                        "purpose": c["purpose"],
                        "granted": bool(c["granted"]),
                        "source": f"record:{r.source}",
                        "wording_version": c.get("notice_version"),
                        "recorded_at": as_utc(at),
                    }
                )
    oldest = datetime.min.replace(tzinfo=UTC)
    out: dict[str, dict[str, Any]] = {}
    for gid, evs in events.items():
        evs.sort(key=lambda e: e["recorded_at"] or oldest)
        per: dict[str, Any] = {}
        for e in evs:
            shown = e | {"recorded_at": e["recorded_at"].isoformat() if e["recorded_at"] else None}
            if history:
                per.setdefault(e["purpose"], []).append(shown)
            else:
                per[e["purpose"]] = shown
        out[gid] = per
    return out


def audit_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
