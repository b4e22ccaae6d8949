"""Fellegi–Sunter scoring: agreement levels, weights, and the merge / review / apart decision."""

from __future__ import annotations

import random

import pytest

from crmbridge.identity.em import estimate_weights
from crmbridge.identity.evidence import EvidenceContext
from crmbridge.identity.scoring import Decision, Scorer, compare

from .guests import features

scorer = Scorer()


def test_pinyin_and_han_forms_of_one_guest_with_one_phone_merge():
    a = features(given_name="WEI", surname="ZHANG", phones=["13800138000"])
    b = features(local_name="张伟", phones=["+86 138 0013 8000"])
    c = scorer.compare(a, b)
    assert c.agreements == {"surname": "exact", "given": "exact", "phone": "exact"}
    assert c.decision is Decision.MERGE


def test_two_men_named_zhang_wei_with_other_phones_and_birth_dates_stay_apart():
    a = features(local_name="张伟", phones=["13800138000"], birth_date="1985-03-14")
    b = features(given_name="Wei", surname="Zhang", phones=["13912345678"], birth_date="1990-07-01")
    assert scorer.compare(a, b).decision is Decision.APART


def test_a_common_name_alone_never_merges():
    a = features(local_name="张伟")
    b = features(given_name="Wei", surname="Zhang", emails=["z***@trip.com"])
    c = scorer.compare(a, b)
    assert c.agreements == {"surname": "exact", "given": "exact"}
    assert c.decision is Decision.APART


def test_high_score_without_a_corroborating_identifier_goes_to_review_not_merge():
    # name, street, postcode and city all agree: strong, but nothing that identifies a person
    addr = {"lines": ["88 Century Avenue"], "city": "Shanghai", "postal_code": "200120"}
    a = features(local_name="张伟", addresses=[addr])
    b = features(given_name="Wei", surname="Zhang", addresses=[addr])
    c = scorer.compare(a, b)
    assert c.score >= scorer.thresholds.upper
    assert c.decision is Decision.REVIEW


def test_twins_sharing_a_phone_and_birth_date_with_other_given_names_stay_apart():
    a = features(local_name="李明", phones=["13800138000"], birth_date="2001-05-05")
    b = features(local_name="李亮", phones=["13800138000"], birth_date="2001-05-05")
    c = scorer.compare(a, b)
    assert c.agreements["given"] == "distinct"
    assert c.decision is Decision.APART


def test_siblings_sharing_a_phone_with_different_birth_dates_stay_apart():
    a = features(local_name="李明", phones=["13800138000"], birth_date="2001-05-05")
    b = features(local_name="李亮", phones=["13800138000"], birth_date="1998-11-20")
    assert scorer.compare(a, b).decision is Decision.APART


def test_masked_ota_phone_consistent_with_the_full_number_corroborates_the_name():
    a = features(local_name="张子涵", phones=["138****8000"])
    b = features(given_name="ZIHAN", surname="ZHANG", phones=["13800138000"])
    c = scorer.compare(a, b)
    assert c.agreements["phone"] == "masked"
    assert c.decision is Decision.MERGE


def test_a_masked_phone_between_two_records_of_a_common_name_only_asks_for_review():
    a = features(local_name="王艳", phones=["191****4763"])
    b = features(given_name="YAN", surname="WANG", phones=["19198764763"])
    c = scorer.compare(a, b)
    assert c.agreements["phone"] == "namesake"
    assert c.decision is Decision.REVIEW


def test_a_masked_phone_and_the_birth_date_of_a_common_name_merge():
    a = features(local_name="王艳", phones=["191****4763"], birth_date="1991-04-02")
    b = features(given_name="YAN", surname="WANG", phones=["19198764763"], birth_date="1991-04-02")
    assert scorer.compare(a, b).decision is Decision.MERGE


def test_masked_phone_that_cannot_hide_the_number_is_a_disagreement():
    a = features(local_name="张伟", phones=["139****8000"])
    b = features(given_name="WEI", surname="ZHANG", phones=["13800138000"])
    assert compare(a, b)["phone"] == "differ"


def test_same_common_name_and_birth_date_with_different_phones_waits_for_a_person():
    a = features(local_name="李伟", phones=["13999115231"], birth_date="1989-08-28")
    b = features(given_name="Wei", surname="LI", phones=["18628148033"], birth_date="1989-08-28")
    assert scorer.compare(a, b).decision is Decision.REVIEW


def test_heteronym_surname_in_han_meets_its_passport_spelling():
    a = features(local_name="单雄信", birth_date="1979-02-02")
    b = features(given_name="XIONGXIN", surname="SHAN", birth_date="1979-02-02")
    assert compare(a, b)["surname"] == "exact"
    assert scorer.compare(a, b).decision is Decision.MERGE


