"""The direct-connect push through the receive hook: authenticate, parse safely, inbox first, reply."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
from crmbridge_fliggy.adapter import FliggyConfig
from lxml import etree
from sqlalchemy import create_engine, select

from crmbridge.adapters.base import PushReply, PushRequest, SourceContext
from crmbridge.store.inbox import Inbox
from crmbridge.store.reader import load_guests
from crmbridge.store.schema import quarantine
from tests.conftest import REPO

from .conftest import source, stored, sync

USER, PASSWORD = "fliggy-cm", "pw-invented-不真实"
PUSH = FliggyConfig(username=USER, password=PASSWORD, path="/push/fliggy", hotel_ids=["HZ01"])


def auth(user: str = USER, password: str = PASSWORD) -> str:
    return (
        f"<AuthenticationToken><Username>{user}</Username><Password>{password}</Password>"
        "<CreateToken>tb3100000000001-1732345678901</CreateToken></AuthenticationToken>"
    )


def book_xml(tid: int = 3100000000001, *, payment: int = 5, checkin: str = "2026-12-24", **kw: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<BookRQ>{kw.get("auth", auth())}
  <TaoBaoOrderId>{tid}</TaoBaoOrderId><TaoBaoHotelId>5001</TaoBaoHotelId>
  <HotelId>{kw.get("hotel", "HZ01")}</HotelId>
  <TaoBaoRoomTypeId>800001</TaoBaoRoomTypeId><RoomTypeId>DLK</RoomTypeId>
  <TaoBaoRatePlanId>9000001</TaoBaoRatePlanId><RatePlanCode>BAR</RatePlanCode><TaoBaoGid>77001</TaoBaoGid>
  <CheckIn>{checkin} 00:00:00</CheckIn><CheckOut>2026-12-26 00:00:00</CheckOut>
  <EarliestArriveTime>2026-12-24 20:00:00</EarliestArriveTime><RoomNum>1</RoomNum>
  <TotalPrice>63850</TotalPrice><Currency>CNY</Currency><PaymentType>{payment}</PaymentType>
  <ContactName>欧阳子涵</ContactName><ContactTel>13912345678</ContactTel>
  <DailyInfos><DailyInfo><Day>2026-12-24</Day><Price>17800</Price></DailyInfo>
    <DailyInfo><Day>2026-12-25</Day><Price>46050</Price></DailyInfo></DailyInfos>
  <OrderGuests><OrderGuest><Name>欧阳子涵</Name><RoomPos>1</RoomPos></OrderGuest>
    <OrderGuest><Name>ZHUGE/SIQI</Name><RoomPos>1</RoomPos></OrderGuest></OrderGuests>
  <Comment>晚到，请保留房间</Comment>
</BookRQ>""".encode()


def small(kind: str, tid: int = 3100000000001, **kw: str) -> bytes:
    return (
        f"<{kind}>{kw.get('auth', auth())}<TaoBaoOrderId>{tid}</TaoBaoOrderId><OrderId>FZ1</OrderId>"
        f"<HotelId>HZ01</HotelId><Reason>行程变更</Reason><CancelId>1732345678901</CancelId></{kind}>"
    ).encode()


def send(hooks, ctx: SourceContext, body: bytes, method: str = "POST") -> tuple[PushReply, dict[str, str]]:
    reply = hooks.receive(
        ctx, PushRequest(method, "/push/fliggy", {"content-type": "text/xml"}, body, "127.0.0.1")
    )
    root = etree.fromstring(reply.body)
    assert root.tag == "Result"
    return reply, {child.tag: child.text or "" for child in root}


@pytest.fixture
def ctx(store) -> SourceContext:
    return source(store, PUSH, "fliggy_push")


@pytest.fixture
def refusing(sqlite_store) -> SourceContext:
    return source(sqlite_store, PUSH, "fliggy_push")


def test_a_booking_is_in_the_inbox_when_the_reply_says_success_and_then_lands(store, hooks, ctx):
    reply, res = send(hooks, ctx, book_xml())
    assert res["ResultCode"] == "0" and res["OrderId"].startswith("FZ") and reply.accepted
    assert ctx.inbox.counts() == {"pending": 1}  # durable before Fliggy hears "success"
    r = sync(store, hooks, ctx)
    assert r.counts.inserted == 1 and ctx.inbox.counts() == {"done": 1}
    row = stored(store, "fliggy_push")["3100000000001"]
    assert row.status == "confirmed" and row.total_amount == Decimal("638.50") and row.currency == "CNY"
    assert (str(row.arrival), str(row.departure), row.hotel_code) == ("2026-12-24", "2026-12-26", "HZ01")


