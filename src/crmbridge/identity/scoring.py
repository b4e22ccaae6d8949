"""Fellegi–Sunter scoring: per-field agreement levels, log2(m/u) weights, two thresholds.

A pair's score is the sum of the weights of its fields' agreement levels (a missing field
adds nothing). Above ``upper`` the records merge, between ``lower`` and ``upper`` a person
reviews them, below ``lower`` they stay apart. Rules sit on top of the sum, because the
worst failure is merging two people:

* no automatic merge without a corroborating identifier (phone, e-mail, document or birth
  date); a phone or e-mail that the store has seen with several distinct people (a household,
  an assistant, a couple) corroborates only together with the exact full name;
* a masked phone corroborates only when it fits exactly one stored number among the candidates,
  and not at all between two records of a common name (王艳, 李娜): the store may hold only
  the *other* 王艳, whose number the mask fits by chance, so it sends such a pair to review
  unless a birth date, e-mail or document agrees as well;
* different given names, a different birth date or two different resident IDs block an
  automatic merge; a Chinese given name with another character is another person (apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from .features import MatchFeatures
from .identifiers import phone_consistent
from .name_match import compare_names as _compare_names
from .romanisation import COMMON_SURNAMES

if TYPE_CHECKING:
    from .evidence import EvidenceContext


class Decision(StrEnum):
    MERGE = "merge"
    REVIEW = "review"
    APART = "apart"


# Agreement levels per field, strongest first; "differ" is always last.
LEVELS: dict[str, tuple[str, ...]] = {
    "surname": ("exact", "close", "fuzzy", "differ"),
    "given": ("exact", "alias", "close", "fuzzy", "near", "differ", "distinct"),
    "birth_date": ("exact", "close", "differ"),
    # shared: one the store holds for several people; namesake: a mask that fits, between two
    # records of a common name; ambiguous: a mask several numbers fit
    "phone": ("exact", "shared", "masked", "namesake", "ambiguous", "differ"),
    "email": ("exact", "shared", "differ"),
    "document": ("exact", "close", "differ", "conflict"),
    "postcode": ("exact", "close", "differ"),
    "street": ("exact", "close", "differ"),
    "city": ("exact", "close", "differ"),
}

# log2(m/u) per level. Conservative defaults for a hotel's guest file: m from the share of
# true pairs agreeing at that level, u from the chance that two different guests do. The
# hotel may set its own in [identity.weights] or estimate them with EM (``em.py``).
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "surname": {"exact": 4.0, "close": 2.0, "fuzzy": 0.0, "differ": -4.0},
    "given": {
        "exact": 6.0,
        "alias": 4.0,
        "close": 3.0,
        "fuzzy": 0.0,
        "near": -4.0,
        "differ": -6.0,
        "distinct": -10.0,
    },
    "birth_date": {"exact": 10.0, "close": 3.0, "differ": -10.0},
    # a household phone keeps some weight (the family is the right one) but not a person's
    # a mask fits one in ten thousand numbers of its prefix: among the many people of a common
    # name that happens, so there it only lifts the exact name into review (4 + 6 + 2 = 12)
    "phone": {
        "exact": 14.0,
        "shared": 8.0,
        "masked": 5.0,
        "namesake": 2.0,
        "ambiguous": 0.0,
        "differ": -6.0,
    },
    "email": {"exact": 14.0, "shared": 8.0, "differ": -1.0},
    "document": {"exact": 16.0, "close": 6.0, "differ": -4.0, "conflict": -20.0},
    "postcode": {"exact": 5.0, "close": 1.0, "differ": -2.0},
    "street": {"exact": 7.0, "close": 3.0, "differ": -2.0},
    "city": {"exact": 3.0, "close": 1.0, "differ": -1.0},
}

# Agreements that identify a person rather than describe one.
CORROBORATING = {
    ("phone", "exact"),
    ("phone", "masked"),
    ("email", "exact"),
    ("document", "exact"),
    ("document", "close"),  # one character off in a document number still names one person
    ("birth_date", "exact"),
}
# Corroborate only beside the exact full name: a household's phone or shared mailbox.
HOUSEHOLD = {("phone", "shared"), ("email", "shared")}
# Agreements that rule out an automatic merge whatever the score: two valid resident ID
# numbers that differ are two people; so are different given names (twins share a phone, a
# birth date, an address), unless an identity document agrees. A different birth date weighs
# -10: with the exact name and one phone it still falls short of a merge.
VETOES = {
    ("given", "near"),
    ("given", "differ"),
    ("given", "distinct"),
    ("document", "conflict"),
}
OVERRIDES_GIVEN_NAME = ("document", "exact")
# A Chinese given name with another character is another person: apart, not a doubt to review.
APART = ("given", "distinct")


@dataclass(frozen=True)
class Thresholds:
    lower: float = 11.0
    upper: float = 15.0


@dataclass
class Comparison:
    agreements: dict[str, str] = field(default_factory=dict)  # field -> level, present fields only
    score: float = 0.0
    decision: Decision = Decision.APART

    def evidence(self) -> dict[str, object]:
        # Levels and the score only: never a value, so the audit trail holds no PII.
        return {"agreements": dict(sorted(self.agreements.items())), "score": round(self.score, 2)}


_NAME_WEIGHTS = {f: DEFAULT_WEIGHTS[f] for f in ("surname", "given")}


def compare_names(a: MatchFeatures, b: MatchFeatures) -> dict[str, str]:
    return _compare_names(a.readings, b.readings, _NAME_WEIGHTS)


def dob_level(a: str, b: str) -> str:
    return _dob_level(a, b)


def _dob_level(a: str, b: str) -> str:
    if a == b:
        return "exact"
    da, db = a.replace("-", ""), b.replace("-", "")
    if DamerauLevenshtein.distance(da, db) <= 1 or (
        da[:4] == db[:4] and da[4:6] == db[6:] and da[6:] == db[4:6]
    ):
        return "close"  # one typed digit, or day and month swapped
    return "differ"


def _phone_level(a: MatchFeatures, b: MatchFeatures, ctx: EvidenceContext | None) -> str | None:
    shared = set(a.phones) & set(b.phones)
    if shared:
        return "exact" if ctx is None or any(ctx.people(p) <= 1 for p in shared) else "shared"
    fits = [m for m in a.masked_phones if any(phone_consistent(m, p) for p in b.phones)]
    fits += [m for m in b.masked_phones if any(phone_consistent(m, p) for p in a.phones)]
    if fits:
        # evidence only when the mask picks out one stored number among all the candidates
        return "masked" if ctx is None or any(ctx.fitting(m) <= 1 for m in fits) else "ambiguous"
    if set(a.masked_phones) & set(b.masked_phones):
        return "masked" if ctx is None or ctx.fitting(a.masked_phones[0]) <= 1 else "ambiguous"

    # Both sides gave a number (full or masked) and none of them can be the same line. A
    # household's or an assistant's number on one side says nothing about the person's own.
    def personal(f: MatchFeatures) -> bool:
        return bool(f.masked_phones) or any(ctx is None or ctx.people(p) <= 1 for p in f.phones)

    if (a.phones or a.masked_phones) and (b.phones or b.masked_phones) and personal(a) and personal(b):
        return "differ"
    return None


# The commonest surnames, which with a one-character given name make the names hundreds of
# thousands of people share (王艳, 李娜, 张敏, 刘洋): the first twenty of the Ministry of Public
# Security's ranking, about half of all people.
_TOP_SURNAMES = frozenset(COMMON_SURNAMES[:20])


def common_name(f: MatchFeatures) -> bool:
    """Whether the record's Han name is one many people share: a top-twenty surname and a
    one-character given name."""
    return any(
        len(r.han) == 2 and r.han[0] in _TOP_SURNAMES for r in f.readings if r.han and r.surname and r.given
    )


def _code_level(a: str, b: str) -> str:
    if a == b:
        return "exact"
    return "close" if DamerauLevenshtein.distance(a, b) <= 1 else "differ"


def _text_level(a: str, b: str, close: float = 0.85) -> str:
    if a == b:
        return "exact"
    s = JaroWinkler.similarity(a, b)
    return "exact" if s >= 0.97 else "close" if s >= close else "differ"


def document_level(a: list[str], b: list[str]) -> str:
    if set(a) & set(b):
        return "exact"
    if any(_code_level(x, y) == "close" for x in a for y in b):
        return "close"
    # Resident IDs carry a checksum, so two valid ones that differ belong to two people; a
    # passport is renewed under a new number, so two passports differing proves little.
    if any(x.startswith("CN_ID:") for x in a) and any(y.startswith("CN_ID:") for y in b):
        return "conflict"
    return "differ"


def compare(a: MatchFeatures, b: MatchFeatures, ctx: EvidenceContext | None = None) -> dict[str, str]:
    """Agreement levels; ``ctx`` (what the store says about ``a``'s identifiers) turns a
    household's phone into "shared" and a mask several stored numbers fit into "ambiguous"."""
    out = compare_names(a, b)
    if a.birth_date and b.birth_date:
        out["birth_date"] = _dob_level(a.birth_date, b.birth_date)
    if (p := _phone_level(a, b, ctx)) is not None:
        out["phone"] = "namesake" if p == "masked" and (common_name(a) or common_name(b)) else p
    if a.emails and b.emails:
        shared = set(a.emails) & set(b.emails)
        out["email"] = (
            "differ"
            if not shared
            else "exact"
            if ctx is None or any(ctx.people(e) <= 1 for e in shared)
            else "shared"
        )
    if a.documents and b.documents:
        out["document"] = document_level(a.documents, b.documents)
    if a.postcode and b.postcode:
        out["postcode"] = _code_level(a.postcode, b.postcode)
    if a.street and b.street:
        out["street"] = _text_level(a.street, b.street)
    if a.city and b.city:
        out["city"] = _text_level(a.city, b.city, close=0.9)
    return out


def corroborated(agreements: Mapping[str, str]) -> bool:
    """A person-identifying agreement: one of CORROBORATING, or a household's identifier beside
    the exact full name (two of a family rarely share a given name)."""
    pairs = set(agreements.items())
    if pairs & CORROBORATING:
        return True
    full_name = agreements.get("surname") == "exact" and agreements.get("given") == "exact"
    return bool(pairs & HOUSEHOLD) and full_name


def only_masked(agreements: Mapping[str, str]) -> bool:
    """Whether the masked phone is the only identifier the pair agrees on (never a bridge)."""
    rest = {k: v for k, v in agreements.items() if (k, v) != ("phone", "masked")}
    return agreements.get("phone") == "masked" and not corroborated(rest)


@dataclass
class Scorer:
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Off only for data where given names are unreliable and twins absent (FEBRL is one).
    given_name_veto: bool = True

    def score(self, agreements: Mapping[str, str]) -> float:
        return sum(self.weights.get(f, {}).get(level, 0.0) for f, level in agreements.items())

    def decide(self, agreements: Mapping[str, str], score: float) -> Decision:
        pairs = set(agreements.items())
        documented = OVERRIDES_GIVEN_NAME in pairs
        if score < self.thresholds.lower or (APART in pairs and not documented):
            return Decision.APART
        vetoes = pairs & VETOES
        if documented:
            vetoes -= {
                ("given", "near"),
                ("given", "differ"),
                ("given", "distinct"),
                ("birth_date", "differ"),
            }
        elif not self.given_name_veto:
            vetoes.discard(("given", "differ"))
        if score >= self.thresholds.upper and corroborated(agreements) and not vetoes:
            return Decision.MERGE
        return Decision.REVIEW

    def compare(self, a: MatchFeatures, b: MatchFeatures, ctx: EvidenceContext | None = None) -> Comparison:
        agreements = compare(a, b, ctx)
        s = self.score(agreements)
        return Comparison(agreements, s, self.decide(agreements, s))
