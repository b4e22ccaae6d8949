"""What a record is compared on: its normalised names, contacts, documents and address.

Features are computed once, when a record is written, and stored encrypted beside the record
(``profile_records.match_ct``), so scoring a candidate costs one decryption, not a re-run of
pinyin conversion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from ..models import GuestProfile
from .identifiers import (
    DEFAULT_RELAY_DOMAINS,
    DEFAULT_VIRTUAL_PREFIXES,
    document_key,
    is_virtual_phone,
    masked_phone,
    normalise_email,
)
from .names import NameReading, fold, name_readings


@dataclass
class MatchFeatures:
    readings: list[NameReading] = field(default_factory=list)
    birth_date: str | None = None  # ISO
    phones: list[str] = field(default_factory=list)  # E.164
    masked_phones: list[str] = field(default_factory=list)  # +86138****8000
    virtual_phones: list[str] = field(default_factory=list)  # OTA privacy numbers: never evidence
    emails: list[str] = field(default_factory=list)  # normalised, relay addresses left out
    documents: list[str] = field(default_factory=list)  # TYPE:COUNTRY:NUMBER, only if enabled
    postcode: str | None = None
    city: str | None = None
    street: str | None = None

    def to_json(self) -> str:
        d = {k: getattr(self, k) for k in _FIELDS}
        d["readings"] = [[r.surname, r.given, r.han, r.parts, r.swapped] for r in self.readings]
        return json.dumps({k: v for k, v in d.items() if v}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> MatchFeatures:
        d: dict[str, Any] = json.loads(text)
        d["readings"] = [NameReading(*r) for r in d.get("readings", [])]
        return cls(**d)


_FIELDS = tuple(f.name for f in fields(MatchFeatures))


def features_of(
    profile: GuestProfile,
    *,
    match_on_documents: bool = False,
    relay_domains: tuple[str, ...] = DEFAULT_RELAY_DOMAINS,
    virtual_prefixes: tuple[str, ...] = DEFAULT_VIRTUAL_PREFIXES,
) -> MatchFeatures:
    return features_from_values(
        given=profile.given_name,
        surname=profile.surname,
        local=profile.local_name,
        birth_date=profile.birth_date,
        phones=[p.number for p in profile.phones],
        emails=[e.address for e in profile.emails],
        documents=[(d.doc_type, d.number, d.issuing_country) for d in profile.documents],
        address=profile.addresses[0].model_dump() if profile.addresses else None,
        match_on_documents=match_on_documents,
        relay_domains=relay_domains,
        virtual_prefixes=virtual_prefixes,
    )


def features_from_values(
    *,
    given: str | None,
    surname: str | None,
    local: str | None,
    birth_date: date | str | None,
    phones: list[str],
    emails: list[str],
    documents: list[tuple[str, str, str | None]],
    address: dict[str, Any] | None,
    match_on_documents: bool,
    relay_domains: tuple[str, ...] = DEFAULT_RELAY_DOMAINS,
    virtual_prefixes: tuple[str, ...] = DEFAULT_VIRTUAL_PREFIXES,
) -> MatchFeatures:
    f = MatchFeatures(readings=list(name_readings(given, surname, local)))
    if birth_date:
        f.birth_date = birth_date if isinstance(birth_date, str) else birth_date.isoformat()
    for p in phones:
        m = masked_phone(p) if "*" in p else None
        if "*" in p and not m:
            continue
        number = m or p
        if is_virtual_phone(number, virtual_prefixes):
            f.virtual_phones.append(number)
        elif m:
            f.masked_phones.append(m)
        else:
            f.phones.append(p)
    f.emails = [e for e in (normalise_email(a, relay_domains) for a in emails) if e]
    if match_on_documents:
        f.documents = [k for k in (document_key(t, n, c) for t, n, c in documents) if k]
    if address:
        pc = "".join((address.get("postal_code") or "").split()).upper()
        f.postcode = pc or None
        f.city = fold(address.get("city") or "") or None
        f.street = fold(" ".join(address.get("lines") or [])) or None
    f.phones = list(dict.fromkeys(f.phones))
    f.masked_phones = list(dict.fromkeys(f.masked_phones))
    f.virtual_phones = list(dict.fromkeys(f.virtual_phones))
    f.emails = list(dict.fromkeys(f.emails))
    f.documents = list(dict.fromkeys(f.documents))
    return f
