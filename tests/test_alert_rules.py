"""Each built-in alert rule: when it fires, and when it must not. Invented guests only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from crmbridge.insights.builtin_rules import (
    Celebration,
    Complaint,
    Dietary,
    LongStay,
    Returning,
    RoomPreferences,
    Vip,
    WinBack,
)
from crmbridge.insights.facts import FeedbackFact, GuestFacts, Visit
from crmbridge.insights.rules import Finding, RuleInput, scrub
from crmbridge.insights.segments import SegmentsConfig, segment
from crmbridge.plugins import load_plugins
from crmbridge.store.reader import ProfileRecord

TODAY = date(2026, 11, 23)


def visit(arrival: date, nights: int = 2, sid: str = "R-1", **kw: Any) -> Visit:
    base: dict[str, Any] = {
        "source": "opera_pms", "source_id": sid, "hotel_code": "SHA01", "status": "checked_out",
        "arrival": arrival, "departure": arrival + timedelta(days=nights),
        "total": Decimal("1288.00"), "currency": "CNY",
    }  # fmt: skip
    base.update(kw)
    return Visit(**base)


def guest(
    *, prefs: list[dict[str, Any]] = (), birth: str | None = None, tiers: list[str] = (), **kw: Any
) -> GuestFacts:
    values: dict[str, Any] = {
        "local_name": "王芳",
        "attributes": {
            "preferences": list(prefs),
            "memberships": [{"program": "Bonvoy", "tier": t} for t in tiers],
        },
    }
    if birth:
        values["birth_date"] = birth
    rec = ProfileRecord("rec-1", "opera_pms", "P-1", datetime(2026, 1, 1, tzinfo=UTC), values)
    return GuestFacts("g-1", records=[rec], **kw)


def run(rule: Any, arrival: Visit, g: GuestFacts, lang: str = "en", **settings: Any) -> Finding | None:
    g.segment = segment(g, TODAY, SegmentsConfig())
    return rule.evaluate(RuleInput(arrival, g, TODAY, lang), rule.settings_model(**settings))


ARRIVAL = visit(date(2026, 11, 25), nights=3, sid="R-NEXT", status="confirmed")


# -- dietary ---------------------------------------------------------------------------------
def test_dietary_vegetarian_preference_is_told_in_chinese():
    f = run(Dietary(), ARRIVAL, guest(prefs=[{"category": "DIET", "code": "VEGETARIAN"}]), "zh")
    assert f is not None and f.text == "餐饮：素食"
    assert f.evidence == ["preference DIET:VEGETARIAN from opera_pms"]


def test_dietary_allergy_in_a_special_request_is_worded_minimally():
    arrival = visit(
        date(2026, 11, 25), sid="R-NEXT", status="confirmed", special_requests=("花生过敏，谢谢",)
    )
    f = run(Dietary(), arrival, guest())
    assert f is not None and f.text == "Dining: allergy: peanuts (confirm with guest)"


def test_dietary_ignores_a_weak_pos_inference():
    weak = {"category": "DIET", "code": "VEGETARIAN", "confidence": 0.4}
    assert run(Dietary(), ARRIVAL, guest(prefs=[weak])) is None


def test_dietary_stays_silent_without_any_dietary_signal():
    assert run(Dietary(), ARRIVAL, guest(prefs=[{"category": "PILLOW", "code": "BUCKWHEAT"}])) is None


# -- room preferences ------------------------------------------------------------------------
def test_room_preferences_list_pillow_and_floor():
    g = guest(
        prefs=[{"category": "PILLOW", "code": "BUCKWHEAT"}, {"category": "FLOOR", "code": "HIGH_FLOOR"}]
    )
    f = run(RoomPreferences(), ARRIVAL, g, "zh")
    assert f is not None and f.text == "客房偏好：荞麦枕、高楼层"


def test_room_preferences_do_not_fire_on_dietary_items():
    assert run(RoomPreferences(), ARRIVAL, guest(prefs=[{"category": "DIET", "code": "HALAL"}])) is None


# -- complaint ---------------------------------------------------------------------------------
def fb(days_ago: int, rating: int | None, category: str | None = None) -> FeedbackFact:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC) - timedelta(days=days_ago)
    return FeedbackFact("survey", f"FB-{days_ago}", rating, category, at, "opera_pms", "R-OLD")


def test_complaint_low_rating_in_the_window_fires():
    f = run(Complaint(), ARRIVAL, guest(feedback=[fb(60, 1, "noise")]))
    assert f is not None and f.text.startswith("Recent complaint/low rating (2026-09, noise)")


def test_complaint_older_than_the_window_does_not_fire():
    assert run(Complaint(), ARRIVAL, guest(feedback=[fb(400, 1, "complaint")]), window_days=365) is None


def test_praise_does_not_fire_the_complaint_rule():
    assert run(Complaint(), ARRIVAL, guest(feedback=[fb(30, 5, "praise")])) is None


# -- celebration -------------------------------------------------------------------------------
def test_birthday_during_the_stay_fires_without_the_year():
    f = run(Celebration(), ARRIVAL, guest(birth="1990-11-26"), "zh")
    assert f is not None and f.text == "生日：11月26日（住店期间）" and "1990" not in f.text


def test_birthday_one_day_after_departure_does_not_fire():
    assert run(Celebration(), ARRIVAL, guest(birth="1990-11-29")) is None  # departs 11-28


def test_birthday_over_new_year_is_found_in_the_next_year():
    arrival = visit(date(2026, 12, 30), nights=4, status="confirmed")
    f = run(Celebration(), arrival, guest(birth="1988-01-02"))
    assert f is not None and f.text == "Birthday on 2 Jan, during the stay"


def test_anniversary_preference_fires():
    g = guest(prefs=[{"category": "ANNIVERSARY", "code": "WEDDING", "value": "2015-11-27"}])
    f = run(Celebration(), ARRIVAL, g)
    assert f is not None and f.text == "Anniversary on 27 Nov, during the stay"


# -- VIP and value -----------------------------------------------------------------------------
def test_gold_member_is_vip():
    f = run(Vip(), ARRIVAL, guest(tiers=["MEMBER", "GOLD"]))
    assert f is not None and f.text == "VIP: Gold member"


def test_plain_member_with_one_stay_is_not_vip():
    assert run(Vip(), ARRIVAL, guest(tiers=["MEMBER"], visits=[visit(date(2026, 5, 1))])) is None


def test_frequent_high_spender_is_high_value():
    stays = [visit(date(2026, m, 3), sid=f"R-{m}", total=Decimal("4200.00")) for m in range(1, 11)]
    f = run(Vip(), ARRIVAL, guest(visits=stays))
    assert f is not None and "high-value guest" in f.text


# -- returning / first stay --------------------------------------------------------------------
def test_returning_guest_gets_the_stay_count():
    stays = [visit(date(2026, m, 10), sid=f"R-{m}") for m in (2, 5, 8)]
    f = run(Returning(), ARRIVAL, guest(visits=stays))
    assert f is not None and f.text == "Returning guest: stay no. 4 (last 2026-08)"


def test_ota_order_and_pms_reservation_of_one_stay_count_once():
    pms = visit(date(2026, 8, 10), sid="R-8")
    ota = visit(date(2026, 8, 10), sid="CT-1001", source="ctrip")
    f = run(Returning(), ARRIVAL, guest(visits=[pms, ota]), "zh")
    assert f is not None and f.text == "第2次入住（上次 2026-08）"


def test_cancelled_reservations_are_not_stays():
    f = run(Returning(), ARRIVAL, guest(visits=[visit(date(2026, 8, 10), status="cancelled")]))
    assert f is not None and f.text == "First stay"


# -- win-back ----------------------------------------------------------------------------------
def test_regular_guest_back_after_a_long_gap_is_a_win_back():
    stays = [visit(date(2024, m, 1), sid=f"R-{m}") for m in (1, 3, 5, 7)]  # every ~2 months
    f = run(WinBack(), ARRIVAL, guest(visits=stays))
    assert f is not None and f.text.startswith(
        "Welcome back: first stay in about 29 months (usually every 2)"
    )


def test_one_off_late_stay_is_not_a_win_back():
    assert run(WinBack(), ARRIVAL, guest(visits=[visit(date(2023, 6, 1))])) is None


def test_guest_keeping_their_rhythm_is_not_a_win_back():
    stays = [visit(date(2026, m, 1), sid=f"R-{m}") for m in (2, 5, 8)]
    assert run(WinBack(), ARRIVAL, guest(visits=stays)) is None


# -- long stay ---------------------------------------------------------------------------------
def test_ten_nights_is_a_long_stay():
    f = run(LongStay(), visit(date(2026, 11, 25), nights=10, status="confirmed"), guest(), "zh")
    assert f is not None and f.text == "长住客人：10晚"


def test_three_nights_is_not_a_long_stay():
    assert run(LongStay(), ARRIVAL, guest()) is None


# -- wording and safety ------------------------------------------------------------------------
def test_hotel_wording_replaces_the_default():
    f = run(LongStay(), visit(date(2026, 11, 25), nights=8), guest(), "en", wording={"en": "LS {nights}N"})
    assert f is not None and f.text == "LS 8N"


@pytest.mark.parametrize(
    "text",
    ["call 138 0013 8000 first", "mail li.na.test@example.cn", "ID 11010119900307002X on file"],
)
def test_scrub_removes_phones_emails_and_document_numbers(text):
    assert "***" in scrub(text, 200)
    assert not any(ch.isdigit() for ch in scrub(text, 200).replace("2026", ""))


def test_scrub_keeps_dates_and_fits_the_limit():
    assert scrub("上次 2026-08，2026-09-01 生日", 200) == "上次 2026-08，2026-09-01 生日"
    assert len(scrub("x" * 300, 200)) == 200


def test_builtin_rules_register_through_the_crmbridge_register_alert_rules_hook():
    names = set(load_plugins().alert_rules())
    assert {"dietary", "room_preferences", "complaint", "celebration", "vip", "returning"} <= names
    assert {"win_back", "long_stay"} <= names


# -- segmentation ------------------------------------------------------------------------------
def test_weekday_solo_corporate_guest_is_business():
    stays = [visit(date(2026, 3, 2) + timedelta(weeks=w), sid=f"R-{w}", rate_code="CORP01") for w in range(3)]
    assert segment(guest(visits=stays), TODAY, SegmentsConfig()).guest_type == "business"


def test_children_in_the_party_make_a_family():
    stays = [visit(date(2026, 7, 18), adults=2, children=1)]
    seg = segment(guest(visits=stays), TODAY, SegmentsConfig())
    assert seg.guest_type == "family" and "type:family" in seg.tags


def test_rfm_tier_follows_the_configured_thresholds():
    stays = [visit(date(2026, m, 3), sid=f"R-{m}", total=Decimal("4200.00")) for m in range(1, 11)]
    seg = segment(guest(visits=stays), TODAY, SegmentsConfig())
    assert (seg.recency, seg.frequency, seg.monetary, seg.value_tier) == (5, 5, 5, "A")
    assert segment(guest(visits=stays[:1]), TODAY, SegmentsConfig()).value_tier == "C"


def test_history_tag_counts_completed_stays_only():
    tags = segment(guest(visits=[visit(date(2026, 5, 1)), ARRIVAL]), TODAY, SegmentsConfig()).tags
    assert "one-time" in tags
    assert "no-stay-yet" in segment(guest(visits=[ARRIVAL]), TODAY, SegmentsConfig()).tags
