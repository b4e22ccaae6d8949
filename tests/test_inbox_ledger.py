"""The durable inbox and the push ledger: the core's guarantees for push sources and PMS write-back."""

from __future__ import annotations

import hmac
import json

import pytest
from sqlalchemy import select

from crmbridge.adapters.base import (
    AdapterConfig,
    AdapterType,
    Batch,
    PushReply,
    PushRequest,
    SourceContext,
)
from crmbridge.engine.sync import SyncEngine
from crmbridge.hookspecs import hookimpl
from crmbridge.models import Alert, GuestProfile
from crmbridge.plugins import load_plugins
from crmbridge.store.inbox import Inbox
from crmbridge.store.schema import inbox

from .factories import reservation


def test_inbox_put_is_idempotent_on_the_dedupe_key_and_encrypted(store):
    box = store.inbox("ctrip")
    [a] = box.put([("ctrip.OTA_HotelResRQ", "order:9001", '{"guest": "李娜"}')])
    [b] = box.put([("ctrip.OTA_HotelResRQ", "order:9001", '{"guest": "李娜"}')])
    assert a == b
    [msg] = box.pending()
    assert msg.payload == '{"guest": "李娜"}'
    with store.engine.connect() as c:
        raw = bytes(c.execute(select(inbox.c.payload_ct)).scalar_one())
    assert "李娜".encode() not in raw


def test_failed_message_stays_pending_for_retry(store):
    box = store.inbox("ctrip")
    [mid] = box.put([("k", "order:1", "{}")])
    box.mark_failed(mid, "KeyError: 'RoomStays'")
    [msg] = box.pending()
    assert msg.id == mid and msg.attempts == 1


class InboxAdapter:
    """Consumes its inbox: one reservation per message, acknowledged with the batch."""

    class Config(AdapterConfig):
        pass

    def __init__(self, fail_after_yield: bool = False) -> None:
        self.fail = fail_after_yield

    @hookimpl
    def crmbridge_adapter_types(self):
        return [AdapterType("inboxed", self.Config, {"reservations"}, fetch={"reservations": self._fetch})]

    def _fetch(self, source, cursor, full):
        for msg in source.inbox.pending():
            yield Batch([reservation(msg.dedupe_key, source=source.name)], cursor=None, ack=[msg.id])
            if self.fail:
                raise ConnectionError("lost the PMS")


def _ctx(store, hooks):
    from crmbridge.adapters.base import SourceContext

    ctx = SourceContext("ota", "inboxed", InboxAdapter.Config())
    ctx.inbox = store.inbox("ota")
    return ctx


def test_messages_are_marked_done_with_the_batch_that_used_them(store):
    hooks = load_plugins(extra=[InboxAdapter()])
    ctx = _ctx(store, hooks)
    ctx.inbox.put([("order", "C-1", "{}"), ("order", "C-2", "{}")])
    [r] = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("inboxed"))
    assert r.counts.inserted == 2
    assert ctx.inbox.pending() == [] and ctx.inbox.counts() == {"done": 2}


def test_a_crash_after_one_batch_leaves_the_rest_pending(store):
    hooks = load_plugins(extra=[InboxAdapter(fail_after_yield=True)])
    ctx = _ctx(store, hooks)
    ctx.inbox.put([("order", "C-1", "{}"), ("order", "C-2", "{}")])
    [r] = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("inboxed"))
    assert r.status == "failed" and "lost the PMS" in r.error
    assert [m.dedupe_key for m in ctx.inbox.pending()] == ["C-2"]


def _alert(text: str = "素食 / vegetarian") -> Alert:
    return Alert(
        target="reservation", pms_source="opera", pms_id="RSV-88", code="CRM", text=text, rule="diet"
    )


def test_ledger_fingerprint_changes_only_with_content(store):
    ledger = store.ledger("opera")
    assert ledger.fingerprint(_alert()) == ledger.fingerprint(_alert())
    assert ledger.fingerprint(_alert()) != ledger.fingerprint(_alert("无麸质 / gluten free"))


