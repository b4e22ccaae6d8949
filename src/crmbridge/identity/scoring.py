"""Fellegi–Sunter scoring: per-field agreement levels, log2(m/u) weights, two thresholds.

A pair's score is the sum of the weights of its fields' agreement levels (a missing field
adds nothing). Above ``upper`` the records merge, between ``lower`` and ``upper`` a person
reviews them, below ``lower`` they stay apart. Two rules sit on top of the sum, because the
worst failure is merging two people: without a corroborating identifier (phone, e-mail,
document or birth date) a pair never merges automatically, and neither does one whose given
names clearly differ (twins sharing a parent's phone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from .features import MatchFeatures
from .identifiers import phone_consistent


class Decision(StrEnum):
    MERGE = "merge"
    REVIEW = "review"
    APART = "apart"


# Agreement levels per field, strongest first; "differ" is always last.
LEVELS: dict[str, tuple[str, ...]] = {
    "surname": ("exact", "close", "fuzzy", "differ"),
    "given": ("exact", "close", "fuzzy", "differ"),
    "birth_date": ("exact", "close", "differ"),
    "phone": ("exact", "masked", "differ"),
    "email": ("exact", "differ"),
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
    "given": {"exact": 6.0, "close": 3.0, "fuzzy": 0.0, "differ": -6.0},
    "birth_date": {"exact": 10.0, "close": 3.0, "differ": -6.0},
    "phone": {"exact": 14.0, "masked": 5.0, "differ": -6.0},
    "email": {"exact": 14.0, "differ": -1.0},
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
# Agreements that rule out an automatic merge whatever the score: two valid resident ID
# numbers that differ are two people; so are different given names (twins share a phone, a
# birth date, an address), unless an identity document says otherwise.
VETOES = {("given", "differ"), ("document", "conflict")}
OVERRIDES_GIVEN_NAME = ("document", "exact")


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


def _name_level(a: str, b: str, close: float = 0.92, fuzzy: float = 0.8) -> tuple[str, float]:
    if a == b:
        return "exact", 1.0
    s = JaroWinkler.similarity(a, b)
    return ("close" if s >= close else "fuzzy" if s >= fuzzy else "differ"), s


def compare_names(a: MatchFeatures, b: MatchFeatures) -> dict[str, str]:
    """Levels of the best-agreeing pair of readings (either order, any surname reading)."""
    best: tuple[float, dict[str, str]] | None = None
    for ra in a.readings:
        for rb in b.readings:
            out: dict[str, str] = {}
            total = 0.0
            if ra.surname and rb.surname:
                out["surname"], s = _name_level(ra.surname, rb.surname)
                total += s
            if ra.given and rb.given:
                out["given"], s = _name_level(ra.given, rb.given)
                total += s
            elif ra.surname + ra.given == rb.surname + rb.given:
                # one side wrote the whole name as one word: ZHANGWEI
                out = {"surname": "exact", "given": "exact"}
                total = 2.0
            if best is None or total > best[0]:
                best = (total, out)
    return best[1] if best else {}


def _dob_level(a: str, b: str) -> str:
    if a == b:
        return "exact"
    da, db = a.replace("-", ""), b.replace("-", "")
    if DamerauLevenshtein.distance(da, db) <= 1 or (
        da[:4] == db[:4] and da[4:6] == db[6:] and da[6:] == db[4:6]
    ):
        return "close"  # one typed digit, or day and month swapped
    return "differ"


def _phone_level(a: MatchFeatures, b: MatchFeatures) -> str | None:
    if a.phones and b.phones and set(a.phones) & set(b.phones):
        return "exact"
    for m in a.masked_phones:
        if any(phone_consistent(m, p) for p in b.phones) or m in b.masked_phones:
            return "masked"
    for m in b.masked_phones:
        if any(phone_consistent(m, p) for p in a.phones):
            return "masked"
    # Both sides gave a number (full or masked) and none of them can be the same line.
    if (a.phones or a.masked_phones) and (b.phones or b.masked_phones):
        return "differ"
    return None


def _code_level(a: str, b: str) -> str:
    if a == b:
        return "exact"
    return "close" if DamerauLevenshtein.distance(a, b) <= 1 else "differ"


def _text_level(a: str, b: str, close: float = 0.85) -> str:
    if a == b:
        return "exact"
    s = JaroWinkler.similarity(a, b)
    return "exact" if s >= 0.97 else "close" if s >= close else "differ"


def _document_level(a: list[str], b: list[str]) -> str:
    if set(a) & set(b):
        return "exact"
    if any(_code_level(x, y) == "close" for x in a for y in b):
        return "close"
    # Resident IDs carry a checksum, so two valid ones that differ belong to two people; a
    # passport is renewed under a new number, so two passports differing proves little.
    if any(x.startswith("CN_ID:") for x in a) and any(y.startswith("CN_ID:") for y in b):
        return "conflict"
    return "differ"


def compare(a: MatchFeatures, b: MatchFeatures) -> dict[str, str]:
    out = compare_names(a, b)
    if a.birth_date and b.birth_date:
        out["birth_date"] = _dob_level(a.birth_date, b.birth_date)
    if (p := _phone_level(a, b)) is not None:
        out["phone"] = p
    if a.emails and b.emails:
        out["email"] = "exact" if set(a.emails) & set(b.emails) else "differ"
    if a.documents and b.documents:
        out["document"] = _document_level(a.documents, b.documents)
    if a.postcode and b.postcode:
        out["postcode"] = _code_level(a.postcode, b.postcode)
    if a.street and b.street:
        out["street"] = _text_level(a.street, b.street)
    if a.city and b.city:
        out["city"] = _text_level(a.city, b.city, close=0.9)
    return out


@dataclass
class Scorer:
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Off only for data where given names are unreliable and twins absent (FEBRL is one).
    given_name_veto: bool = True

    def score(self, agreements: Mapping[str, str]) -> float:
        return sum(self.weights.get(f, {}).get(level, 0.0) for f, level in agreements.items())

    def decide(self, agreements: Mapping[str, str], score: float) -> Decision:
        if score < self.thresholds.lower:
            return Decision.APART
        pairs = set(agreements.items())
        vetoes = pairs & VETOES
        if OVERRIDES_GIVEN_NAME in pairs or not self.given_name_veto:
            vetoes.discard(("given", "differ"))
        if score >= self.thresholds.upper and pairs & CORROBORATING and not vetoes:
            return Decision.MERGE
        return Decision.REVIEW

    def compare(self, a: MatchFeatures, b: MatchFeatures) -> Comparison:
        agreements = compare(a, b)
        s = self.score(agreements)
        return Comparison(agreements, s, self.decide(agreements, s))
