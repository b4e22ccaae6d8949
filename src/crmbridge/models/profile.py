"""Canonical guest profile: who the guest is, how to reach them, what they like."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

import phonenumbers
from pydantic import Field, SerializerFunctionWrapHandler, ValidationInfo, field_validator, model_serializer

from ..identity.identifiers import masked_phone
from .base import Canonical, SourceRecord, UtcDateTime


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


# Mainland mobile numbers are most of what a Chinese hotel sees, and phonenumbers.parse costs
# ~100 µs; this pattern accepts only shapes whose E.164 form is unambiguous (+86 1[3-9]xxxxxxxxx),
# everything else goes through phonenumbers (tests check the two agree).
_CN_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_SEPARATORS = str.maketrans("", "", " -().")


@lru_cache(maxsize=65536)
def normalise_phone(raw: str, region: str = "CN") -> str:
    """E.164 for a phone number written in any common format; raises ValueError if invalid.

    The message never includes the number itself."""
    compact = raw.translate(_SEPARATORS)
    if region == "CN" or compact.startswith(("+86", "0086")):
        m = _CN_MOBILE.fullmatch(compact)
        if m:
            return "+86" + m.group(1)
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class Phone(Canonical):
    number: str
    kind: str = "mobile"

    @field_validator("number")
    @classmethod
    def _e164(cls, v: str, info: ValidationInfo) -> str:
        region = (info.context or {}).get("phone_region", "CN")
        if any(c in v for c in "*＊"):
            # OTAs show a masked number (138****8000): kept in a canonical masked form, used
            # for display and as weak identity evidence, never as an exact key.
            masked = masked_phone(v, region)
            if masked is None:
                raise ValueError("not a masked phone number")
            return masked
        return normalise_phone(v, region)

    @property
    def masked(self) -> bool:
        return "*" in self.number


class Email(Canonical):
    address: str
    kind: str = "personal"

    @field_validator("address")
    @classmethod
    def _shape(cls, v: str) -> str:
        local, at, domain = v.partition("@")
        if not at or not local or "." not in domain or " " in v:
            raise ValueError("not an e-mail address")
        return f"{local}@{domain.lower()}"


class Address(Canonical):
    lines: list[str] = Field(default_factory=list)
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2


class IdentityDocument(Canonical):
    doc_type: str  # e.g. "ID_CARD" (居民身份证), "PASSPORT"
    number: str
    issuing_country: str | None = None


class Membership(Canonical):
    program: str
    number: str | None = None
    tier: str | None = None
    points: Decimal | None = None


class Preference(Canonical):
    category: str  # e.g. ROOM, DIET, PILLOW
    code: str
    value: str | None = None
    # Set for inferred preferences (e.g. from POS spend): how sure the inference is, 0..1.
    confidence: float | None = Field(default=None, ge=0, le=1)

    @model_serializer(mode="wrap")
    def _omit_unset_confidence(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Stated preferences serialise exactly as before the field existed, so stored
        # content hashes of existing profiles stay valid.
        out = handler(self)
        if out.get("confidence") is None:
            out.pop("confidence", None)
        return out


class Consent(Canonical):
    purpose: str  # e.g. marketing, profiling, id_matching
    granted: bool
    recorded_at: UtcDateTime | None = None
    notice_version: str | None = None


class GuestProfile(SourceRecord):
    """One source's view of a guest. Merging across sources happens in the store."""

    given_name: str | None = None
    surname: str | None = None
    local_name: str | None = None  # name in local script, e.g. 张伟
    gender: Gender = Gender.UNKNOWN
    birth_date: date | None = None
    emails: list[Email] = Field(default_factory=list)
    phones: list[Phone] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    documents: list[IdentityDocument] = Field(default_factory=list)
    nationality: str | None = None
    language: str | None = None
    memberships: list[Membership] = Field(default_factory=list)
    preferences: list[Preference] = Field(default_factory=list)
    consents: list[Consent] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
