"""The VIP rule's membership ladder: the hotel's own order, common Chinese cards by default."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmbridge.insights.builtin_rules import Vip
from crmbridge.insights.facts import GuestFacts
from crmbridge.store.reader import ProfileRecord

from .test_alert_rules import ARRIVAL, run


def member(*cards: tuple[str, float | None]) -> GuestFacts:
    memberships = [{"program": "HCC", "tier": tier, "points": pts} for tier, pts in cards]
    values = {"local_name": "陈静", "attributes": {"memberships": memberships}}
    return GuestFacts(
        "g-9", records=[ProfileRecord("r-9", "opera5", "P-9", datetime(2026, 1, 1, tzinfo=UTC), values)]
    )


@pytest.mark.parametrize("card", ["GOLD", "PLATINUM", "BLACK", "RED", "DIAMOND"])
def test_common_chinese_hotel_cards_get_the_vip_alert_by_default(card):
    f = run(Vip(), ARRIVAL, member((card, None)))
    assert f is not None and f.text == f"VIP: {card.title()} member"


def test_a_red_card_member_is_shown_with_points_in_chinese():
    f = run(Vip(), ARRIVAL, member(("red", 12880.0)), lang="zh")
    assert f is not None and f.text == "贵宾：RED会员（积分 12,880）"


def test_the_highest_card_on_the_hotels_own_ladder_is_shown():
    ladder = ["SILVER", "RED", "GOLD"]  # this hotel ranks gold above red
    f = run(Vip(), ARRIVAL, member(("GOLD", 300.0), ("RED", 9000.0)), tiers=ladder)
    assert f is not None and f.text == "VIP: Gold member (300 points)"


def test_a_card_not_on_the_ladder_gets_no_vip_alert():
    assert run(Vip(), ARRIVAL, member(("RED", None)), tiers=["GOLD", "PLATINUM"]) is None


def test_points_can_be_left_out():
    f = run(Vip(), ARRIVAL, member(("BLACK", 5000.0)), show_points=False)
    assert f is not None and f.text == "VIP: Black member"
