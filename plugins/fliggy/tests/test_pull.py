"""End to end: the TOP pull over the loopback gateway, through the SyncEngine, into a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from crmbridge_fliggy.client import (
    GMT8,
    InvalidArguments,
    InvalidTimestamp,
    TopClient,
    parse_top_time,
    top_time,
)
from crmbridge_fliggy.pull import SEARCH
from crmbridge_fliggy.signing import sign
from sqlalchemy import select

from crmbridge.store.reader import load_guests
from crmbridge.store.schema import quarantine

from .conftest import HID, N_ORDERS, settings, source, stored, sync


def test_multi_page_pull_lands_every_order_of_the_configured_hotel(store, hooks, gateway):
    r = sync(store, hooks, source(store, settings(gateway)))
    assert r.status == "ok" and r.counts.inserted == N_ORDERS and r.counts.quarantined == 0
    assert any(s["page_no"] != "1" for s in gateway.searches)  # it did walk pages
    rows = stored(store)
    assert len(rows) == N_ORDERS and {r.hotel_code for r in rows.values()} == {HID}


def test_fen_become_decimal_cny_and_statuses_map(store, hooks, gateway):
    sync(store, hooks, source(store, settings(gateway)))
    rows = stored(store)
    for order in gateway.orders[:N_ORDERS]:
        row = rows[str(order["tid"])]
        assert row.total_amount == Decimal(order["total_room_price"]) / 100 and row.currency == "CNY"
        expected = {"TRADE_SUCCESS": "confirmed", "TRADE_CLOSED": "cancelled", "TRADE_CHECKIN": "in_house"}
        if order["trade_status"] in expected:
            assert row.status == expected[order["trade_status"]]


def test_chinese_and_pinyin_guest_names_land_in_the_canonical_names(store, hooks, gateway, keyring):
    sync(store, hooks, source(store, settings(gateway)))
    with store.engine.connect() as c:
        values = [rec.values for g in load_guests(c, keyring) for rec in g.records]
    firsts = {o["guests"]["x_order_guest"][0]["name"] for o in gateway.orders[:N_ORDERS]}
    local = {v["local_name"] for v in values if "local_name" in v}
    latin = {f"{v['surname']}/{v['given_name']}" for v in values if "surname" in v}
    assert local and latin and local | latin == firsts


def test_a_90_day_backfill_is_read_in_contiguous_windows_of_at_most_30_days(store, hooks, gateway):
    before = datetime.now(UTC)
    sync(store, hooks, source(store, settings(gateway)))
    windows = sorted({(s["created_start"], s["created_end"]) for s in gateway.searches})
    spans = [(parse_top_time(a), parse_top_time(b)) for a, b in windows]
    assert len(spans) >= 3 and all(b - a <= timedelta(days=30) for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    assert abs(spans[0][0] - (before - timedelta(days=90))) < timedelta(minutes=1)
    assert abs(spans[-1][1] - before) < timedelta(minutes=1)


def test_rerunning_changes_nothing(store, hooks, gateway):
    ctx = source(store, settings(gateway))
    sync(store, hooks, ctx)
    again = sync(store, hooks, ctx)
    full = sync(store, hooks, ctx, full=True)
    assert again.status == full.status == "ok"
    assert (again.counts.inserted, again.counts.updated) == (0, 0)
    assert (full.counts.inserted, full.counts.updated, full.counts.unchanged) == (0, 0, N_ORDERS)
    assert len(stored(store)) == N_ORDERS


def test_a_status_change_is_picked_up_when_recent_orders_are_re_read(store, hooks, gateway):
    ctx = source(store, settings(gateway))
    sync(store, hooks, ctx)
    newest = gateway.orders[N_ORDERS - 1]
    gateway.update(newest["tid"], trade_status="TRADE_CLOSED")
    searches = len(gateway.searches)
    r = sync(store, hooks, ctx)
    assert r.counts.updated == 1 and stored(store)[str(newest["tid"])].status == "cancelled"
    # An incremental run re-reads the last week, not the whole 90 days.
    first = min(parse_top_time(s["created_start"]) for s in gateway.searches[searches:])
    assert datetime.now(GMT8) - first < timedelta(days=8)


def test_an_interrupted_pull_resumes_at_the_next_page(store, hooks, gateway):
    ctx = source(store, settings(gateway))
    batches = iter(range(100))
    r1 = sync(store, hooks, ctx, should_stop=lambda: next(batches) >= 2)
    assert r1.status == "interrupted" and len(gateway.searches) == 3
    r2 = sync(store, hooks, ctx)
    pages = [(s["created_start"], s["page_no"]) for s in gateway.searches]
    assert r2.status == "ok" and len(pages) == len(set(pages))  # no page read twice
    assert r1.counts.inserted + r2.counts.inserted == N_ORDERS


def test_a_malformed_order_is_quarantined_while_the_rest_lands(store, hooks, gateway):
    bad_date, bad_money, bad_status = gateway.orders[3], gateway.orders[40], gateway.orders[70]
    bad_date["checkin_date"] = "2026-02-30"
    bad_money["total_room_price"] = "12.5"
    bad_status["trade_status"] = "TRADE_TELEPORTED"
    r = sync(store, hooks, source(store, settings(gateway)))
    assert r.status == "ok" and r.counts.quarantined == 3 and r.counts.inserted == N_ORDERS - 3
    with store.engine.connect() as c:
        reasons = {q.source_id: q.reason for q in c.execute(select(quarantine))}
    assert "arrival" in reasons[str(bad_date["tid"])]
    assert "total_room_price: not an amount in fen" in reasons[str(bad_money["tid"])]
    assert "trade_status" in reasons[str(bad_status["tid"])]
    names = [o["guests"]["x_order_guest"][0]["name"] for o in (bad_date, bad_money, bad_status)]
    assert not any(n in text for n in names for text in reasons.values())


def test_a_rate_limited_pull_backs_off_and_completes(store, hooks, gateway):
    gateway.fail_next(2)
    r = sync(store, hooks, source(store, settings(gateway)))
    assert r.status == "ok" and r.counts.inserted == N_ORDERS and gateway.refusals == [7, 7]


def test_a_wrong_secret_is_refused_by_the_gateway_and_reported_as_an_invalid_signature(store, hooks, gateway):
    r = sync(store, hooks, source(store, settings(gateway, app_secret="not-the-secret")))
    assert r.status == "failed" and "Invalid signature" in r.error and "app_secret" in r.error
    assert gateway.refusals == [25] and stored(store) == {}


@pytest.mark.parametrize("method", ["md5", "hmac", "hmac-sha256"])
def test_the_gateway_accepts_each_sign_method_and_refuses_a_tampered_parameter(gateway, method):
    client = TopClient(gateway.url, gateway.app_key, gateway.app_secret, gateway.session_key, method)
    now = datetime.now(UTC)
    window = {"created_start": top_time(now - timedelta(days=3)), "created_end": top_time(now)}
    assert client.call(SEARCH, window)["total_results"] >= 1
    form = client.signed_params(SEARCH, window)
    assert form["sign"] == sign(form, gateway.app_secret, method)
    form["created_start"] = top_time(now - timedelta(days=29))
    body = httpx.post(gateway.url, data=form).json()
    assert body["error_response"]["code"] == 25 and body["error_response"]["msg"] == "Invalid signature"


def test_the_gateway_refuses_a_timestamp_more_than_ten_minutes_off(gateway):
    late = lambda: datetime.now(UTC) - timedelta(minutes=11)  # noqa: E731
    client = TopClient(gateway.url, gateway.app_key, gateway.app_secret, gateway.session_key, clock=late)
    now = datetime.now(UTC)
    with pytest.raises(InvalidTimestamp, match="check this machine's clock"):
        client.call(
            SEARCH, {"created_start": top_time(now - timedelta(days=1)), "created_end": top_time(now)}
        )


def test_the_gateway_refuses_a_window_longer_than_30_days(gateway):
    client = TopClient(gateway.url, gateway.app_key, gateway.app_secret, gateway.session_key)
    now = datetime.now(UTC)
    with pytest.raises(InvalidArguments, match="30"):
        client.call(
            SEARCH, {"created_start": top_time(now - timedelta(days=31)), "created_end": top_time(now)}
        )
