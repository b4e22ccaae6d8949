"""Comparing two records' names: surname and given name levels of the best whole-name alignment.

Chinese given names are compared per character or syllable, not as strings: 诗婷 and 诗萍
(SHITING / SHIPING, Jaro–Winkler 0.93) are sisters, a different generation-partner character
is a different person, not a typo. Only a spelling that cannot be cut into syllables at all
(XIAOMNIG) is read as a typo and measured by Jaro–Winkler.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from .names import NameReading, han_surname_readings, split_han
from .romanisation import fits, is_syllables, surname_chars, surname_spellings, system_spellings

# Given-name levels, strongest first: exact; alias (an English name written beside the Chinese one, ANGELA
# RUIBIN against 睿斌); close and fuzzy (typos); differ (unlike strings); distinct (Chinese
# names with a different character or syllable: another person).
# near: another syllable one letter away (SHITING / SHIPING): a sister or a typo, for a person.
_RANK = {"exact": 5, "alias": 4, "close": 3, "fuzzy": 2, "near": 1, "differ": 1, "distinct": 0}


def _syllable_difference(a: str, b: str) -> str:
    return "near" if DamerauLevenshtein.distance(a, b) <= 1 else "distinct"


def _jw_level(a: str, b: str, close: float = 0.92, fuzzy: float = 0.8) -> str:
    if a == b:
        return "exact"
    s = JaroWinkler.similarity(a, b)
    return "close" if s >= close else "fuzzy" if s >= fuzzy else "differ"


def is_chinese_surname(r: NameReading) -> bool:
    return bool(r.han) or bool(surname_chars(r.surname))


def _han_surname_set(r: NameReading) -> frozenset[str]:
    sur, _ = split_han(r.han)
    return surname_spellings(sur, (r.surname, *han_surname_readings(sur)))


def surname_level(a: NameReading, b: NameReading) -> str:
    if a.han and b.han:
        return "exact" if split_han(a.han)[0] == split_han(b.han)[0] else "differ"
    if b.han:
        a, b = b, a
    if a.han:  # a Han, b Latin
        if b.surname in _han_surname_set(a):
            return "exact"
        return "differ" if is_syllables(b.surname) else _jw_level(a.surname, b.surname)
    if a.surname == b.surname:
        return "exact"
    ca, cb = surname_chars(a.surname), surname_chars(b.surname)
    if ca and cb:
        # CHAN and CHEN can both be 陈 (Hong Kong and mainland spellings); LI and LIN never meet
        return "close" if ca & cb else "differ"
    return _jw_level(a.surname, b.surname)


def _han_given_level(a: str, b: str) -> str:
    if a == b:
        return "exact"
    if len(a) == len(b) and all(x == y or _mandarin_same(x, y) for x, y in zip(a, b, strict=True)):
        # a homophone: the input method's wrong pick (诗婷 / 诗亭), or twins 家辰 and 家晨
        return "near"
    return "distinct"


def _mandarin_same(x: str, y: str) -> bool:
    from .names import _pinyin

    return _pinyin(x) == _pinyin(y)


def _words(r: NameReading) -> list[str]:
    return r.parts.split() if r.parts else ([r.given] if r.given else [])


def _latin_fits_han(latin: str, chars: str) -> bool:
    per_char = [system_spellings(c) for c in chars]
    return any(fits(latin, [sp[system] for sp in per_char]) for system in range(3))


def _han_latin_given_level(han: NameReading, latin: NameReading) -> str:
    chars = split_han(han.han)[1]
    words = _words(latin)
    joined = "".join(words)
    if _latin_fits_han(joined, chars):
        return "exact"
    # ANGELA RUIBIN against 睿斌: the Chinese name is there, beside an English one
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            if (i, j) != (0, len(words)) and _latin_fits_han("".join(words[i:j]), chars):
                return "alias"
    if is_syllables(joined):
        return _syllable_difference(han.given, joined)
    return _jw_level(han.given, joined)


def _latin_given_level(a: NameReading, b: NameReading, chinese: bool) -> str:
    if a.given == b.given:
        return "exact"
    for x, y in ((a, b), (b, a)):
        wx = _words(x)
        if len(wx) > 1 and any(
            "".join(wx[i:j]) == y.given
            for i in range(len(wx))
            for j in range(i + 1, len(wx) + 1)
            if (i, j) != (0, len(wx))
        ):
            return "alias"
    if chinese and is_syllables(a.given) and is_syllables(b.given):
        return _syllable_difference(a.given, b.given)
    return _jw_level(a.given, b.given)


def given_level(a: NameReading, b: NameReading) -> str:
    if a.han and b.han:
        return _han_given_level(split_han(a.han)[1], split_han(b.han)[1])
    if b.han:
        a, b = b, a
    if a.han:
        return _han_latin_given_level(a, b)
    return _latin_given_level(a, b, is_chinese_surname(a) or is_chinese_surname(b))


def compare_names(
    a: tuple[NameReading, ...] | list[NameReading],
    b: tuple[NameReading, ...] | list[NameReading],
    weights: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, str]:
    # names repeat across a hotel's records: the same two readings are compared many times
    return dict(_compare_cached(tuple(a), tuple(b), None if weights is None else _frozen(weights)))


def _frozen(
    weights: Mapping[str, Mapping[str, float]],
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    return tuple(
        (f, tuple(sorted(lv.items()))) for f, lv in sorted(weights.items()) if f in ("surname", "given")
    )


@lru_cache(maxsize=262144)
def _compare_cached(
    a: tuple[NameReading, ...], b: tuple[NameReading, ...], frozen: tuple | None
) -> tuple[tuple[str, str], ...]:
    weights = None if frozen is None else {f: dict(lv) for f, lv in frozen}
    return tuple(_compare(a, b, weights).items())


def _compare(
    a: tuple[NameReading, ...],
    b: tuple[NameReading, ...],
    weights: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, str]:
    """Levels of the best-agreeing whole-name alignment of the two records' readings.

    An alignment keeps each record's surname with its own given name; the other order is tried
    as a whole (surname against given name *and* given name against surname), and only counts
    when the surnames then agree exactly: an executive's given name LI is never compared with
    an assistant's surname LIN to escape the given-name rule."""
    best: tuple[float, dict[str, str]] | None = None
    for ra in a:
        for rb in b:
            if ra.swapped and rb.swapped:
                continue  # both turned round is the straight alignment with the roles exchanged
            out: dict[str, str] = {}
            if ra.surname and rb.surname:
                out["surname"] = surname_level(ra, rb)
            if (ra.given or (ra.han and split_han(ra.han)[1])) and (
                rb.given or (rb.han and split_han(rb.han)[1])
            ):
                out["given"] = given_level(ra, rb)
            elif not (ra.han and rb.han) and ra.surname + ra.given == rb.surname + rb.given:
                # one side wrote the whole name as one word: ZHANGWEI
                out = {"surname": "exact", "given": "exact"}
            if ra.swapped != rb.swapped and out.get("surname") != "exact":
                continue
            total = _value(out, weights)
            if best is None or total > best[0]:
                best = (total, out)
    return best[1] if best else {}


def _value(levels: Mapping[str, str], weights: Mapping[str, Mapping[str, float]] | None) -> float:
    if weights is None:
        return sum(_RANK.get(lv, 0) for lv in levels.values())
    return sum(weights.get(f, {}).get(lv, 0.0) for f, lv in levels.items())
