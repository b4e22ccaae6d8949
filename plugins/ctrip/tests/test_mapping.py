"""Ctrip's reservation XML to the canonical reservation and guest."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from crmbridge_ctrip.mapping import names, parse_time, reservation_data
from crmbridge_ctrip.messages import read_request, reservations
from crmbridge_ctrip.simulator import CTRIP_DESK_PHONE, Guest

from crmbridge.models import Reservation, validate_record

from .messages import HOTEL, messages, order


def _map(o, **kw) -> Reservation:
    req = read_request(messages().order(o))
    [res] = reservations(req.message)
    data = reservation_data(
        res, source="ctrip", order_id=o.order_id, hotel_code=HOTEL, phone_region="CN", **kw
    )
    return validate_record(Reservation, data)


def test_an_order_maps_stay_room_rate_counts_total_and_requests():
    r = _map(order(adults=2, children=1))
    assert (r.source_id, r.hotel_code, r.channel, r.status.value) == ("CT9001", HOTEL, "CTRIP", "confirmed")
    assert (str(r.arrival), str(r.departure), r.room_type, r.rate_code) == (
        "2026-12-01",
        "2026-12-03",
        "DLK",
        "BAR",
    )
    assert (r.adults, r.children, r.confirmation_numbers) == (2, 1, ["CT9001"])
    assert r.total.amount == Decimal("1376.00") and r.total.currency == "CNY"
    assert r.special_requests == ["高楼层，远离电梯"]


def test_chinese_characters_go_to_local_name_and_pinyin_to_given_and_surname():
    g = _map(order()).guest
    assert (g.local_name, g.surname, g.given_name) == ("王芳", "Wang", "Fang")


def test_pinyin_only_with_a_slash_is_surname_then_given_name():
    g = _map(order(guest=Guest("ZHANG/WEI"))).guest
    assert (g.local_name, g.surname, g.given_name) == (None, "ZHANG", "WEI")


def test_a_full_chinese_name_in_surname_alone_is_kept_whole():
    assert _map(order(guest=Guest("欧阳娜娜"))).guest.local_name == "欧阳娜娜"


def test_emoji_and_very_long_names_are_kept_intact():
    long_given = ("Anna-Maria " * 6)[:64]  # OpenTravel's limit; longer is refused
    g = _map(order(guest=Guest("Schmidt 🌸", long_given.strip()))).guest
    assert g.surname == "Schmidt 🌸" and g.given_name == long_given.strip()
    assert _map(order(guest=Guest("𠀋", "🐉"))).guest.local_name == "𠀋🐉"  # CJK extension B


def test_the_guests_phone_and_email_are_normalised_and_ctrips_desk_is_never_the_guests():
    g = _map(order()).guest
    assert [p.number for p in g.phones] == ["+8613900139000"]
    assert [e.address for e in g.emails] == ["wang.fang.t@example.cn"]
    assert CTRIP_DESK_PHONE.replace(" ", "")[3:] not in str(g.model_dump())


def test_a_malformed_phone_or_email_is_dropped_and_the_booking_kept():
    g = _map(order(guest=Guest("李", "娜", phone="call me", email="not-an-address"))).guest
    assert g.phones == [] and g.emails == [] and g.local_name == "李娜"


def test_without_a_total_the_nightly_rates_times_rooms_are_summed():
    req = read_request(messages().order(order(rooms=2)))
    [res] = reservations(req.message)
    total = res.find("{*}ResGlobalInfo/{*}Total")
    total.getparent().remove(total)
    data = reservation_data(res, source="ctrip", order_id="CT9001", hotel_code=HOTEL, phone_region="CN")
    assert data["total"] == {"amount": "2752.00", "currency": "CNY"}


def test_ctrip_local_times_without_offset_are_china_time():
    assert parse_time("2026-11-23T17:14:42.627949") == datetime(2026, 11, 23, 9, 14, 42, 627949, tzinfo=UTC)
    assert parse_time("2026-11-23 17:14:42") == datetime(2026, 11, 23, 9, 14, 42, tzinfo=UTC)
    assert parse_time("2026-11-23T09:14:42Z") == datetime(2026, 11, 23, 9, 14, 42, tzinfo=UTC)
    assert parse_time("yesterday") is None


def test_a_cancelled_order_maps_to_the_cancelled_status():
    assert _map(order(), cancelled=True).status.value == "cancelled"


def test_names_take_the_first_name_of_each_script():
    from lxml import etree

    customer = etree.fromstring(
        "<Customer><PersonName><Surname>张</Surname><GivenName>伟</GivenName></PersonName>"
        "<PersonName><Surname>Zhang</Surname><GivenName>Wei</GivenName><MiddleName>Jr</MiddleName></PersonName>"
        "<PersonName><Surname>Other</Surname></PersonName></Customer>"
    )
    assert names(customer) == {"local_name": "张伟", "surname": "Zhang", "given_name": "Wei Jr"}
