"""The situations of a Chinese hotel's guest file that once merged different people (issue 11).

One phone or mailbox is often a household's or an assistant's, an OTA's masked or virtual
number fits many people, and one guest's name arrives in pinyin, Cantonese, Wade–Giles,
traditional characters or beside an English name. Every test writes invented guests through
the writer a sync uses, on SQLite and PostgreSQL, and reads back who ended up together.
"""

from __future__ import annotations

from sqlalchemy import select

from crmbridge.identity.merging import open_reviews
from crmbridge.store.schema import guest_merges

from .guests import profile
from .test_resolution import together, write

PARENT = "13900139000"


# -- one phone, several people ------------------------------------------------------------------
def test_siblings_sharing_a_parents_phone_stay_apart(store):
    write(store, profile("opera", "P-1", local_name="王建国", phones=[PARENT], birth_date="1978-02-11"))
    write(
        store,
        profile(
            "opera", "K-1", given_name="Shiting", surname="WANG", phones=[PARENT], birth_date="2010-03-01"
        ),
    )
    # six years younger, one character different: SHITING / SHIPING look "close" to a string metric
    write(
        store,
        profile(
            "opera", "K-2", given_name="Shiping", surname="WANG", phones=[PARENT], birth_date="2016-07-09"
        ),
    )
    assert not together(store, "opera/K-1", "opera/K-2")
    assert not together(store, "opera/P-1", "opera/K-1")


def test_a_childs_bookings_on_the_parents_phone_still_join_each_other(store):
    write(store, profile("opera", "P-1", local_name="王建国", phones=[PARENT], birth_date="1978-02-11"))
    write(store, profile("ctrip", "C-1", local_name="王浩然", phones=[f"+86 {PARENT}"]))
    write(store, profile("opera", "K-1", given_name="Haoran", surname="WANG", phones=[PARENT]))
    assert together(store, "ctrip/C-1", "opera/K-1")
    assert not together(store, "opera/P-1", "opera/K-1")


def test_twins_named_by_one_generation_character_stay_apart(store):
    twins = {"phones": [PARENT], "birth_date": "2012-09-09"}
    write(store, profile("opera", "T-1", given_name="Shiting", surname="LIU", **twins))
    write(store, profile("opera", "T-2", given_name="Shiping", surname="LIU", **twins))
    assert not together(store, "opera/T-1", "opera/T-2")


def test_an_assistants_phone_and_email_never_merge_an_executive_with_the_assistant(store):
    desk = {"phones": ["13611112222"], "emails": ["office@corp.example.cn"]}
    write(store, profile("opera", "A-1", local_name="林章", **desk))
    # booked by the assistant: the executive's given name LI must not meet the assistant's LIN
    write(store, profile("opera", "E-1", given_name="Li", surname="Zhang", **desk))
    assert not together(store, "opera/A-1", "opera/E-1")


def test_an_executives_own_profile_joins_bookings_made_on_the_assistants_phone(store):
    desk = {"phones": ["13611112222"], "emails": ["office@corp.example.cn"]}
    write(store, profile("opera", "A-1", local_name="林章", **desk))
    write(store, profile("opera", "E-1", local_name="赵敏", birth_date="1971-04-04", **desk))
    write(store, profile("opera", "E-2", local_name="孙涛", birth_date="1969-12-12", **desk))
    # the executive's own mobile: the assistant's number on the booking is no disagreement
    write(store, profile("web", "W-1", local_name="赵敏", phones=["13822223333"], birth_date="1971-04-04"))
    assert together(store, "opera/E-1", "web/W-1")
    assert not together(store, "opera/E-1", "opera/E-2")


def test_a_couple_sharing_one_mailbox_stays_two_guests(store):
    home = ["zhou.family@example.cn"]
    write(store, profile("ctrip", "C-1", local_name="周杰", emails=home))
    # 洁 and 杰 read alike (ZHOU JIE) but are two people's characters
    write(store, profile("ctrip", "C-2", local_name="周洁", emails=home))
    assert not together(store, "ctrip/C-1", "ctrip/C-2")


def test_a_shared_mailbox_does_not_merge_two_chinese_surnames_with_one_given_name(store):
    home = ["home2802@example.cn"]
    write(store, profile("opera", "O-1", given_name="Min", surname="YUE", emails=home))
    write(store, profile("web", "W-1", local_name="乐敏", emails=home))
    write(store, profile("web", "W-2", local_name="冯敏", emails=home))
    assert together(store, "opera/O-1", "web/W-1")
    assert not together(store, "web/W-1", "web/W-2")


# -- masked and virtual numbers ------------------------------------------------------------------
def test_a_masked_phone_fitting_the_other_wang_yans_number_does_not_merge_them(store):
    # only the other 王艳 is stored yet, so the mask fits exactly one number: hers
    write(store, profile("opera", "O-2", given_name="Yan", surname="WANG", phones=["19198764763"]))
    write(store, profile("fliggy", "F-1", local_name="王艳", phones=["191****4763"]))
    assert not together(store, "opera/O-2", "fliggy/F-1")
    with store.engine.connect() as c:
        assert [r.evidence["agreements"]["phone"] for r in open_reviews(c)] == ["namesake"]


def test_a_masked_phone_and_the_same_birth_date_join_a_wang_yan(store):
    born = "1991-04-02"
    write(
        store,
        profile("opera", "O-1", given_name="Yan", surname="WANG", phones=["19112344763"], birth_date=born),
    )
    write(store, profile("fliggy", "F-1", local_name="王艳", phones=["191****4763"], birth_date=born))
    assert together(store, "opera/O-1", "fliggy/F-1")


