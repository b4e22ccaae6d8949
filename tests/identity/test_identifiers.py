"""Contact and document normalisers: what counts as identity evidence and what never does."""

from __future__ import annotations

import pytest

from crmbridge.identity.identifiers import (
    document_key,
    masked_phone,
    normalise_email,
    phone_consistent,
    resident_id,
    resident_id_birth_date,
)
from crmbridge.models import GuestProfile, normalise_phone


def test_email_is_lower_cased():
    assert normalise_email("Zhang.Wei@Example.CN") == "zhang.wei@example.cn"


def test_sub_address_reaches_the_same_mailbox():
    assert normalise_email("zhang.wei+hotel@example.cn") == "zhang.wei@example.cn"


def test_gmail_ignores_dots_and_googlemail_is_gmail():
    assert normalise_email("Zhang.Wei@googlemail.com") == "zhangwei@gmail.com"


def test_foxmail_is_the_same_mailbox_as_qq():
    assert normalise_email("12345678@foxmail.com") == "12345678@qq.com"


@pytest.mark.parametrize(
    "address",
    ["1381234****@ctrip-relay.com", "z***@trip.com", "abc123@guest.booking.com", "x9f2@relay.fliggy.com"],
)
def test_ota_relay_and_masked_addresses_are_never_evidence(address):
    assert normalise_email(address) is None


def test_extra_relay_domains_come_from_the_config():
    assert normalise_email("q1@mail.partner-ota.cn") == "q1@mail.partner-ota.cn"
    assert normalise_email("q1@mail.partner-ota.cn", ("partner-ota.cn",)) is None


@pytest.mark.parametrize("raw", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "86 13800138000"])
def test_phones_in_several_formats_become_one_e164_number(raw):
    assert normalise_phone(raw) == "+8613800138000"


def test_masked_phone_keeps_its_visible_digits_with_the_country_code():
    assert masked_phone("138****8000") == "+86138****8000"
    assert masked_phone("+86 138 **** 8000") == "+86138****8000"


def test_masked_phone_is_consistent_only_with_numbers_it_could_hide():
    assert phone_consistent("+86138****8000", "+8613812348000")
    assert not phone_consistent("+86138****8000", "+8613912348000")
    assert not phone_consistent("+86138****8000", "+8613812348001")


def test_a_profile_accepts_a_masked_phone_as_an_ota_sends_it():
    p = GuestProfile(source="fliggy", source_id="F-1", phones=[{"number": "138****8000"}])
    assert p.phones[0].number == "+86138****8000" and p.phones[0].masked


def test_valid_resident_id_passes_its_checksum():
    assert resident_id("110101198503140018") == "110101198503140018"
    assert resident_id_birth_date("110101198503140018").isoformat() == "1985-03-14"


def test_resident_id_with_a_wrong_check_digit_is_rejected():
    assert resident_id("110101198503140017") is None
    assert resident_id("11010119850314001X") is None


def test_resident_id_with_an_impossible_birth_date_is_rejected():
    # checksum fixed up for 1985-02-30
    body = "11010119850230001"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    assert resident_id(body + check) is None


def test_resident_id_lower_case_x_and_full_width_digits_are_normalised():
    assert resident_id("１１０１０１１９８５０３１４００１８") == "110101198503140018"
    # a valid ID ending in X (checksum 10)
    assert resident_id("11010519491231002x") == "11010519491231002X"


def test_passport_number_counts_only_with_its_issuing_country():
    assert document_key("PASSPORT", "e1234 5678", "cn") == "PASSPORT:CN:E12345678"
    assert document_key("PASSPORT", "E12345678", None) is None


def test_resident_id_document_key_requires_a_valid_checksum():
    assert document_key("ID_CARD", "110101198503140018", None) == "CN_ID:CN:110101198503140018"
    assert document_key("ID_CARD", "110101198503140017", None) is None