def test_lyu_written_lv_on_one_side_and_han_on_the_other_agrees():
    a = features(local_name="吕布", phones=["13700137000"])
    b = features(given_name="Bu", surname="LV", phones=["13700137000"])
    assert compare(a, b)["surname"] == "exact"


def test_a_typo_in_the_given_name_is_a_close_agreement():
    a = features(given_name="XIAOMING", surname="WANG", phones=["13800138000"])
    b = features(given_name="XIAOMNIG", surname="WANG", phones=["13800138000"])
    c = scorer.compare(a, b)
    assert c.agreements["given"] == "close" and c.decision is Decision.MERGE


def test_day_and_month_swapped_is_a_close_birth_date():
    a = features(local_name="王芳", birth_date="1988-04-07")
    b = features(local_name="王芳", birth_date="1988-07-04")
    assert compare(a, b)["birth_date"] == "close"


def test_the_evidence_names_levels_and_score_never_values():
    a = features(local_name="张伟", phones=["13800138000"])
    b = features(given_name="WEI", surname="ZHANG", phones=["13800138000"])
    ev = scorer.compare(a, b).evidence()
    assert set(ev) == {"agreements", "score"}
    assert "138" not in str(ev) and "ZHANG" not in str(ev)


def test_em_learns_that_phone_agreement_marks_a_match_from_unlabelled_pairs():
    rng = random.Random(7)
    pairs = []
    for _ in range(300):  # true pairs: phone and name mostly agree
        pairs.append({"phone": "exact" if rng.random() < 0.95 else "differ", "surname": "exact"})
    for _ in range(3000):  # other pairs: phone almost never agrees, surname sometimes
        pairs.append(
            {
                "phone": "exact" if rng.random() < 0.001 else "differ",
                "surname": rng.choice(["exact", "differ"]),
            }
        )
    w = estimate_weights(pairs, iterations=100)
    assert w["phone"]["exact"] > 6 > w["phone"]["differ"]
    assert w["surname"]["exact"] > w["surname"]["differ"]


def test_a_different_generation_partner_character_is_another_person():
    a = features(local_name="李浩然", phones=["13800138000"])
    b = features(given_name="Haoting", surname="LI", phones=["13800138000"])
    c = scorer.compare(a, b)
    assert c.agreements["given"] == "distinct" and c.decision is Decision.APART


def test_name_order_is_tried_only_as_a_whole_name():
    # (ZHANG, LI) turned round is (LI, ZHANG): its surname LI is not the assistant's LIN
    a = features(given_name="Li", surname="Zhang")
    b = features(local_name="林章")
    assert compare(a, b)["given"] == "distinct"


@pytest.mark.parametrize(
    ("han", "latin"),
    [
        ("张", "CHEUNG"),
        ("陈", "CHAN"),
        ("黄", "WONG"),
        ("李", "LEE"),
        ("刘", "LAU"),
        ("吴", "NG"),
        ("周", "CHOW"),
        ("郑", "CHENG"),
    ],
)
def test_hong_kong_surname_spellings_meet_their_characters(han, latin):
    a = features(local_name=han + "家明")
    b = features(given_name="Ka Ming", surname=latin)
    assert compare(a, b)["surname"] == "exact"


def test_jyutping_spelling_meets_the_characters():
    a = features(local_name="陳天達")
    b = features(given_name="Tin Daat", surname="CAN")
    assert compare(a, b) == {"surname": "exact", "given": "exact"}


def test_a_household_phone_corroborates_only_beside_the_exact_full_name():
    ctx = EvidenceContext({"+8613900139000": 3})
    a = features(local_name="王浩然", phones=["13900139000"])
    same = features(given_name="Haoran", surname="WANG", phones=["13900139000"])
    typo = features(given_name="Haoarn", surname="WANG", phones=["13900139000"])
    assert scorer.compare(a, same, ctx).decision is Decision.MERGE
    assert scorer.compare(a, typo, ctx).agreements["phone"] == "shared"
    assert scorer.compare(a, typo, ctx).decision is not Decision.MERGE


def test_a_masked_phone_that_two_candidate_numbers_fit_is_ambiguous():
    ctx = EvidenceContext(numbers=frozenset({"+8619112344763", "+8619198764763"}))
    a = features(local_name="王艳", phones=["191****4763"])
    b = features(given_name="Yan", surname="WANG", phones=["19112344763"])
    assert compare(a, b, ctx)["phone"] == "ambiguous"
    assert scorer.compare(a, b, ctx).decision is Decision.APART
