"""Canonical guest profile: who the guest is, how to reach them, what they like."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import phonenumbers
from pydantic import Field, ValidationInfo, field_validator

from .base import Canonical, SourceRecord


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


def normalise_phone(raw: str, region: str = "CN") -> str:
    """E.164 for a phone number written in any common format; raises ValueError if invalid.

    The message never includes the number itself."""
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
        return normalise_phone(v, region)


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


class Consent(Canonical):
    purpose: str  # e.g. marketing, profiling, id_matching
    granted: bool
    recorded_at: datetime | None = None
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