def test_ledger_keeps_one_slot_per_target_and_rule(store):
    ledger = store.ledger("opera")
    ledger.record(_alert(), "sent", external_id="A-1")
    ledger.record(_alert("无麸质 / gluten free"), "sent", external_id="A-2")
    [entry] = ledger.entries()
    assert entry.external_id == "A-2"
    assert entry.fingerprint == ledger.fingerprint(_alert("无麸质 / gluten free"))
    ledger.retire("reservation", "RSV-88", "diet")
    assert ledger.get("reservation", "RSV-88", "diet").status == "retired"


def test_guest_profile_model_is_importable_for_plugins():
    assert GuestProfile.model_fields["local_name"]


class EchoPush:
    """A push adapter: a shared-secret header, one message per request, a JSON reply."""

    class Config(AdapterConfig):
        path: str = "/push/echo"

    @hookimpl
    def crmbridge_adapter_types(self):
        return [
            AdapterType(
                "echo", self.Config, {"receive", "reservations"},
                fetch={"reservations": lambda source, cursor, full: iter(())}, receive=self.receive,
            )
        ]  # fmt: skip

    def receive(self, source, request):
        if not hmac.compare_digest(request.headers.get("x-token", ""), "s3cret"):
            return PushReply(401, b'{"ok": false, "error": "bad token"}', "application/json")
        order = json.loads(request.body)
        ids = source.inbox.put([("order", order["order_id"], request.body.decode())])
        return PushReply(200, b'{"ok": true}', "application/json", accepted=ids)


def test_receive_hook_commits_to_the_inbox_before_replying_and_refuses_a_bad_token(store):
    hooks = load_plugins(extra=[EchoPush()])
    ctx = SourceContext("ota_push", "echo", EchoPush.Config(), inbox=store.inbox("ota_push"))
    body = json.dumps({"order_id": "CT-20261123-01", "guest": "李娜"}, ensure_ascii=False).encode()
    bad = hooks.receive(ctx, PushRequest("POST", "/push/echo", {"x-token": "guess"}, body))
    assert bad.status == 401 and ctx.inbox.counts() == {}
    ok = hooks.receive(ctx, PushRequest("POST", "/push/echo", {"x-token": "s3cret"}, body))
    again = hooks.receive(ctx, PushRequest("POST", "/push/echo", {"x-token": "s3cret"}, body))
    assert ok.status == 200 and ok.accepted == again.accepted
    assert ctx.inbox.counts() == {"pending": 1}
    with pytest.raises(LookupError, match="does not receive pushes"):
        hooks.receive(SourceContext("legacy", "file", None), PushRequest("POST", "/", {}, b""))


def test_inbox_history_lists_every_status_by_key_prefix_without_wildcards(store):
    box = store.inbox("ctrip")
    [order, cancel, _other] = box.put(
        [("o", "CT_1|order", "{}"), ("c", "CT_1|cancel", "{}"), ("o", "CTX1|order", "{}")]
    )
    with store.engine.begin() as conn:
        Inbox.mark_done(conn, [order])
    history = box.history("CT_1|")  # "_" is literal here, not LIKE's any-character
    assert [(status, m.id) for status, m in history] == [("done", order), ("pending", cancel)]


def test_inbox_find_returns_messages_by_key_whatever_their_status(store):
    box = store.inbox("fliggy_push")
    [book, cancel] = box.put([("BookRQ", "BookRQ:31", '{"n": 1}'), ("CancelRQ", "CancelRQ:31", '{"n": 2}')])
    with store.transaction() as w:
        box.mark_done(w.conn, [book])
    found = box.find(["BookRQ:31", "CancelRQ:31", "PaySuccessRQ:31"])
    assert {k: (s, m.id, m.payload) for k, (s, m) in found.items()} == {
        "BookRQ:31": ("done", book, '{"n": 1}'),
        "CancelRQ:31": ("pending", cancel, '{"n": 2}'),
    }
    assert store.inbox("other").find(["BookRQ:31"]) == {}
