"""Blocking keys: the normalised values a record is looked up by, later stored as blind indexes.

Each key kind is its own keyed HMAC index (``guest_index``), so finding candidates is a few
indexed equality lookups: the store is never scanned and never holds the values themselves.
Several passes are needed because any single key misses some true matches (a typo in a name,
a new phone): a pair is compared if it shares *any* key.
"""

from __future__ import annotations

from .features import MatchFeatures
from .identifiers import phone_suffix
from .names import name_keys

# Kinds whose buckets hold one person's records; the rest are combinations that narrow a
# common value (a name, a birth date) down to a handful of guests.
KINDS = (
    "email",
    "phone",
    "document",
    "name_dob",
    "surname_dob",
    "given_dob",
    "surname_phone4",
    "name_postcode",
    "dob_postcode",
    "dob_city",
    "street_postcode",
)


def blocking_keys(f: MatchFeatures) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    keys += [("email", e) for e in f.emails]
    keys += [("phone", p) for p in f.phones]
    keys += [("document", d) for d in f.documents]
    names = sorted(name_keys(tuple(f.readings)))
    surnames = sorted({r.surname for r in f.readings if r.surname})
    givens = sorted({r.given for r in f.readings if r.given and r.surname})
    if f.birth_date:
        keys += [("name_dob", f"{n}|{f.birth_date}") for n in names]
        keys += [("surname_dob", f"{s}|{f.birth_date}") for s in surnames]
        keys += [("given_dob", f"{g}|{f.birth_date}") for g in givens]
        if f.postcode:
            keys.append(("dob_postcode", f"{f.birth_date}|{f.postcode}"))
        if f.city:
            keys.append(("dob_city", f"{f.birth_date}|{f.city}"))
    suffixes = sorted({s for p in f.phones + f.masked_phones if (s := phone_suffix(p))})
    keys += [("surname_phone4", f"{s}|{x}") for s in surnames for x in suffixes]
    if f.postcode:
        keys += [("name_postcode", f"{n}|{f.postcode}") for n in names]
        if f.street:
            keys.append(("street_postcode", f"{f.street.replace(' ', '')}|{f.postcode}"))
    return list(dict.fromkeys(keys))