def test_a_masked_phone_fitting_two_stored_numbers_is_no_evidence(store):
    write(store, profile("opera", "O-1", given_name="Yan", surname="WANG", phones=["19112344763"]))
    write(store, profile("opera", "O-2", given_name="Yan", surname="WANG", phones=["19198764763"]))
    write(store, profile("fliggy", "F-1", local_name="王艳", phones=["191****4763"]))
    assert not together(store, "opera/O-1", "fliggy/F-1")
    assert not together(store, "opera/O-2", "fliggy/F-1")
    assert not together(store, "opera/O-1", "opera/O-2")


def test_a_masked_phone_never_bridges_two_guests(store):
    write(store, profile("opera", "O-1", given_name="Yan", surname="WANG", phones=["19112344763"]))
    write(store, profile("web", "W-1", local_name="王艳", emails=["wangyan@example.cn"]))
    # fits the first guest's number and carries the second guest's e-mail
    write(
        store,
        profile("fliggy", "F-1", local_name="王艳", phones=["191****4763"], emails=["wangyan@example.cn"]),
    )
    assert not together(store, "opera/O-1", "web/W-1")


def test_an_ota_virtual_number_shared_by_strangers_is_no_evidence(store):
    privacy = ["17012345678"]
    write(store, profile("ctrip", "C-1", local_name="李军", phones=privacy))
    write(store, profile("ctrip", "C-2", local_name="李军", phones=privacy))
    assert not together(store, "ctrip/C-1", "ctrip/C-2")


def test_virtual_number_ranges_come_from_the_config(db_url, keyring):
    from crmbridge.identity.keys import IdentityPolicy
    from crmbridge.store.guest_store import GuestStore

    policy = IdentityPolicy(virtual_phone_prefixes=("+86147",))
    s = GuestStore.open(db_url, keyring, policy, upgrade=False)
    write(s, profile("ctrip", "C-1", local_name="李军", phones=["14712345678"]))
    write(s, profile("ctrip", "C-2", local_name="李军", phones=["14712345678"]))
    assert not together(s, "ctrip/C-1", "ctrip/C-2")
    s.close()


# -- merge against the whole profile ---------------------------------------------------------------
def test_a_record_does_not_join_a_guest_one_of_whose_records_contradicts_it(store):
    write(store, profile("opera", "O-1", local_name="张伟", phones=["13800138000"], birth_date="1985-03-14"))
    write(
        store,
        profile(
            "web", "W-1", given_name="Wei", surname="Zhang", phones=["13800138000"], emails=["zw@example.cn"]
        ),
    )
    assert together(store, "opera/O-1", "web/W-1")
    # agrees with the web record (e-mail, name) but was born on another day than the PMS record
    write(
        store, profile("loyalty", "L-1", local_name="张伟", emails=["zw@example.cn"], birth_date="1991-10-02")
    )
    assert not together(store, "opera/O-1", "loyalty/L-1")
    with store.engine.connect() as c:
        held = [r.evidence.get("held") for r in open_reviews(c)]
    assert "contradicts the guest's birth_date" in held


# -- names beyond Mandarin pinyin -------------------------------------------------------------------
def test_a_hong_kong_spelling_meets_the_traditional_characters(store):
    write(store, profile("opera", "O-1", given_name="Tin Tat", surname="CHAN", phones=["+852 9123 4567"]))
    write(store, profile("ctrip", "C-1", local_name="陳天達", phones=["+85291234567"]))
    assert together(store, "opera/O-1", "ctrip/C-1")


def test_a_taiwan_wade_giles_passport_meets_its_traditional_characters(store):
    write(
        store, profile("opera", "O-1", given_name="Chih-Ming", surname="CHANG", phones=["+886 912 345 678"])
    )
    write(store, profile("ctrip", "C-1", local_name="張志明", phones=["+886912345678"]))
    assert together(store, "opera/O-1", "ctrip/C-1")


def test_an_english_given_name_beside_the_chinese_one_is_an_alias(store):
    contact = {"phones": ["13512345678"], "emails": ["ruibin.bai@example.cn"]}
    write(store, profile("opera", "O-1", given_name="Angela Ruibin", surname="BAI", **contact))
    write(store, profile("web", "W-1", local_name="白睿斌", **contact))
    assert together(store, "opera/O-1", "web/W-1")


def test_a_one_letter_slip_that_spells_another_syllable_waits_for_a_person(store):
    write(store, profile("ctrip", "C-1", local_name="王诗萍", phones=["13712345678"]))
    write(store, profile("opera", "O-1", given_name="Shiting", surname="WANG", phones=["13712345678"]))
    assert not together(store, "ctrip/C-1", "opera/O-1")
    with store.engine.connect() as c:
        [item] = open_reviews(c)
    assert item.evidence["agreements"]["given"] == "near"


# -- the audit trail --------------------------------------------------------------------------------
def test_the_merge_audit_says_a_household_phone_was_seen(store):
    write(store, profile("opera", "P-1", local_name="王建国", phones=[PARENT], birth_date="1978-02-11"))
    write(store, profile("ctrip", "C-1", local_name="王浩然", phones=[PARENT]))
    write(store, profile("opera", "K-1", given_name="Haoran", surname="WANG", phones=[PARENT]))
    with store.engine.connect() as c:
        [m] = c.execute(select(guest_merges)).all()
    assert m.evidence["household"] == {"phone": 2}
    assert m.evidence["survivor"]["agreements"]["phone"] == "shared"
