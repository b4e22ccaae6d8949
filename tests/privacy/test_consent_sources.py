"""Consent carried by a source: OPERA's privacy options become a marketing consent."""

from __future__ import annotations

from crmbridge_opera.mapping import map_profile

from crmbridge.models import GuestProfile, validate_record


def _opera(privacy: dict, modified: str = "2026-11-02T09:00:00Z") -> GuestProfile:
    profile = {
        "profileDetails": {
            "customer": {"personName": [{"givenName": "Min", "surname": "Chen", "nameType": "Primary"}]},
            "emails": {"emailInfo": [{"email": {"emailAddress": "chen.min.opt@example.cn"}}]},
            "privacyInfo": privacy,
            "lastModifyDateTime": modified,
        }
    }
    return validate_record(GuestProfile, map_profile(profile, source="opera", profile_id="P-301"))


def test_an_opera_opt_in_is_a_marketing_consent_with_its_source_and_time():
    [c] = _opera({"optInEmail": True, "optInSms": False}).consents
    assert c.purpose == "marketing" and c.granted and c.notice_version == "opera:privacyInfo"
    assert c.recorded_at.isoformat().startswith("2026-11-02T09:00")


def test_opera_options_all_false_are_a_withdrawal_and_none_say_nothing():
    [c] = _opera({"optInEmail": False, "optInMailingList": False}).consents
    assert not c.granted
    assert _opera({"allowPhone": True}).consents == []


def test_a_guest_who_opted_in_at_opera_is_in_the_marketing_export(hotel):
    with hotel.store.transaction() as w:
        w.upsert_profiles([_opera({"optInEmail": True})])
    rows = hotel.as_role("marketing").marketing_export("marketing", lambda seg: True)
    assert "chen.min.opt@example.cn" in str(rows)
