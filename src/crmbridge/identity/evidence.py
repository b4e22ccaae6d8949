"""What a shared identifier says about *who*: one person, a household, or nobody in particular.

A phone or e-mail held by several distinct people in the store (a parent's mobile on the
children's bookings, an assistant's on five executives', a couple's shared mailbox) is evidence
of a household or an account, not of one person; a masked OTA phone that several stored numbers
fit points at none of them. The resolver gathers, for an arriving record, the records it was
blocked with (every stored record holding one of its identifiers is among them, because each
identifier is a blocking key) and this module turns them into that context. Pure functions:
no store, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .features import MatchFeatures
from .identifiers import phone_consistent
from .name_match import compare_names, is_chinese_surname


def different_people(a: MatchFeatures, b: MatchFeatures) -> bool:
    """Whether two records certainly belong to two people: another given name, another birth date."""
    if a.birth_date and b.birth_date and _dob_differs(a.birth_date, b.birth_date):
        return True
    if a.readings and b.readings:
        levels = compare_names(a.readings, b.readings)
        return levels.get("given") in ("distinct", "near", "differ") or (
            levels.get("surname") == "differ" and "given" in levels
        )
    return False


def _dob_differs(a: str, b: str) -> bool:
    from .scoring import dob_level

    return dob_level(a, b) == "differ"


def count_people(records: Iterable[MatchFeatures]) -> int:
    """How many distinct people a set of records shows at least (greedy: a record joins the first
    group it does not contradict; records with no name and no birth date add nobody)."""
    groups: list[list[MatchFeatures]] = []
    for r in records:
        if not r.readings and not r.birth_date:
            continue
        for g in groups:
            if not any(different_people(r, x) for x in g):
                g.append(r)
                break
        else:
            groups.append([r])
    return max(1, len(groups))


@dataclass(frozen=True)
class EvidenceContext:
    """What the store says about an arriving record's identifiers."""

    people_on: Mapping[str, int] = field(default_factory=dict)  # phone/e-mail -> distinct people
    numbers: frozenset[str] = frozenset()  # every full number among the record and its candidates

    def people(self, value: str) -> int:
        return self.people_on.get(value, 1)

    def fitting(self, masked: str) -> int:
        """How many distinct full numbers among the candidates a masked phone could hide."""
        return sum(1 for n in self.numbers if phone_consistent(masked, n))


def evidence_context(
    arrival: MatchFeatures,
    others: Iterable[MatchFeatures],
    guests_on: Mapping[str, int] | None = None,
    batch_holders: Mapping[str, list[MatchFeatures]] | None = None,
) -> EvidenceContext:
    """``others``: the records the arrival was blocked with; ``guests_on``: for identifiers of
    theirs that the arrival does not carry, how many guests of the store hold each (their
    other holders are not among the candidates); ``batch_holders``: the same for the records
    of the arrival's own batch, written before it."""
    others = list(others)
    people: dict[str, int] = dict(guests_on or {})
    # every identifier among the arrival and its candidates: how many people the store shows on it
    holders: dict[str, list[MatchFeatures]] = {}
    for o in others:
        for value in (*o.phones, *o.emails):
            holders.setdefault(value, []).append(o)
    for value, hs in holders.items():
        if batch_holders and value not in arrival.phones and value not in arrival.emails:
            hs = [*hs, *(h for h in batch_holders.get(value, []) if h not in hs)]
        if len(hs) > 1:
            people[value] = max(people.get(value, 1), count_people(hs))
    numbers = frozenset(n for f in (arrival, *others) for n in f.phones)
    return EvidenceContext(people, numbers)


def contradiction(a: MatchFeatures, b: MatchFeatures) -> str | None:
    """The field on which record ``a`` contradicts record ``b`` of a guest, if any: a record joins
    a guest only if it contradicts none of the guest's records."""
    from .scoring import document_level

    if a.documents and b.documents:
        doc = document_level(a.documents, b.documents)
        if doc == "conflict":
            return "document"
        if doc == "exact":
            return None  # one document names one person, whatever the other fields say
    if a.birth_date and b.birth_date and _dob_differs(a.birth_date, b.birth_date):
        return "birth_date"
    if a.readings and b.readings:
        levels = compare_names(a.readings, b.readings)
        given = levels.get("given")
        # unlike Latin given names may be a typo (FEBRL corrupts them freely); a Chinese given
        # name with another character or syllable is another person
        chinese = any(is_chinese_surname(r) for r in (*a.readings, *b.readings))
        if given in ("distinct", "near") or (given == "differ" and chinese):
            return "given_name"
        # so is a Chinese surname that is not the other's (冯敏 and 乐敏 of one mailbox): a
        # Chinese wife keeps hers, and no romanisation turns FENG into YUE
        both = any(is_chinese_surname(r) for r in a.readings) and any(
            is_chinese_surname(r) for r in b.readings
        )
        if levels.get("surname") == "differ" and both:
            return "surname"
    return None


def first_contradiction(a: Iterable[MatchFeatures], b: Iterable[MatchFeatures]) -> str | None:
    """The first contradiction between two sets of records; none when an identity document of
    one set is in the other (the document names the person; the rest is a data-entry error)."""
    a, b = list(a), list(b)
    docs_a = {d for x in a for d in x.documents}
    if docs_a & {d for y in b for d in y.documents}:
        return None
    for x in a:
        for y in b:
            if (why := contradiction(x, y)) is not None:
                return why
    return None


def household_notes(arrival: MatchFeatures, ctx: EvidenceContext) -> dict[str, object]:
    """What the household and mask rules saw, for the audit trail: counts only, never values."""
    notes: dict[str, object] = {}
    phones = [ctx.people(p) for p in arrival.phones if ctx.people(p) > 1]
    emails = [ctx.people(e) for e in arrival.emails if ctx.people(e) > 1]
    if phones or emails:
        notes["household"] = {k: max(v) for k, v in (("phone", phones), ("email", emails)) if v}
    fits = [ctx.fitting(m) for m in arrival.masked_phones]
    if fits:
        notes["masked_phone_fits"] = max(fits)
    if arrival.virtual_phones:
        notes["virtual_phones_ignored"] = len(arrival.virtual_phones)
    return notes
