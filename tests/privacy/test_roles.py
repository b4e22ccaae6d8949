"""Each role sees exactly its fields; marketing never sees an unconsented guest."""

from __future__ import annotations

import pytest

from crmbridge.access.roles import FIELDS, ROLES
from crmbridge.access.service import BadRequest, Denied, NotFound

# the profile keys each field stands for
KEYS = {
    "name": {"name", "latin_name"},
    "contact": {"phones", "emails"},
    "birth_date": {"birth_date"},
    "documents": {"documents"},
    "addresses": {"addresses"},
    "preferences": {"preferences"},
    "notes": {"notes"},
    "stays": {"reservations", "stays"},
    "spend": {"spend"},
    "feedback": {"feedback"},
    "segment": {"segment"},
    "consents": {"consents"},
    "provenance": {"provenance"},
    "history": {"history"},
}


def expected_keys(role_name: str) -> set[str]:
    keys = {"guest_id", "records"}
    for f in ROLES[role_name].fields:
        keys |= KEYS[f]
    return keys


def test_every_field_has_its_keys_listed():
    assert set(KEYS) == set(FIELDS)


@pytest.mark.parametrize("role_name", sorted(ROLES))
def test_each_role_sees_exactly_its_fields(hotel, role_name):
    shown = hotel.as_role(role_name).profile(hotel.guests["zhang"])
    assert set(shown) == expected_keys(role_name)


def test_front_office_sees_names_and_preferences_but_never_documents(hotel):
    shown = hotel.as_role("front_office").profile(hotel.guests["zhang"])
    assert shown["preferences"] == ["DIET:VEGETARIAN"] and "documents" not in shown
    assert "E41234567" not in str(shown) and "张伟" not in str(shown)  # masked by default


def test_marketing_never_sees_documents_or_birth_dates(hotel):
    shown = hotel.as_role("marketing").profile(hotel.guests["zhang"])
    assert "documents" not in shown and "birth_date" not in shown


def test_marketing_cannot_read_or_find_an_unconsented_guest(hotel):
    mk = hotel.as_role("marketing")
    with pytest.raises(NotFound):
        mk.profile(hotel.guests["li"])
    assert mk.search("李娜") == []
    assert {g["guest_id"] for g in mk.listing()} == {hotel.guests["zhang"], hotel.guests["martin"]}


def test_marketing_export_holds_only_consented_guests(hotel):
    rows = hotel.as_role("marketing").marketing_export("marketing", lambda seg: True)
    assert {r["guest_id"] for r in rows} == {hotel.guests["zhang"], hotel.guests["martin"]}
    assert "li.na.privacy@example.com" not in str(rows)


def test_withdrawn_consent_removes_the_guest_from_every_later_export(hotel):
    hotel.as_role("front_office").record_consent(hotel.guests["zhang"], "marketing", False, "n-2026-2")
    rows = hotel.as_role("marketing").marketing_export("marketing", lambda seg: True)
    assert {r["guest_id"] for r in rows} == {hotel.guests["martin"]}


def test_unmasking_needs_the_permission_and_a_reason(hotel):
    with pytest.raises(Denied):
        hotel.as_role("fnb").profile(hotel.guests["zhang"], unmask=True, reason="allergy check")
    with pytest.raises(BadRequest, match="reason"):
        hotel.as_role("front_office").profile(hotel.guests["zhang"], unmask=True, reason="  ")
    shown = hotel.as_role("front_office").profile(
        hotel.guests["zhang"], unmask=True, reason="guest at the desk"
    )
    assert shown["name"] == "张伟" and "+8613800138000" in shown["phones"]


def test_only_the_dpo_exports_or_erases(hotel):
    for name in set(ROLES) - {"dpo"}:
        with pytest.raises(Denied):
            hotel.as_role(name).export_subject(hotel.guests["li"], "request 7")
        with pytest.raises(Denied):
            hotel.as_role(name).erase(hotel.guests["li"], "request 7")


def test_search_finds_a_guest_by_name_in_either_script_phone_email_and_numbers(hotel):
    fo = hotel.as_role("front_office")
    zhang = hotel.guests["zhang"]
    for q in (
        "张伟",
        "Wei Zhang",
        "ZHANG Wei",
        "13800138000",
        "+86 138 0013 8000",
        "zhang.wei.privacy@example.cn",
        "R-5001",
        "CNF-88001",
    ):
        assert [g["guest_id"] for g in fo.search(q)] == [zhang], q
