"""The OTA replies the adapter emits validate against OpenTravel 2015B, except where Ctrip
requires otherwise; each such deviation is named by a test here."""

from __future__ import annotations

from functools import cache

import pytest
from crmbridge_ctrip.safexml import parse, unwrap
from lxml import etree

from crmbridge.adapters.base import PushRequest
from crmbridge.plugins import load_plugins
from crmbridge.store.guest_store import GuestStore
from tests.conftest import SHARED, shared_file

from .messages import CREDS, HOTEL, ctrip_source, messages, order

XSD = SHARED / "specs" / "ota-2015B"


@pytest.fixture(scope="module", autouse=True)
def _xsd_present():
    shared_file("specs/ota-2015B/OTA_HotelResRS.xsd")


@cache
def schema(root: str) -> etree.XMLSchema:
    # The schemas are trusted local files that include each other: a plain parser, no network.
    return etree.XMLSchema(etree.parse(str(XSD / f"{root}.xsd"), etree.XMLParser(no_network=True)))


def check(el: etree._Element, root: str) -> list[str]:
    s = schema(root)
    s.validate(el)
    return [e.message for e in s.error_log]


@pytest.fixture(scope="module")
def answer(tmp_path_factory):
    """Send one request to the adapter and get the OTA element of its reply."""
    from crmbridge.store.crypto import Keyring

    store = GuestStore.open(f"sqlite:///{tmp_path_factory.mktemp('xsd') / 's.db'}", Keyring.generate("t"))
    ctx, hooks = ctrip_source(store), load_plugins()

    def _answer(body: bytes) -> etree._Element:
        return unwrap(parse(hooks.receive(ctx, PushRequest("POST", "/", {}, body)).body)).message

    yield _answer
    store.close()


def _without(el: etree._Element, tag: str) -> etree._Element:
    for child in el.findall(f"{{*}}{tag}"):
        el.remove(child)
    return el


def test_the_success_reply_to_a_new_order_is_valid_ota(answer):
    assert check(answer(messages().order(order("CT5001"))), "OTA_HotelResRS") == []


def test_the_duplicate_warning_reply_is_valid_ota(answer):
    answer(messages().order(order("CT5002")))
    reply = answer(messages().order(order("CT5002")))
    assert reply.find("{*}Warnings/{*}Warning").get("Code") == "127"
    assert check(reply, "OTA_HotelResRS") == []


def test_the_cancel_reply_is_valid_ota(answer):
    answer(messages().order(order("CT5003")))
    assert check(answer(messages().cancel("CT5003", HOTEL)), "OTA_CancelRS") == []


def test_deviation_error_hotel_res_rs_carries_res_status_r_after_errors(answer):
    bad = messages(CREDS.__class__(CREDS.requestor_id, "nope")).order(order("CT5004"))
    reply = answer(bad)
    assert reply.find("{*}HotelReservations/{*}HotelReservation").get("ResStatus") == "R"
    assert any("HotelReservations" in e for e in check(reply, "OTA_HotelResRS"))
    assert check(_without(reply, "HotelReservations"), "OTA_HotelResRS") == []


def test_deviation_error_cancel_rs_echoes_the_unique_id_after_errors(answer):
    reply = answer(messages(CREDS.__class__("x", "y")).cancel("CT5005", HOTEL))
    assert reply.find("{*}UniqueID").get("ID") == "CT5005"
    assert any("UniqueID" in e for e in check(reply, "OTA_CancelRS"))
    assert check(_without(reply, "UniqueID"), "OTA_CancelRS") == []


def test_deviation_ctrip_answers_read_with_ota_read_rs_which_opentravel_does_not_define(answer):
    answer(messages().order(order("CT5006")))
    reply = answer(messages().read("CT5006"))
    assert etree.QName(reply).localname == "OTA_ReadRS"
    declared = [p.name for p in XSD.glob("*.xsd") if 'name="OTA_ReadRS"' in p.read_text(encoding="utf-8")]
    assert declared == []
    # Its content is OTA_HotelResRS's (which OpenTravel documents as the answer to OTA_ReadRQ).
    reply.tag = reply.tag.replace("OTA_ReadRS", "OTA_HotelResRS")
    assert check(reply, "OTA_HotelResRS") == []


def test_the_modify_reply_has_no_schema_in_the_shared_2015b_closure(answer):
    reply = answer(messages().modify(order("CT5001", nights=3)))
    assert etree.QName(reply).localname == "OTA_HotelResModifyRS"
    assert not (XSD / "OTA_HotelResModifyRS.xsd").exists()
    assert reply.find("{*}Success") is not None
    assert reply.find("{*}HotelResModifies/{*}HotelResModify").get("ResStatus") == "S"
