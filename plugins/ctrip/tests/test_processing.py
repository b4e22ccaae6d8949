"""From the inbox to the store: each order's messages folded into one reservation."""

from __future__ import annotations

from datetime import date

import pytest
from crmbridge_ctrip.simulator import Guest, Outcome
from sqlalchemy import select

from crmbridge.adapters.base import PushRequest
from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins
from crmbridge.store.reader import load_guests
from crmbridge.store.schema import quarantine
from crmbridge.store.writer import Counts
from tests.receiver_helpers import reservation_row

from .messages import HOTEL, ctrip_source, messages, order


class Ctrip:
    """One ctrip source: requests answered by the receive hook, processing run by the engine."""

    def __init__(self, store) -> None:
        self.hooks = load_plugins()
        self.ctx = ctrip_source(store)
        self.engine = SyncEngine(store, self.hooks)

    def send(self, body: bytes) -> None:
        reply = self.hooks.receive(self.ctx, PushRequest("POST", "/ota/ctrip", {}, body))
        assert Outcome.read(reply.status, reply.body).success

    def process(self) -> Counts:
        [result] = self.engine.sync_source(self.ctx, self.hooks.adapter_type("ctrip"))
        assert result.status == "ok", result.error
        return result.counts


@pytest.fixture
def ctrip(store) -> Ctrip:
    return Ctrip(store)


def test_an_order_becomes_a_confirmed_reservation_and_its_message_is_done(store, ctrip):
    ctrip.send(messages().order(order()))
    counts = ctrip.process()
    assert (counts.fetched, counts.inserted) == (1, 1)
    row = reservation_row(store, "ctrip", "CT9001")
    assert (row.status, row.arrival, row.departure, str(row.total_amount)) == (
        "confirmed",
        date(2026, 12, 1),
        date(2026, 12, 3),
        "1376.00",
    )
    assert row.guest_record_id is not None and ctrip.ctx.inbox.counts() == {"done": 1}


def test_a_cancel_before_its_order_waits_pending_and_is_applied_when_the_order_arrives(store, ctrip):
    ctrip.send(messages().cancel("CT9001", HOTEL))
    assert ctrip.process().fetched == 0
    assert ctrip.ctx.inbox.counts() == {"pending": 1} and reservation_row(store, "ctrip", "CT9001") is None
    ctrip.send(messages().order(order()))
    ctrip.process()
    assert reservation_row(store, "ctrip", "CT9001").status == "cancelled"
    assert ctrip.ctx.inbox.counts() == {"done": 2}


def test_a_modification_outranks_its_order_even_when_the_order_comes_later(store, ctrip):
    ctrip.send(messages().modify(order(nights=4)))
    ctrip.process()
    assert reservation_row(store, "ctrip", "CT9001") is None
    ctrip.send(messages().order(order(nights=2)))
    ctrip.process()
    assert reservation_row(store, "ctrip", "CT9001").departure == date(2026, 12, 5)


def test_a_cancel_after_processing_updates_the_same_reservation(store, ctrip):
    ctrip.send(messages().order(order()))
    ctrip.process()
    first = reservation_row(store, "ctrip", "CT9001")
    ctrip.send(messages().cancel("CT9001", HOTEL))
    assert ctrip.process().updated == 1
    after = reservation_row(store, "ctrip", "CT9001")
    assert (after.id, after.status, after.guest_record_id) == (first.id, "cancelled", first.guest_record_id)


def test_duplicates_are_stored_once_and_reprocessing_changes_nothing(store, ctrip):
    for _ in range(3):
        ctrip.send(messages().order(order()))
    assert ctrip.process().inserted == 1
    assert ctrip.process().fetched == 0
    assert ctrip.ctx.inbox.counts() == {"done": 1}


def test_a_message_that_fails_processing_is_marked_failed_kept_pending_and_the_rest_lands(store, ctrip):
    [bad] = ctrip.ctx.inbox.put([("ctrip.order", "CT0666|order", "<OTA_HotelResRQ><truncated")])
    ctrip.send(messages().order(order()))
    ctrip.process()
    assert reservation_row(store, "ctrip", "CT9001") is not None
    status, msg = ctrip.ctx.inbox.get(bad)
    assert (status, msg.attempts) == ("pending", 1)
    ctrip.process()
    assert ctrip.ctx.inbox.get(bad)[1].attempts == 2  # retried, never dropped


def test_a_stored_order_that_no_longer_maps_is_quarantined_with_its_reason(store, ctrip):
    from crmbridge_ctrip.messages import read_request
    from lxml import etree

    msg = read_request(messages().order(order("CT0777"))).message
    next(msg.iter("{*}TimeSpan")).set("End", "2026-11-01")
    ctrip.ctx.inbox.put([("ctrip.order", "CT0777|order", etree.tostring(msg, encoding="unicode"))])
    assert ctrip.process().quarantined == 1
    with store.engine.connect() as c:
        [row] = c.execute(select(quarantine.c.source_id, quarantine.c.reason)).all()
    assert row.source_id == "CT0777" and "departure is before arrival" in row.reason
    assert "王" not in row.reason and ctrip.ctx.inbox.counts() == {"done": 1}


def test_cancels_waiting_for_orders_that_never_come_do_not_hold_up_later_orders(store, ctrip, monkeypatch):
    from crmbridge_ctrip import adapter

    monkeypatch.setattr(adapter, "PAGE", 10)
    for i in range(12):
        ctrip.send(messages().cancel(f"CT01{i:02d}", HOTEL))
    ctrip.send(messages().order(order()))
    ctrip.process()
    assert reservation_row(store, "ctrip", "CT9001").status == "confirmed"
    assert ctrip.ctx.inbox.counts() == {"pending": 12, "done": 1}


def test_cjk_emoji_and_very_long_names_come_back_from_the_store_intact(store, ctrip):
    long_given = ("Anna-Maria " * 6)[:64]  # OpenTravel's limit; longer is refused
    ctrip.send(messages().order(order("CT0801", guest=Guest("𠀋", "🐉", pinyin=("Qiu", "Long")))))
    ctrip.send(messages().order(order("CT0802", guest=Guest("Schmidt 🌸", long_given.strip()))))
    ctrip.process()
    with store.engine.connect() as c:
        shown = [v.display() for v in load_guests(c, store.keyring)]
    names = {tuple(d.get(k, {}).get("value") for k in ("local_name", "surname", "given_name")) for d in shown}
    assert ("𠀋🐉", "Qiu", "Long") in names
    assert (None, "Schmidt 🌸", long_given.strip()) in names


def test_an_order_arriving_while_its_waiting_cancel_is_folded_is_acknowledged_with_it(
    store, ctrip, monkeypatch
):
    from crmbridge.store.inbox import Inbox

    ctrip.send(messages().cancel("CT9001", HOTEL))
    real, arrived = Inbox.history, []

    def order_commits_mid_run(self, prefix):
        if not arrived and prefix == "CT9001|" and self.pending(kinds=["ctrip.cancel"]):
            arrived.append(1)  # after the run read its page, before it folds the cancel
            ctrip.send(messages().order(order()))
        return real(self, prefix)

    monkeypatch.setattr(Inbox, "history", order_commits_mid_run)
    ctrip.process()
    assert arrived and reservation_row(store, "ctrip", "CT9001").status == "cancelled"
    assert ctrip.ctx.inbox.counts() == {"done": 2}  # the order was folded, so it is done too
    ctrip.process()
    assert reservation_row(store, "ctrip", "CT9001").status == "cancelled"
