"""Name normalisation: Han characters, pinyin and Latin spellings meet in one comparable form."""

from __future__ import annotations

import pytest

from crmbridge.identity.names import fold, han_readings, name_keys, name_readings


def _pairs(given=None, surname=None, local=None) -> set[tuple[str, str]]:
    return {(r.surname, r.given) for r in name_readings(given, surname, local)}


def test_han_name_becomes_surname_and_joined_given_name_in_pinyin():
    assert han_readings("张伟") == [("ZHANG", "WEI")]
    assert han_readings("王小明") == [("WANG", "XIAOMING")]


@pytest.mark.parametrize(
    ("han", "surname"),
    [
        ("单雄信", "SHAN"),
        ("曾国藩", "ZENG"),
        ("解缙", "XIE"),
        ("乐嘉", "YUE"),
        ("朴树", "PIAO"),
        ("仇英", "QIU"),
    ],
)
def test_heteronym_surnames_take_their_surname_reading(han, surname):
    # pypinyin alone reads 单 DAN, 曾 CENG, 解 JIE, 乐 LE, 朴 PU, 仇 CHOU
    assert han_readings(han)[0][0] == surname


def test_the_same_character_keeps_its_common_reading_in_the_given_name():
    assert han_readings("张单")[0] == ("ZHANG", "DAN")


@pytest.mark.parametrize(
    ("han", "surname", "given"), [("欧阳娜娜", "OUYANG", "NANA"), ("司马光", "SIMA", "GUANG")]
)
def test_compound_surnames_are_split_as_one_surname(han, surname, given):
    assert han_readings(han) == [(surname, given)]


def test_lyu_has_passport_and_older_spellings_as_alternatives():
    assert _pairs(local="吕布") == {("LYU", "BU"), ("LU", "BU")}
    # LV (typed for lü) is the same syllable as the passport's LYU
    assert ("LYU", "BU") in _pairs(given="Bu", surname="LV")
    assert ("LYU", "BU") in _pairs(given="Bu", surname="LYU")


def test_latin_names_are_case_and_accent_folded():
    assert fold("José  Müller-Lüdenscheidt") == "JOSE MULLERLUDENSCHEIDT"
    assert ("ZHANG", "WEI") in _pairs(given="wei", surname="zhang")


def test_full_width_latin_characters_are_folded_to_ascii():
    assert _pairs(given="Ｗｅｉ", surname="ＺＨＡＮＧ") == _pairs(given="Wei", surname="Zhang")


def test_full_width_spaces_inside_a_han_name_are_ignored():
    assert han_readings("张　伟") == [("ZHANG", "WEI")]


def test_swapped_order_is_an_alternative_reading():
    # an OTA put the surname in the given-name field
    assert ("ZHANG", "WEI") in _pairs(given="Zhang", surname="Wei")


def test_a_whole_name_in_one_field_is_read_both_ways():
    assert ("ZHANG", "WEI") in _pairs(surname="ZHANG, Wei")
    assert ("ZHANG", "WEI") in _pairs(surname="Wei Zhang")


def test_han_wei_zhang_and_pinyin_zhang_wei_share_a_name_key():
    keys = name_keys(name_readings(None, None, "张伟"))
    assert keys & name_keys(name_readings("Wei", "Zhang", None))
    assert keys & name_keys(name_readings(None, "ZHANGWEI", None))  # written as one word
    assert keys & name_keys(name_readings("ZHANG", "WEI", None))  # swapped fields


def test_a_han_surname_alone_is_a_surname_reading():
    assert _pairs(local="单") == {("SHAN", "")}


def test_traditional_characters_are_read_as_simplified():
    # 單 is the traditional form of the surname 单 (SHAN), not the word "single" (DAN)
    assert han_readings("單雄信") == [("SHAN", "XIONGXIN")]
    assert _pairs(local="陳天達") == {("CHEN", "TIANDA")}
