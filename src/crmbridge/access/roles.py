"""Roles as hotel departments, each a set of fields it may see and actions it may take.

Fields are the parts of a profile view; a field not in a role's set is left out of what that
role receives, and every field it receives is masked unless the role may unmask it and the
reader gives a reason (which the audit keeps).
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = (
    "name",  # name, latin_name
    "contact",  # phones, emails
    "birth_date",
    "documents",
    "addresses",
    "preferences",
    "notes",
    "stays",  # reservations, arrivals
    "spend",
    "feedback",
    "segment",
    "consents",
    "provenance",  # every value with its source (masked like the fields it holds)
    "history",  # merges and unmerges
)
ACTIONS = (
    "guests.search",
    "guests.read",
    "guests.unmask",
    "reviews.read",
    "reviews.resolve",
    "arrivals.read",
    "consent.write",
    "marketing.export",
    "privacy.export",
    "privacy.erase",
    "staff.manage",
    "audit.read",
    "keys.rotate",
)

_ALL = frozenset(FIELDS)


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    fields: frozenset[str]
    actions: frozenset[str]
    consented_only: str | None = None  # a purpose: only guests with a current consent for it


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role(
            "admin",
            "IT administration: staff, audit, keys; profiles masked, never unmasked",
            _ALL - {"documents", "notes", "feedback"},
            frozenset(
                {"guests.search", "guests.read", "reviews.read", "reviews.resolve", "arrivals.read"}
                | {"staff.manage", "audit.read", "keys.rotate"}
            ),
        ),
        Role(
            "front_office",
            "reception: names, contacts, preferences and stays; no documents",
            frozenset(
                {"name", "contact", "birth_date", "preferences", "notes", "stays", "segment", "consents"}
            ),
            frozenset(
                {"guests.search", "guests.read", "guests.unmask", "arrivals.read", "reviews.read"}
                | {"reviews.resolve", "consent.write"}
            ),
        ),
        Role(
            "fnb",
            "food and beverage: names, preferences (diet), dining spend",
            frozenset({"name", "preferences", "spend", "stays"}),
            frozenset({"guests.search", "guests.read", "arrivals.read"}),
        ),
        Role(
            "sales",
            "sales: names, contacts, stays, spend and segments; no documents or birth dates",
            frozenset({"name", "contact", "stays", "spend", "segment"}),
            frozenset({"guests.search", "guests.read", "guests.unmask"}),
        ),
        Role(
            "marketing",
            "marketing: only guests with a current marketing consent; never documents or birth dates",
            frozenset({"name", "contact", "preferences", "segment", "consents"}),
            frozenset({"guests.search", "guests.read", "marketing.export"}),
            consented_only="marketing",
        ),
        Role(
            "guest_relations",
            "guest relations: names, contacts, preferences, notes, stays and feedback",
            frozenset(
                {"name", "contact", "birth_date", "preferences", "notes", "stays", "feedback", "segment"}
                | {"consents", "provenance", "history"}
            ),
            frozenset(
                {"guests.search", "guests.read", "guests.unmask", "arrivals.read", "reviews.read"}
                | {"consent.write"}
            ),
        ),
        Role(
            "dpo",
            "data-protection officer: everything, subject access export, erasure, audit",
            _ALL,
            frozenset(ACTIONS) - {"staff.manage", "keys.rotate"},
        ),
    )
}


class UnknownRole(ValueError):
    pass


def role(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise UnknownRole(f"unknown role {name!r}; roles: {', '.join(ROLES)}") from None
