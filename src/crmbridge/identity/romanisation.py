"""Every spelling a Han character of a name may arrive in, and whether a Latin name is Chinese.

A guest's 陳天達 reaches the hotel as CHAN TIN TAT (Hong Kong passport, government Cantonese
romanisation), CHEN TIANDA (mainland passport, pinyin), CHEN TIEN-TA (Taiwan, Wade–Giles) or
can4 tin1 daat6 (Jyutping, typed by a Cantonese speaker). Rather than turning a Han name into
one reading per system and multiplying them, each character gets the *set* of its spellings,
and a Latin name agrees with a Han one when it can be cut into pieces, each a spelling of the
character at its place.

Sources: pinyin readings from ``pypinyin``; Hong Kong government spellings and Jyutping from
``cantonese-romanisation`` (tables keyed by traditional characters, so simplified ones are
looked up through OpenCC); Wade–Giles from ``pypinyin``'s Wade–Giles style, with the Taiwan
passport surname spellings below. Traditional to simplified with OpenCC (``t2s``) only: the
reverse direction is one-to-many and turns names into words (范伟 -> 範偉, 于 -> 於).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

# Surname spellings of Taiwan passports (Bureau of Consular Affairs tables, Wade–Giles based)
# and of Hong Kong identity cards (government Cantonese romanisation) for the commonest
# surnames, so the most frequent cases never depend on a table's ranking of candidates.
WADE_GILES_SURNAMES: dict[str, tuple[str, ...]] = {
    "张": ("CHANG",),
    "陈": ("CHEN",),
    "黄": ("HUANG",),
    "吴": ("WU",),
    "林": ("LIN",),
    "郑": ("CHENG",),
    "叶": ("YEH",),
    "许": ("HSU",),
    "蔡": ("TSAI",),
    "曾": ("TSENG",),
    "李": ("LI", "LEE"),
    "王": ("WANG",),
    "刘": ("LIU",),
    "杨": ("YANG",),
    "赵": ("CHAO",),
    "周": ("CHOU",),
    "徐": ("HSU",),
    "孙": ("SUN",),
    "朱": ("CHU",),
    "胡": ("HU",),
    "郭": ("KUO",),
    "何": ("HO",),
    "高": ("KAO",),
    "罗": ("LO",),
    "谢": ("HSIEH",),
    "邱": ("CHIU",),
    "萧": ("HSIAO",),
    "江": ("CHIANG",),
    "邓": ("TENG",),
    "钟": ("CHUNG",),
    "简": ("CHIEN",),
    "庄": ("CHUANG",),
    "彭": ("PENG",),
    "苏": ("SU",),
    "詹": ("CHAN",),
    "游": ("YU",),
    "蒋": ("CHIANG",),
    "廖": ("LIAO",),
    "洪": ("HUNG",),
    "宋": ("SUNG",),
    "冯": ("FENG",),
    "傅": ("FU",),
    "范": ("FAN",),
    "施": ("SHIH",),
    "沈": ("SHEN",),
    "卢": ("LU",),
    "梁": ("LIANG",),
    "温": ("WEN",),
    "魏": ("WEI",),
    "邹": ("TSOU",),
    "姜": ("CHIANG",),
    "金": ("CHIN",),
    "秦": ("CHIN",),
    "丁": ("TING",),
    "崔": ("TSUI",),
    "钱": ("CHIEN",),
    "贾": ("CHIA",),
    "焦": ("CHIAO",),
    "白": ("PAI",),
    "马": ("MA",),
}
HK_SURNAMES: dict[str, tuple[str, ...]] = {
    "陈": ("CHAN",),
    "张": ("CHEUNG",),
    "黄": ("WONG",),
    "王": ("WONG",),
    "李": ("LEE", "LI"),
    "刘": ("LAU",),
    "吴": ("NG",),
    "伍": ("NG",),
    "周": ("CHOW",),
    "郑": ("CHENG",),
    "林": ("LAM",),
    "叶": ("YIP",),
    "许": ("HUI",),
    "蔡": ("CHOI",),
    "曾": ("TSANG",),
    "梁": ("LEUNG",),
    "何": ("HO",),
    "杨": ("YEUNG",),
    "赵": ("CHIU",),
    "罗": ("LAW", "LO"),
    "郭": ("KWOK",),
    "胡": ("WU",),
    "朱": ("CHU",),
    "高": ("KO",),
    "马": ("MA",),
    "孙": ("SUEN",),
    "徐": ("TSUI",),
    "谢": ("TSE",),
    "冯": ("FUNG",),
    "邓": ("TANG",),
    "曹": ("TSO",),
    "彭": ("PANG",),
    "萧": ("SIU",),
    "潘": ("POON",),
    "袁": ("YUEN",),
    "蒋": ("CHEUNG",),
    "余": ("YU", "YUE"),
    "杜": ("TO",),
    "麦": ("MAK",),
    "温": ("WAN",),
    "区": ("AU",),
    "卢": ("LO",),
    "关": ("KWAN",),
    "邝": ("KWONG",),
    "钟": ("CHUNG",),
    "文": ("MAN",),
    "龚": ("KUNG",),
    "江": ("KONG",),
    "侯": ("HAU",),
    "邱": ("YAU",),
    "唐": ("TONG",),
    "韩": ("HON",),
    "姚": ("YIU",),
    "石": ("SHEK",),
    "方": ("FONG",),
    "莫": ("MOK",),
    "雷": ("LUI",),
    "黎": ("LAI",),
    "戴": ("TAI",),
    "沈": ("SHUM",),
    "苏": ("SO",),
    "廖": ("LIU",),
    "严": ("YIM",),
    "魏": ("NGAI",),
    "田": ("TIN",),
    "董": ("TUNG",),
    "宋": ("SUNG",),
    "汤": ("TONG",),
    "白": ("PAK",),
    "司徒": ("SZETO",),
    "欧阳": ("AUYEUNG", "AUYANG"),
}
_DIGITS = re.compile(r"\d")


@lru_cache(maxsize=4)
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


@lru_cache(maxsize=1)
def _cantonese() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    # loaded on first use: six JSON tables, about 1 MB
    import cantoroman

    c = cantoroman.Cantonese()
    return c.charToRoman, c.charToLshk


def fold_syllable(s: str) -> str:
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s.upper().replace("'", "").replace("’", "").replace("-", "").replace(" ", "")


def _u_variants(s: str) -> set[str]:
    # ü is written YU on passports since 2012, U or V elsewhere (LYU, LU, LV)
    if "V" not in s and "Ü" not in s:
        return {s}
    return {s.replace("V", x).replace("Ü", x) for x in ("YU", "U", "V")}


def _mandarin(ch: str) -> set[str]:
    from pypinyin import Style, pinyin

    out: set[str] = set()
    for syl in pinyin(ch, heteronym=True, style=Style.NORMAL, errors="ignore")[0] if ch else []:
        out |= _u_variants(fold_syllable(syl))
    return out


def _wade_giles(mandarin: set[str]) -> set[str]:
    from pypinyin.style.wadegiles import to_wade_glides

    out: set[str] = set()
    for syl in mandarin:
        out |= _u_variants(fold_syllable(to_wade_glides(syl.lower())).replace("HSV", "HSU"))
    return out


def _cantonese_spellings(ch: str) -> set[str]:
    roman, lshk = _cantonese()
    out: set[str] = set()
    forms = {ch, _converter("s2t").convert(ch), _converter("s2hk").convert(ch)}
    for f in forms:
        out |= {fold_syllable(x) for x in roman.get(f, []) if x}
        out |= {fold_syllable(_DIGITS.sub("", x)) for x in lshk.get(f, []) if x}
    return {x for x in out if x}


@lru_cache(maxsize=65536)
def spellings(ch: str) -> frozenset[str]:
    """Every Latin spelling of one (simplified) Han character as a given-name syllable."""
    return frozenset().union(*system_spellings(ch))


@lru_cache(maxsize=65536)
def system_spellings(ch: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """A character's spellings per system: Mandarin pinyin, Wade–Giles, Cantonese (HK
    government and Jyutping). A given name is written in one system throughout, so matching
    cuts it with one system's spellings, never pinyin for one character and Cantonese for the
    next (that would let far more strangers' names agree)."""
    m = _mandarin(ch)
    return frozenset(m), frozenset(_wade_giles(m)), frozenset(_cantonese_spellings(ch))


@lru_cache(maxsize=8192)
def surname_spellings(han: str, mandarin: tuple[str, ...]) -> frozenset[str]:
    """Spellings of a Han surname; ``mandarin`` is its surname reading (单 SHAN, not DAN)."""
    out = set(mandarin) | set(WADE_GILES_SURNAMES.get(han, ())) | set(HK_SURNAMES.get(han, ()))
    for m in mandarin:
        out |= _wade_giles(_u_variants(m))
    if len(han) == 1:
        out |= _cantonese_spellings(han)
    return frozenset(out)


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every syllable of Mandarin (pinyin and Wade–Giles) and Cantonese (HK government, Jyutping)."""
    from pypinyin.pinyin_dict import pinyin_dict

    # a few thousand distinct raw syllables behind 40,000 characters: fold each once
    raw = {syl for readings in pinyin_dict.values() for syl in readings.split(",")}
    mandarin: set[str] = set()
    for syl in raw:
        mandarin |= _u_variants(fold_syllable(syl))
    out = mandarin | _wade_giles({s for s in mandarin if "YU" not in s or s.startswith("YU")})
    roman, lshk = _cantonese()
    out |= {fold_syllable(v) for v in {v for vs in roman.values() for v in vs} if v}
    out |= {fold_syllable(_DIGITS.sub("", v)) for v in {v for vs in lshk.values() for v in vs} if v}
    return frozenset(s for s in out if s.isalpha() and s.isascii())


_MAX_SYLLABLE = 6


@lru_cache(maxsize=65536)
def is_syllables(text: str) -> bool:
    """Whether ``text`` can be cut into Chinese syllables (WEIMING yes; MARGARET, XIAOMNIG no)."""
    if not text:
        return False
    known = syllables()
    ok = [True] + [False] * len(text)
    for i in range(1, len(text) + 1):
        ok[i] = any(ok[j] and text[j:i] in known for j in range(max(0, i - _MAX_SYLLABLE), i))
    return ok[-1]


def fits(text: str, per_place: Sequence[frozenset[str]]) -> bool:
    """Whether ``text`` cuts into len(per_place) pieces, piece i one of per_place[i]'s spellings."""
    if not per_place:
        return not text
    first, rest = per_place[0], per_place[1:]
    if not rest:
        return text in first
    return any(
        text[:k] in first and fits(text[k:], rest) for k in range(1, min(len(text), _MAX_SYLLABLE + 3))
    )


@lru_cache(maxsize=1)
def _chinese_surname_spellings() -> dict[str, frozenset[str]]:
    """Latin spelling -> the common Han surnames it can stand for (CHAN: 陈, 詹, 曾 …)."""
    out: dict[str, set[str]] = {}
    for han in set(WADE_GILES_SURNAMES) | set(HK_SURNAMES) | set(COMMON_SURNAMES):
        mandarin = tuple(sorted(_mandarin(han))) if len(han) == 1 else ()
        for s in surname_spellings(han, mandarin):
            out.setdefault(s, set()).add(han)
    return {k: frozenset(v) for k, v in out.items()}


def surname_chars(latin: str) -> frozenset[str]:
    """The common Han surnames a Latin surname may be a spelling of (empty: not a Chinese one)."""
    return _chinese_surname_spellings().get(latin, frozenset())


# The hundred-odd commonest surnames of the Ministry of Public Security's counts (they cover
# about 85% of people): a Latin surname spelling one of them marks a Chinese name.
COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤单解乐朴仇区查盖常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝"
    "包宁尚符舒阮柯纪梅童凌毕麦关邝"
)
