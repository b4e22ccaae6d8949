"""Names into comparable Latin forms: Han characters to pinyin, Latin names folded.

Sources disagree on script (Ctrip sends 张伟, OPERA ZHANG WEI, a restaurant "Wei Zhang") and on
order, so a name becomes a small set of (surname, given) *readings*, each in upper-case ASCII
pinyin-style spelling; matching compares readings, never raw strings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Surnames pypinyin reads by their common (non-surname) reading; passports use these.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "单": ("SHAN",),
    "曾": ("ZENG",),
    "解": ("XIE",),
    "乐": ("YUE", "LE"),  # both are real surnames written 乐
    "朴": ("PIAO",),
    "仇": ("QIU",),
    "区": ("OU",),
    "查": ("ZHA",),
    "盖": ("GE",),
    "缪": ("MIAO",),
    "覃": ("QIN",),
    "种": ("CHONG",),
    "秘": ("BI",),
    "召": ("SHAO",),
    "翟": ("ZHAI",),
    "祭": ("ZHAI",),
    "繁": ("PO",),
    "折": ("SHE",),
    "员": ("YUN",),
    "尉": ("YU",),
    "万": ("WAN",),
    "长": ("CHANG",),
    "重": ("CHONG",),
    "宓": ("MI",),
    "黑": ("HE",),
    "牟": ("MOU",),
    "沈": ("SHEN",),
    "柏": ("BAI",),
    "薄": ("BO",),
    # Passports since 2012 write ü as YU (LYU); older documents and OTAs write LU or LV.
    "吕": ("LYU", "LU"),
    "女": ("NYU", "NU"),
}

# Two-character surnames: the split point of a Han name cannot be guessed from pinyin.
COMPOUND_SURNAMES: dict[str, tuple[str, ...]] = {
    "欧阳": ("OUYANG",),
    "司马": ("SIMA",),
    "诸葛": ("ZHUGE",),
    "上官": ("SHANGGUAN",),
    "司徒": ("SITU",),
    "东方": ("DONGFANG",),
    "皇甫": ("HUANGFU",),
    "尉迟": ("YUCHI",),
    "万俟": ("MOQI",),
    "慕容": ("MURONG",),
    "令狐": ("LINGHU",),
    "夏侯": ("XIAHOU",),
    "公孙": ("GONGSUN",),
    "长孙": ("ZHANGSUN",),
    "宇文": ("YUWEN",),
    "轩辕": ("XUANYUAN",),
    "端木": ("DUANMU",),
    "独孤": ("DUGU",),
    "南宫": ("NANGONG",),
    "西门": ("XIMEN",),
    "申屠": ("SHENTU",),
    "公冶": ("GONGYE",),
    "澹台": ("TANTAI",),
    "太史": ("TAISHI",),
    "呼延": ("HUYAN",),
    "闻人": ("WENREN",),
}

# Spellings of ü that mean the same syllable: LV and LU: (typed for lü) are LYU on a passport.
_U_UMLAUT = (("LV", "LYU"), ("NV", "NYU"), ("LUE", "LYUE"), ("NUE", "NYUE"))
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPLIT = re.compile(r"[\s,./_·•・]+")


def is_han(text: str) -> bool:
    return bool(_HAN.search(text))


def fold(text: str) -> str:
    """Full-width to ASCII (NFKC), accents off (Müller, LÜ -> MULLER, LU), upper case,
    punctuation dropped."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = t.upper().replace("'", "").replace("’", "").replace("-", "")
    return " ".join(p for p in _SPLIT.split(t) if p)


def _canonical_token(tok: str) -> str:
    for old, new in _U_UMLAUT:
        if tok == old:
            return new
    return tok


def _pinyin(han: str) -> str:
    # imported on first use: loading its dictionaries takes about a second, which every CLI
    # command would otherwise pay
    from pypinyin import lazy_pinyin

    return "".join(s.upper() for s in lazy_pinyin(han, v_to_u=False)).replace("V", "YU")


def clean_han(name: str) -> str:
    """A Han name in simplified characters, spaces and the middle dot dropped (陳天達 -> 陈天达)."""
    from .romanisation import to_simplified

    return to_simplified(re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).replace("·", ""))


def split_han(name: str) -> tuple[str, str]:
    """(surname, given) characters of a cleaned Han name."""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def han_surname_readings(surname: str) -> tuple[str, ...]:
    if surname in COMPOUND_SURNAMES:
        return COMPOUND_SURNAMES[surname]
    return SURNAME_READINGS.get(surname, (_pinyin(surname),)) if surname else ()


