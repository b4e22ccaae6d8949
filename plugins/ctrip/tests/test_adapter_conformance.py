"""The Ctrip adapter against crmbridge's adapter conformance suite: orders pushed, then folded."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from crmbridge_ctrip import adapter
from crmbridge_ctrip.simulator import Credentials, Guest
from lxml import etree

from crmbridge.api import PushRequest, SourceContext
from crmbridge.plugins import load_plugins
from crmbridge.testing import AdapterConformance, Harness

from .messages import CONFIG, CREDS, messages, order

GUESTS = [
    Guest("王", "芳", pinyin=("Wang", "Fang"), phone="+86 139 0013 9000", email="wang.fang.t@example.cn"),
    Guest("ZHANG/WEI", phone="+86 138 0013 8000", email="zhang.wei.t@example.cn"),
    Guest("李", "娜", pinyin=("Li", "Na"), phone="+86 137 0013 7000"),
    Guest("SCHMIDT/EMMA", phone="+49 30 901820", email="emma.schmidt.t@example.com"),
    Guest("陈", "静", pinyin=("Chen", "Jing"), phone="+86 136 0013 6000"),
]


def _request(body: bytes) -> PushRequest:
    return PushRequest("POST", CONFIG.path, {"content-type": "text/xml"}, body, client="203.0.113.7:5000")


class TestCtripConformance(AdapterConformance):
    @pytest.fixture
    def harness(self, monkeypatch) -> Harness:
        monkeypatch.setattr(adapter, "BATCH", 2)  # five orders come in three batches
        msgs = messages()
        orders = [order(f"CT77{i:02d}", guest=g, arrival=date(2026, 12, 1 + i)) for i, g in enumerate(GUESTS)]

        def push_requests() -> list[PushRequest]:
            return [_request(msgs.order(o)) for o in orders]

        def bad_credential() -> PushRequest:
            return _request(messages(Credentials(CREDS.requestor_id, "guessed")).order(orders[0]))

        def bad_request() -> tuple[PushRequest, list[str]]:
            tree = etree.fromstring(msgs.order(replace(orders[1], order_id="CT7799")))
            next(tree.iter("{*}TimeSpan")).set("End", "2026-11-01 0:00:00")  # before the arrival
            return _request(etree.tostring(tree)), ["ZHANG", "zhang.wei.t@example.cn", "13800138000"]

        def inject_faults(ctx: SourceContext) -> None:
            # What a sender gets wrong: a wrong password, a truncated body, a hostile entity.
            hooks = load_plugins()
            hooks.receive(ctx, bad_credential())
            hooks.receive(ctx, _request(msgs.order(orders[2])[:300]))
            hooks.receive(ctx, _request(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'))

        return Harness(
            "ctrip",
            CONFIG,
            name="ctrip",
            rereadable=False,  # pushes are read once, from the inbox
            push_requests=push_requests,
            bad_credential=bad_credential,
            bad_request=bad_request,
            inject_faults=inject_faults,
            secrets=[CREDS.password],
        )
