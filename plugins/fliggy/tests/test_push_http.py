"""The Fliggy direct-connect push end to end over real HTTP: the core receiver, the inbox, the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from crmbridge.config import Config, ReceiverConfig, SourceConfig, StoreConfig
from crmbridge.receiver import PushRoute, Receiver, push_sources
from tests.receiver_helpers import count_reservations, reservation_row, wait_for

from .conftest import source
from .test_push import PASSWORD, PUSH, USER, auth, book_xml, small

PATH = "/push/fliggy"


@pytest.fixture
def receiver(store, hooks) -> Iterator[Receiver]:
    ctx = source(store, PUSH, "fliggy_push")
    route = PushRoute(PATH, ctx, hooks.adapter_type("fliggy"))
    with Receiver(store, hooks, [route], ReceiverConfig(port=0, retry_seconds=0.2)) as r:
        yield r


def post(r: Receiver, body: bytes) -> dict[str, str]:
    resp = httpx.post(
        r.url + PATH, content=body, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    return {child.tag: child.text or "" for child in etree.fromstring(resp.content)}


def test_a_pushed_booking_lands_once_and_its_cancel_is_applied(store, receiver):
    first = post(receiver, book_xml())
    assert first["ResultCode"] == "0"
    wait_for(lambda: reservation_row(store, "fliggy_push", "3100000000001"), what="the booking in the store")
    assert post(receiver, book_xml()) == first  # Fliggy's retry of the same order
    assert post(receiver, small("CancelRQ"))["ResultCode"] == "0"
    wait_for(
        lambda: reservation_row(store, "fliggy_push", "3100000000001").status == "cancelled",
        what="the cancel applied",
    )
    assert count_reservations(store, "fliggy_push") == 1
    assert store.inbox("fliggy_push").counts() == {"done": 2}


def test_a_wrong_password_over_http_is_refused_and_nothing_is_stored(store, receiver):
    res = post(receiver, book_xml(auth=auth(USER, PASSWORD + "x")))
    assert res["ResultCode"] == "-100"
    assert store.inbox("fliggy_push").counts() == {} and count_reservations(store, "fliggy_push") == 0


def test_a_pull_only_fliggy_source_gets_no_receiver_route(sqlite_store, hooks):
    cfg = Config(path=Path("crmbridge.toml"), store=StoreConfig())
    pull = {
        "gateway_url": "http://127.0.0.1:9/router/rest",
        "app_key": "k",
        "app_secret": "s",
        "session_key": "t",
    }
    push = {"username": USER, "password": PASSWORD, "path": PATH}
    cfg.sources["top"] = SourceConfig("top", "fliggy", None, pull)
    cfg.sources["direct"] = SourceConfig("direct", "fliggy", None, push)
    assert [(r.path, r.ctx.name) for r in push_sources(cfg, hooks, sqlite_store)] == [(PATH, "direct")]
