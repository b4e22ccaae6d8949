"""Ctrip's receiver under an attacker's and a busy channel manager's load: simultaneous copies
of one order, a forged X-Forwarded-For, fields over OpenTravel's limits, order numbers that
differ only in case, and an empty configured password."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from crmbridge_ctrip.simulator import Credentials, CtripClient, Guest, Outcome

from crmbridge.adapters.base import PushRequest
from crmbridge.config import ReceiverConfig
from crmbridge.plugins import load_plugins
from crmbridge.receiver import PushRoute, Receiver
from crmbridge.store.guest_store import GuestStore

from .messages import CONFIG, CREDS, ctrip_source, messages, order

SOAP = {"Content-Type": "text/xml; charset=utf-8"}
DUPLICATE = ("3", "127")


def _receiver(store: GuestStore, **settings: object) -> Receiver:
    hooks = load_plugins()
    route = PushRoute(CONFIG.path, ctrip_source(store), hooks.adapter_type("ctrip"))
    return Receiver(store, hooks, [route], ReceiverConfig(port=0, retry_seconds=0.2, **settings))


@pytest.fixture
def receiver(store) -> Iterator[Receiver]:
    with _receiver(store) as r:
        yield r


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> Outcome:
    resp = httpx.post(url + CONFIG.path, content=body, headers={**SOAP, **(headers or {})}, timeout=30)
    return Outcome.read(resp.status_code, resp.content)


def test_simultaneous_copies_of_an_order_store_one_message_and_only_the_first_gets_plain_success(
    store, receiver
):
    pairs, copies = 20, 4
    bodies = [messages().order(order(f"CT77{n:04d}")) for n in range(pairs)]
    barrier = Barrier(copies)

    def send(body: bytes) -> Outcome:
        with CtripClient(receiver.url + CONFIG.path, retries=1) as client:
            barrier.wait(10)  # the copies of one order leave together
            return client.send(body)

    outcomes: list[list[Outcome]] = []
    with ThreadPoolExecutor(copies) as pool:
        for body in bodies:
            outcomes.append(list(pool.map(send, [body] * copies)))
    for got in outcomes:
        assert not [o.errors for o in got if o.errors], "a copy got an error (448?)"
        assert all(o.success and o.res_status == "S" for o in got)
        assert sorted(DUPLICATE in o.warnings for o in got) == [False] + [True] * (copies - 1)
        assert len({o.hotel_ref for o in got}) == 1
    assert sum(store.inbox("ctrip").counts().values()) == pairs


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_x_forwarded_for_from_an_untrusted_peer_is_ignored_in_the_log(store, receiver, caplog):
    caplog.set_level(logging.WARNING)
    wrong = messages(Credentials(CREDS.requestor_id, "not-the-password")).order(order())
    out = _post(receiver.url, wrong, {"X-Forwarded-For": "203.0.113.9"})
    assert ("4", "497") in out.errors
    [line] = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert "127.0.0.1" in line and "203.0.113.9" not in line


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_x_forwarded_for_from_a_trusted_proxy_names_the_real_client(store, caplog):
    caplog.set_level(logging.WARNING)
    wrong = messages(Credentials(CREDS.requestor_id, "not-the-password")).order(order())
    with _receiver(store, trusted_proxies=["127.0.0.1"]) as r:
        _post(r.url, wrong, {"X-Forwarded-For": "203.0.113.9"})
    [line] = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert "203.0.113.9" in line


def _send_in_process(store: GuestStore, body: bytes, ctx=None) -> Outcome:
    ctx = ctx or ctrip_source(store)
    reply = load_plugins().receive(ctx, PushRequest("POST", CONFIG.path, {}, body, client="203.0.113.7:5000"))
    return Outcome.read(reply.status, reply.body)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("guest", "field"),
    [
        (Guest("王", "芳" * 65), "PersonName/GivenName"),
        (Guest("Zhang" * 13, "Wei"), "PersonName/Surname"),
        (Guest("李", "娜", phone="1" * 33), "Telephone/@PhoneNumber"),
        (Guest("Müller", "Anna", email="a" * 120 + "@example.de"), "Customer/Email"),
    ],
)
def test_a_field_over_its_opentravel_limit_gets_450_naming_the_field_and_nothing_is_stored(
    store, guest, field
):
    body = messages().order(order("CT8801", guest=guest))
    reply = load_plugins().receive(ctrip_source(store), PushRequest("POST", CONFIG.path, {}, body))
    out = Outcome.read(reply.status, reply.body)
    assert (out.errors, out.success) == ([("3", "450")], False)
    assert f"{field} is longer than" in reply.body.decode()
    assert store.inbox("ctrip").counts() == {}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_450_reply_names_the_field_not_its_value(store):
    given = "芳" * 65
    ctx = ctrip_source(store)
    body = messages().order(order("CT8802", guest=Guest("王", given)))
    reply = load_plugins().receive(ctx, PushRequest("POST", CONFIG.path, {}, body))
    text = reply.body.decode()
    assert "PersonName/GivenName is longer than 64 characters" in text and given not in text


def test_order_numbers_differing_only_in_case_are_two_orders_on_both_backends(store):
    first = _send_in_process(store, messages().order(order("ORD7A")))
    second = _send_in_process(store, messages().order(order("ord7a", arrival=order().arrival)))
    assert first.success and second.success
    assert DUPLICATE not in second.warnings and first.hotel_ref != second.hotel_ref
    read = _send_in_process(store, messages().read("ord7a"))
    assert read.success and read.hotel_ref == second.hotel_ref
    assert [m.dedupe_key for _, m in store.inbox("ctrip").history("ord7a|")] == ["ord7a|order"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_empty_configured_password_accepts_nobody_even_if_it_reaches_the_adapter(store):
    ctx = ctrip_source(store)
    ctx.settings = ctx.settings.model_copy(update={"message_password": ""})
    for creds in (Credentials(CREDS.requestor_id, ""), CREDS):
        out = _send_in_process(store, messages(creds).order(order("CT8803")), ctx)
        assert ("4", "497") in out.errors
    assert store.inbox("ctrip").counts() == {}
