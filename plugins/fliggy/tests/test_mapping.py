"""Fliggy order mapping: names, fen, statuses, and field-only error messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crmbridge_fliggy.mapping import TRADE_STATUS, Unmappable, fen_to_cny, items, map_order, split_name

from crmbridge.models import Reservation, validate_record


def order(**over):
    base = {
        "tid": 3100000000042,
        "hid": 5001,
        "rid": 800001,
        "rpid": 9000002,
        "checkin_date": "2026-12-24",
        "checkout_date": "2026-12-26 00:00:00",
        "guests": {"x_order_guest": [{"name": "诸葛思琪", "room_pos": 1, "person_pos": 1}]},
        "contact_name": "诸葛思琪",
        "contact_phone": "13912345678",
        "message": "需要婴儿床",
        "total_room_price": 63850,
        "payment": 60000,
        "created": "2026-11-20 09:15:00",
        "modified": "2026-11-20 09:20:00",
        "trade_status": "TRADE_SUCCESS",
    }
    return {**base, **over}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张伟", {"local_name": "张伟"}),
        ("欧阳 子涵", {"local_name": "欧阳 子涵"}),
        ("ZHANG/WEI", {"surname": "ZHANG", "given_name": "WEI"}),
        ("Emma  Schmidt", {"given_name": "Emma", "surname": "Schmidt"}),
        ("TANAKA", {"surname": "TANAKA"}),
        ("Li 🐉 Na", {"given_name": "Li 🐉", "surname": "Na"}),
    ],
)
def test_guest_names_split_by_script(name, expected):
    assert split_name(name) == expected


@pytest.mark.parametrize(("fen", "cny"), [(63850, "638.50"), ("17800", "178.00"), (1, "0.01"), (0, "0.00")])
def test_fen_become_exact_decimal_yuan(fen, cny):
    assert fen_to_cny(fen, "payment") == Decimal(cny)


@pytest.mark.parametrize("bad", [12.5, "12.5", "", True, None, "¥100"])
def test_anything_but_whole_fen_is_refused_by_field_name(bad):
    with pytest.raises(Unmappable, match=r"^payment: not an amount in fen$"):
        fen_to_cny(bad, "payment")


def test_every_documented_trade_status_maps():
    documented = {
        "WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS", "TRADE_SUCCESS", "TRADE_CHECKIN", "TRADE_CHECKOUT",
        "TRADE_SETTLEING", "TRADE_SETTLE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO",
        "TRADE_NO_CREATE_PAY",
    }  # fmt: skip
    assert set(TRADE_STATUS) == documented


def test_an_order_becomes_a_reservation_in_utc_with_its_guest():
    r = validate_record(Reservation, map_order(order(), source="fliggy_top"))
    assert (r.source_id, r.hotel_code, r.status.value, r.channel) == (
        "3100000000042",
        "5001",
        "confirmed",
        "FLIGGY",
    )
    assert str(r.arrival) == "2026-12-24" and str(r.departure) == "2026-12-26"
    assert r.total.amount == Decimal("638.50") and r.total.currency == "CNY"
    assert r.updated_at.isoformat() == "2026-11-20T01:20:00+00:00"  # 09:20 in Beijing
    assert r.guest.local_name == "诸葛思琪" and r.guest.phones[0].number == "+8613912345678"
    assert (r.room_type, r.rate_code, r.special_requests) == ("800001", "9000002", ["需要婴儿床"])


def test_a_masked_phone_is_not_taken_as_the_guests_number():
    r = validate_record(Reservation, map_order(order(contact_phone="139****5678"), source="s"))
    assert r.guest.phones == []


def test_the_contact_names_the_guest_when_there_are_no_guests():
    r = validate_record(Reservation, map_order(order(guests=None, contact_name="LIU/FANG"), source="s"))
    assert (r.guest.surname, r.guest.given_name) == ("LIU", "FANG")


def test_plain_and_wrapped_lists_are_both_read():
    assert items([1, 2]) == items({"x_order_guest": [1, 2]}) == [1, 2]
    assert items(None) == [] and items({"x_order_guest": {"name": "王芳"}}) == [{"name": "王芳"}]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"tid": None}, "tid"),
        ({"tid": "abc"}, "tid"),
        ({"hid": None}, "hid"),
        ({"trade_status": "LOST"}, "trade_status"),
    ],
)
def test_unmappable_orders_name_the_field_not_the_value(over, field):
    with pytest.raises(Unmappable) as info:
        map_order(order(**over), source="s")
    assert str(info.value).startswith(f"{field}:") and "诸葛" not in str(info.value)