@pytest.mark.parametrize("who", [("intruder", PASSWORD), (USER, "guess"), ("", "")])
def test_wrong_credentials_are_refused_and_nothing_is_stored(hooks, refusing, who):
    reply, res = send(hooks, refusing, book_xml(auth=auth(*who)))
    assert res["ResultCode"] == "-100" and res["Message"] == "authentication failed"
    assert not reply.accepted and refusing.inbox.counts() == {}


def test_a_repeated_booking_is_stored_once_and_answered_alike(store, hooks, ctx):
    _, first = send(hooks, ctx, book_xml())
    _, second = send(hooks, ctx, book_xml())
    assert first == second and ctx.inbox.counts() == {"pending": 1}
    assert sync(store, hooks, ctx).counts.inserted == 1
    _, third = send(hooks, ctx, book_xml())
    assert third == first and ctx.inbox.counts() == {"done": 1}
    assert sync(store, hooks, ctx).counts.fetched == 0 and len(stored(store, "fliggy_push")) == 1


def test_a_cancel_is_applied_to_its_booking(store, hooks, ctx):
    send(hooks, ctx, book_xml())
    sync(store, hooks, ctx)
    _, res = send(hooks, ctx, small("CancelRQ"))
    assert res["ResultCode"] == "0" and res["TaoBaoOrderId"] == "3100000000001"
    r = sync(store, hooks, ctx)
    assert r.counts.updated == 1 and stored(store, "fliggy_push")["3100000000001"].status == "cancelled"


def test_a_cancel_before_its_booking_waits_and_is_applied_when_the_booking_arrives(store, hooks, ctx):
    send(hooks, ctx, small("CancelRQ"))
    assert sync(store, hooks, ctx).counts.fetched == 0 and ctx.inbox.counts() == {"pending": 1}
    send(hooks, ctx, book_xml())
    r = sync(store, hooks, ctx)
    assert r.counts.inserted == 1 and ctx.inbox.counts() == {"done": 2}
    assert stored(store, "fliggy_push")["3100000000001"].status == "cancelled"


def test_a_prepaid_booking_is_pending_until_payment_and_query_status_follows(store, hooks, ctx):
    send(hooks, ctx, book_xml(payment=1))
    assert send(hooks, ctx, small("QueryStatusRQ"))[1]["Status"] == "3"  # processing
    sync(store, hooks, ctx)
    assert stored(store, "fliggy_push")["3100000000001"].status == "pending"
    send(hooks, ctx, small("PaySuccessRQ"))
    assert send(hooks, ctx, small("QueryStatusRQ"))[1]["Status"] == "1"  # confirmed
    sync(store, hooks, ctx)
    assert stored(store, "fliggy_push")["3100000000001"].status == "confirmed"
    send(hooks, ctx, small("CancelRQ"))
    assert send(hooks, ctx, small("QueryStatusRQ"))[1]["Status"] == "4"  # cancelled


