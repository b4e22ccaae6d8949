"""Identity keys: the normalised values a record can be matched on, as blind indexes.

Only these keys ever reach the database, and only as keyed HMACs (``guest_index``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import GuestProfile

# An OTA relay or masked address (e.g. ``z***@trip.com``) identifies the booking, not the
# guest; matching on it would merge strangers.
MASK_CHARS = ("*", "…")


@dataclass(frozen=True)
class IdentityPolicy:
    # ID numbers are collected for police registration (PIPL 13(3)); matching on them is a
    # separate purpose that the hotel must have a basis for, so it is off by default.
    match_on_documents: bool = False


def normalise_email(address: str) -> str | None:
    a = address.strip().lower()
    if any(c in a for c in MASK_CHARS):
        return None
    return a


def identity_keys(profile: GuestProfile, policy: IdentityPolicy) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for e in profile.emails:
        norm = normalise_email(e.address)
        if norm:
            keys.append(("email", norm))
    keys.extend(("phone", p.number) for p in profile.phones)
    if policy.match_on_documents:
        for d in profile.documents:
            country = (d.issuing_country or "").upper()
            keys.append(("document", f"{d.doc_type.upper()}:{country}:{d.number.upper()}"))
    return list(dict.fromkeys(keys))
