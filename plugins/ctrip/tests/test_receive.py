"""Ctrip's requests answered: authentication, the hotel, the message, and the OTA reply.

Every bad input gets its OTA error and leaves the inbox exactly as it was. These are about
the adapter's answers, so they run on SQLite only; processing and the end-to-end tests run on
both backends."""

from __future__ import annotations

import time

import pytest
from crmbridge_ctrip.simulator import Credentials, Outcome
from sqlalchemy import select

from crmbridge.adapters.base import PushRequest
from crmbridge.plugins import load_plugins
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import inbox

from .messages import CREDS, HOTEL, ctrip_source, messages, order
from .test_safexml import BILLION_LAUGHS, EXTERNAL_ENTITY


@pytest.fixture
def store(tmp_path, keyring):
    s = GuestStore.open(f"sqlite:///{tmp_path / 'store.db'}", keyring)
    yield s
    s.close()


@pytest.fixture
def ctx(store):
    return ctrip_source(store)


@pytest.fixture
def send(ctx):
    hooks = load_plugins()

    def _send(body: bytes) -> Outcome:
        reply = hooks.receive(ctx, PushRequest("POST", "/ota/ctrip", {}, body, client="203.0.113.7:5000"))
        assert reply.status == 200 and reply.content_type.startswith("text/xml")
        return Outcome.read(reply.status, reply.body)

    return _send


@pytest.fixture
def with_one_order(ctx, send):
    """An inbox that already holds one order: bad requests must leave it exactly as it is."""
    assert send(messages().order(order("CT0001"))).success
    return lambda: [(m.dedupe_key, m.payload) for _, m in ctx.inbox.history("")]


def test_a_new_order_is_committed_then_answered_with_success_and_both_ids(ctx, send):
    out = send(messages().order(order()))
    assert (out.root, out.success, out.errors, out.res_status) == ("OTA_HotelResRS", True, [], "S")
    [msg] = ctx.inbox.pending()
    assert out.hotel_ref == f"CB{msg.id}" and msg.dedupe_key == "CT9001|order"
    assert CREDS.password not in msg.payload and "MessagePassword" not in msg.payload


def test_the_inbox_holds_the_order_encrypted(store, ctx, send):
    send(messages().order(order()))
    with store.engine.connect() as c:
        raw = bytes(c.execute(select(inbox.c.payload_ct)).scalar_one())
    assert "王".encode() not in raw and b"13900139000" not in raw and b"example.cn" not in raw


def test_a_repeated_order_gets_the_duplicate_warning_and_is_stored_once(ctx, send):
    first = send(messages().order(order()))
    again = send(messages().order(order()))
    assert again.success and again.warnings == [("3", "127")] and first.warnings == []
    assert again.hotel_ref == first.hotel_ref and ctx.inbox.counts() == {"pending": 1}


@pytest.mark.parametrize(
    "creds",
    [
        Credentials(CREDS.requestor_id, "guess"),
        Credentials("someone-else", CREDS.password),
        Credentials("", ""),
    ],
)
def test_a_wrong_requestor_or_password_gets_497_and_nothing_is_stored(send, with_one_order, creds):
    before = with_one_order()
    out = send(messages(creds).order(order("CT0002")))
    assert (out.success, out.errors, out.res_status) == (False, [("4", "497")], "R")
    assert with_one_order() == before


def test_a_request_without_pos_is_refused_with_497(send, with_one_order):
    body = messages().cancel("CT0001", HOTEL).replace(b"<POS>", b"<XPOS>").replace(b"</POS>", b"</XPOS>")
    before = with_one_order()
    assert send(body).errors == [("4", "497")] and with_one_order() == before


def test_an_unknown_hotel_code_gets_400_and_nothing_is_stored(send, with_one_order):
    before = with_one_order()
    out = send(messages().order(order("CT0003", hotel_code="PEK99")))
    assert out.errors == [("3", "400")] and with_one_order() == before
    assert send(messages().cancel("CT0001", "PEK99")).errors == [("3", "400")]
    assert with_one_order() == before


@pytest.mark.parametrize(
    "body, root",
    [
        (b"<OTA_HotelResRQ><POS>", "OTA_HotelResRS"),
        (b"not xml at all", "OTA_HotelResRS"),
        (BILLION_LAUGHS, "OTA_HotelResRS"),
        (EXTERNAL_ENTITY, "OTA_CancelRS"),
        (b"", "OTA_HotelResRS"),
    ],
    ids=["truncated", "not-xml", "billion-laughs", "external-entity", "empty"],
)
def test_malformed_or_unsafe_xml_gets_450_in_the_matching_reply(send, with_one_order, body, root):
    before = with_one_order()
    started = time.monotonic()
    out = send(body)
    assert time.monotonic() - started < 1  # nothing was expanded
    assert (out.root, out.success, out.errors) == (root, False, [("3", "450")])
    assert with_one_order() == before