def test_query_status_of_an_unknown_order_is_not_found_and_stores_nothing(hooks, refusing):
    reply, res = send(hooks, refusing, small("QueryStatusRQ", tid=3199999999999))
    assert res["ResultCode"] == "-302" and not reply.accepted and refusing.inbox.counts() == {}


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<BookRQ><Comment>&lol3;</Comment></BookRQ>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<BookRQ><Comment>&x;</Comment></BookRQ>"""


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"<BookRQ><TaoBaoOrderId>1</TaoBa", "-301", "not well-formed"),
        (b"", "-301", "empty"),
        (BOMB, "-301", "DOCTYPE"),
        (XXE, "-301", "DOCTYPE"),
        (book_xml() + b"<!--" + b"x" * 300_000 + b"-->", "-400", "too large"),
    ],
    ids=["truncated", "empty", "xml-bomb", "external-entity", "oversized"],
)
def test_unsafe_or_unreadable_xml_is_refused_without_touching_the_inbox(hooks, refusing, body, code, message):
    reply, res = send(hooks, refusing, body)
    assert res["ResultCode"] == code and message in res["Message"]
    assert not reply.accepted and refusing.inbox.counts() == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (small("ValidateRQ"), "unsupported request type"),
        (small("CancelRQ", tid="ABC"), "TaoBaoOrderId"),  # type: ignore[arg-type]
        (book_xml(hotel="SH99"), "unknown hotel"),
        (book_xml(checkin="2026-02-30"), "arrival"),
        (book_xml(hotel="").replace(b"<TaoBaoHotelId>5001</TaoBaoHotelId>", b""), "HotelId: missing"),
    ],
    ids=["validate-rq", "bad-order-id", "unknown-hotel", "impossible-date", "no-hotel"],
)
def test_bad_requests_get_an_error_result_and_nothing_is_stored(hooks, refusing, body, message):
    reply, res = send(hooks, refusing, body)
    assert res["ResultCode"] == "-400" and message in res["Message"]
    assert not reply.accepted and refusing.inbox.counts() == {}


def test_the_inbox_never_holds_the_credentials(hooks, ctx):
    send(hooks, ctx, book_xml())
    [msg] = ctx.inbox.pending()
    assert PASSWORD not in msg.payload and USER not in msg.payload and "欧阳子涵" in msg.payload


def test_a_store_failure_is_a_retryable_system_error_not_an_exception(hooks, keyring, tmp_path):
    broken = Inbox(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"), keyring, "fliggy_push")
    ctx = SourceContext("fliggy_push", "fliggy", PUSH, inbox=broken)
    reply, res = send(hooks, ctx, book_xml())
    assert res["ResultCode"] == "-998" and not reply.accepted


def test_only_post_is_accepted(hooks, refusing):
    reply, _ = send(hooks, refusing, b"", method="GET")
    assert reply.status == 405 and refusing.inbox.counts() == {}


@pytest.mark.parametrize(
    ("first_guest", "expected"),
    [("欧阳子涵", {"local_name": "欧阳子涵"}), ("ZHUGE/SIQI", {"surname": "ZHUGE", "given_name": "SIQI"})],
)
def test_the_first_guest_in_han_characters_or_pinyin_names_the_profile(
    store, hooks, ctx, keyring, first_guest, expected
):
    body = book_xml().replace("<Name>欧阳子涵</Name>".encode(), f"<Name>{first_guest}</Name>".encode(), 1)
    send(hooks, ctx, body)
    sync(store, hooks, ctx)
    with store.engine.connect() as c:
        [guest] = load_guests(c, keyring)
    values = guest.records[0].values
    assert {k: values.get(k) for k in expected} == expected


def test_a_stored_booking_that_cannot_be_mapped_is_quarantined_and_acknowledged(store, hooks, ctx):
    fields = {"TaoBaoOrderId": "3100000000009", "HotelId": "HZ01", "CheckIn": "2026-12-24",
              "CheckOut": "2026-12-25", "TotalPrice": "638.5", "guests": ["王芳"]}  # fmt: skip
    payload = json.dumps({"kind": "BookRQ", "received_at": "2026-11-23T01:00:00+00:00", "fields": fields})
    ctx.inbox.put([("fliggy.BookRQ", "BookRQ:3100000000009", payload)])
    r = sync(store, hooks, ctx)
    assert r.counts.quarantined == 1 and r.counts.inserted == 0 and ctx.inbox.counts() == {"done": 1}
    with store.engine.connect() as c:
        [q] = c.execute(select(quarantine)).all()
    assert q.source_id == "3100000000009" and "TotalPrice: not an amount in fen" in q.reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("李😀娜", {"local_name": "李😀娜"}),
        ("NGUYEN/THI 🌸", {"surname": "NGUYEN", "given_name": "THI 🌸"}),
        ("Z" * 400 + "/" + "Q" * 400, {"surname": "Z" * 400, "given_name": "Q" * 400}),
    ],
    ids=["cjk-emoji", "latin-emoji", "very-long"],
)
def test_emoji_and_very_long_names_are_kept_whole(store, hooks, ctx, keyring, name, expected):
    body = book_xml().replace("<Name>欧阳子涵</Name>".encode(), f"<Name>{name}</Name>".encode(), 1)
    assert send(hooks, ctx, body)[1]["ResultCode"] == "0"
    sync(store, hooks, ctx)
    with store.engine.connect() as c:
        [guest] = load_guests(c, keyring)
    values = guest.records[0].values
    assert {k: values.get(k) for k in expected} == expected


KILLED_AFTER_RECEIVE = """
import os, signal, sys
from crmbridge.adapters.base import PushRequest
from crmbridge.plugins import load_plugins
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from crmbridge_fliggy.adapter import FliggyConfig
from plugins.fliggy.tests.conftest import source
from plugins.fliggy.tests.test_push import PUSH, book_xml

store = GuestStore.open(sys.argv[1], Keyring.from_json(sys.stdin.read(), origin="test"), upgrade=False)
reply = load_plugins().receive(source(store, PUSH, "fliggy_push"), PushRequest("POST", "/", {}, book_xml()))
print(reply.body.decode(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies after the reply, before any processing
"""


def test_a_booking_acknowledged_just_before_the_process_is_killed_is_not_lost(
    store, hooks, ctx, db_url, keyring
):
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_RECEIVE, db_url],
        input=keyring.to_json(),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL and "<ResultCode>0</ResultCode>" in proc.stdout
    assert ctx.inbox.counts() == {"pending": 1}
    r = sync(store, hooks, ctx)
    assert r.counts.inserted == 1 and ctx.inbox.counts() == {"done": 1}