def han_readings(name: str) -> list[tuple[str, str]]:
    """(surname, given) readings of a Han name: surname table first, then pypinyin."""
    name = clean_han(name)
    if not name:
        return []
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        surnames, rest = COMPOUND_SURNAMES[name[:2]], name[2:]
    elif len(name) == 1:
        return [(SURNAME_READINGS.get(name, (_pinyin(name),))[0], "")]
    else:
        first, rest = name[0], name[1:]
        surnames = SURNAME_READINGS.get(first, (_pinyin(first),))
    given = _pinyin(rest)
    return [(s, given) for s in surnames]


@dataclass(frozen=True)
class NameReading:
    surname: str
    given: str  # given-name syllables joined: XIONGXIN, not XIONG XIN
    han: str = ""  # the Han form (simplified) when the reading came from one
    parts: str = ""  # the given name's words as written, space-separated: "ANGELA RUIBIN"
    swapped: bool = False  # the record's surname/given fields read the other way round


def _latin_readings(given: str | None, surname: str | None) -> list[tuple[str, str, str, bool]]:
    """(surname, given joined, given words) readings; the second of two is the other order."""
    g = fold_words(given or "")
    s = fold_words(surname or "")
    if s and not g and " " in s:
        # one field holding a whole name ("ZHANG WEI", "WEI ZHANG"): try both splits
        first, _, rest = s.partition(" ")
        last_rest, _, last = s.rpartition(" ")
        return [
            (first, rest.replace(" ", ""), rest, False),
            (last, last_rest.replace(" ", ""), last_rest, True),
        ]
    if g and not s and " " in g:
        first, _, rest = g.partition(" ")
        last_rest, _, last = g.rpartition(" ")
        return [
            (last, last_rest.replace(" ", ""), last_rest, False),
            (first, rest.replace(" ", ""), rest, True),
        ]
    s = "".join(_canonical_token(t) for t in s.split())
    words = " ".join(_canonical_token(t) for t in g.split())
    return [(s, words.replace(" ", ""), words, False)] if (s or words) else []


def fold_words(text: str) -> str:
    """``fold``, but a hyphen separates words (Wai-Ming, Chih-Ming are two syllables)."""
    return fold(text.replace("-", " ").replace("‐", " "))


# Names repeat a great deal in a hotel's guest file; a few hundred thousand readings fit in tens of MB.
@lru_cache(maxsize=262144)
def name_readings(given: str | None, surname: str | None, local: str | None) -> tuple[NameReading, ...]:
    """Every plausible (surname, given) reading of a record's name fields.

    Order matters: the first reading is the record's own order; swapped order is added as an
    alternative because OTAs and PMSs disagree on which field is the surname."""
    out: list[NameReading] = []
    for field_ in (local, surname, given):
        if field_ and is_han(field_):
            han = clean_han(field_)
            out += [NameReading(s, g, han) for s, g in han_readings(field_)]
            break
    latin: list[tuple[str, str, str, bool]] = []
    if local and not is_han(local):
        latin += _latin_readings(None, local)
    if not (given and is_han(given)) and not (surname and is_han(surname)):
        latin += _latin_readings(given, surname)
    # a whole name in one field has two splits; the second is the other order
    out += [NameReading(s, g, "", words, swapped) for s, g, words, swapped in latin]
    # Swapped order is one whole-name alternative: surname and given name change places
    # together, never one side's surname against the other's given name alone.
    swapped = [
        NameReading(r.given, r.surname, "", r.surname, swapped=not r.swapped)
        for r in out
        if r.given and r.surname and not r.han and " " not in r.parts
    ]
    seen: dict[tuple[str, str], NameReading] = {}
    for r in out + swapped:
        seen.setdefault((r.surname, r.given), r)
    return tuple(seen.values())


def name_keys(readings: tuple[NameReading, ...]) -> set[str]:
    """Order-insensitive keys for blocking: tokens concatenated in both orders.

    ``ZHANGWEI`` written as one word must meet (ZHANG, WEI), so both concatenations are keys."""
    keys: set[str] = set()
    for r in readings:
        if r.surname and r.given:
            keys.add(r.surname + r.given)
            keys.add(r.given + r.surname)
        elif r.surname or r.given:
            keys.add(r.surname or r.given)
    return keys


def surnames(readings: tuple[NameReading, ...]) -> set[str]:
    return {r.surname for r in readings if r.surname}