def test_an_order_without_a_ctrip_order_number_gets_450(send, with_one_order):
    body = (
        messages()
        .order(order("CT0004"))
        .replace(b'Type="501"', b'Type="14"')
        .replace(b'ResID_Type="501"', b"")
    )
    before = with_one_order()
    assert send(body).errors == [("3", "450")] and with_one_order() == before


def test_an_order_with_impossible_dates_gets_450_naming_the_problem_not_the_guest(ctx, send, with_one_order):
    from lxml import etree

    body = messages().order(order("CT0005"))
    tree = etree.fromstring(body)
    span = next(tree.iter("{*}TimeSpan"))
    span.set("End", "2026-11-01 0:00:00")  # before the arrival
    hooks = load_plugins()
    before = with_one_order()
    reply = hooks.receive(ctx, PushRequest("POST", "/", {}, etree.tostring(tree)))
    assert b"departure is before arrival" in reply.body and "王".encode() not in reply.body
    assert Outcome.read(200, reply.body).errors == [("3", "450")] and with_one_order() == before


def test_a_message_this_endpoint_does_not_handle_gets_an_error_in_its_own_reply(send, with_one_order):
    body = messages().read("CT0001").replace(b"OTA_ReadRQ", b"OTA_HotelAvailRQ")
    out = send(body)
    assert (out.root, out.errors) == ("OTA_HotelAvailRS", [("3", "450")])


def test_a_store_failure_while_committing_gets_448_so_ctrip_retries(ctx, send, monkeypatch):
    def down(messages):
        raise ConnectionError("could not connect to server")

    monkeypatch.setattr(ctx.inbox, "put", down)
    monkeypatch.setattr(ctx.inbox, "put_new", down)
    out = send(messages().order(order()))
    assert (out.success, out.errors, out.res_status) == (False, [("12", "448")], "R")


def test_a_cancel_is_committed_and_answered_cancelled_even_before_its_order(ctx, send):
    out = send(messages().cancel("CT7777", HOTEL))
    assert (out.root, out.success, out.errors) == ("OTA_CancelRS", True, [])
    assert [m.dedupe_key for m in ctx.inbox.pending()] == ["CT7777|cancel"]


def test_a_modification_is_stored_once_per_content(ctx, send):
    longer = order(nights=3)
    assert send(messages().modify(longer)).root == "OTA_HotelResModifyRS"
    send(messages().modify(longer))  # Ctrip resends; EchoToken and TimeStamp differ
    send(messages().modify(order(nights=4)))
    keys = [m.dedupe_key for m in ctx.inbox.pending()]
    assert len(keys) == 2 and all(k.startswith("CT9001|modify|") for k in keys)


def test_read_answers_the_status_of_a_known_order_and_245_for_an_unknown_one(send):
    send(messages().order(order()))
    assert send(messages().read("CT9001")).res_status == "S"
    send(messages().cancel("CT9001", HOTEL))
    read = send(messages().read("CT9001"))
    assert (read.root, read.success, read.res_status) == ("OTA_ReadRS", True, "C")
    assert send(messages().read("CT0000")).errors == [("3", "245")]


def test_a_read_is_never_stored(ctx, send):
    send(messages().read("CT0000"))
    assert ctx.inbox.counts() == {}


def test_a_bare_ota_message_is_answered_without_an_envelope(ctx):
    from crmbridge_ctrip.safexml import parse, unwrap

    body = messages().order(order())
    bare = next(parse(body).iter("{*}OTA_HotelResRQ"))
    from lxml import etree

    reply = load_plugins().receive(ctx, PushRequest("POST", "/", {}, etree.tostring(bare)))
    assert unwrap(parse(reply.body)).soap is False


def test_only_ctrip_sources_are_answered(store):
    from crmbridge.adapters.base import SourceContext

    with pytest.raises(LookupError, match="does not receive pushes"):
        load_plugins().receive(SourceContext("pms", "file", None), PushRequest("POST", "/", {}, b""))


def test_an_order_without_a_reservation_gets_450(send, with_one_order):
    body = messages().order(order("CT0006"))
    start, end = body.index(b"<HotelReservations>"), body.index(b"</HotelReservations>")
    before = with_one_order()
    out = send(body[:start] + body[end + len(b"</HotelReservations>") :])
    assert (out.root, out.errors) == ("OTA_HotelResRS", [("3", "450")]) and with_one_order() == before
