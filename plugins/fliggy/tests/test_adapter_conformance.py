"""The Fliggy adapter against crmbridge's adapter conformance suite: the TOP pull and the
direct-connect push, each as hotel IT would configure it."""

from __future__ import annotations

import json

import pytest
from crmbridge_fliggy import push
from crmbridge_fliggy.simulator import TopGatewaySimulator

from crmbridge.api import PushRequest, SourceContext
from crmbridge.plugins import load_plugins
from crmbridge.testing import AdapterConformance, Harness

from .conftest import settings
from .test_push import PASSWORD, PUSH, auth, book_xml


class TestFliggyPullConformance(AdapterConformance):
    @pytest.fixture
    def harness(self, gateway: TopGatewaySimulator) -> Harness:
        def add_bad_record(ctx: SourceContext) -> list[str]:
            bad = gateway.orders[5]
            bad["checkin_date"] = "2026-02-30"  # no such day
            return [g["name"] for g in bad["guests"]["x_order_guest"]] + [bad.get("contact_tel") or ""]

        return Harness(
            "fliggy",
            settings(gateway),
            name="fliggy_top",
            add_bad_record=add_bad_record,
            inject_faults=lambda ctx: gateway.fail_next(3),  # TOP's rate limit, code 7
            secrets=[gateway.app_secret, gateway.session_key],
        )


def _request(body: bytes) -> PushRequest:
    return PushRequest("POST", "/push/fliggy", {"content-type": "text/xml"}, body, "203.0.113.9")


class TestFliggyPushConformance(AdapterConformance):
    @pytest.fixture
    def harness(self, monkeypatch) -> Harness:
        monkeypatch.setattr(push, "BATCH", 2)  # six bookings come in three batches
        tids = [3100000000101 + i for i in range(6)]

        def push_requests() -> list[PushRequest]:
            return [_request(book_xml(tid, checkin=f"2026-12-{10 + i}")) for i, tid in enumerate(tids)]

        def bad_credential() -> PushRequest:
            return _request(book_xml(3100000000199, auth=auth(password="guessed")))

        def add_bad_record(ctx: SourceContext) -> list[str]:
            # Stored as received but not mappable: a price that is not in fen.
            fields = {"TaoBaoOrderId": "3100000000198", "HotelId": "HZ01", "CheckIn": "2026-12-24",
                      "CheckOut": "2026-12-25", "TotalPrice": "638.5", "guests": ["司马相如"]}  # fmt: skip
            doc = {"kind": "BookRQ", "received_at": "2026-11-23T01:00:00+00:00", "fields": fields}
            assert ctx.inbox is not None
            ctx.inbox.put([("fliggy.BookRQ", "BookRQ:3100000000198", json.dumps(doc, ensure_ascii=False))])
            return ["司马相如"]

        def inject_faults(ctx: SourceContext) -> None:
            hooks = load_plugins()
            hooks.receive(ctx, bad_credential())
            hooks.receive(ctx, _request(book_xml(3100000000197)[:200]))  # cut off mid-way

        return Harness(
            "fliggy",
            PUSH,
            name="fliggy_push",
            rereadable=False,
            push_requests=push_requests,
            bad_credential=bad_credential,
            add_bad_record=add_bad_record,
            inject_faults=inject_faults,
            secrets=[PASSWORD],
        )
