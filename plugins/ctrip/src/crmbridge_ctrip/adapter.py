"""Hook implementations for `type = "ctrip"`: receive Ctrip's pushes, turn them into records.

`crmbridge_receive` answers each request synchronously: it authenticates, checks the hotel
and the message, commits accepted messages to the inbox and only then replies. The fetch hook
later folds each order's messages (the order, its modifications, its cancel) into one
Reservation; a cancel or modification that came before its order waits in the inbox.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import Field

from crmbridge.api import (
    AdapterConfig,
    AdapterType,
    Batch,
    DemoSource,
    Inbox,
    InboxMessage,
    PushReply,
    PushRequest,
    RecordInvalid,
    Reservation,
    SourceContext,
    hookimpl,
    validate_into,
    validate_record,
)

from .mapping import parse_time, reservation_data
from .messages import (
    BadRequest,
    CtripRequest,
    Kind,
    read_request,
    reply_root_for,
    reservations,
    root_name_hint,
)
from .messages import strip_password as stored_form
from .replies import (
    AUTH_FAILED,
    CONTENT_TYPE,
    DUPLICATE_WARNING,
    NOT_FOUND,
    SYSTEM_ERROR,
    UNKNOWN_HOTEL,
    OtaError,
    Reply,
    hotel_ref,
    unable,
)
from .safexml import UnsafeXml, parse

TYPE = "ctrip"
KIND = {Kind.ORDER: "ctrip.order", Kind.MODIFY: "ctrip.modify", Kind.CANCEL: "ctrip.cancel"}
BATCH = 50  # records per transaction: small, so an order is readable soon after it arrives
PAGE = 1000  # pending messages read at a time


class CtripConfig(AdapterConfig):
    hotel_code: str = Field(description="the hotel's code at Ctrip (BasicPropertyInfo HotelCode)")
    requestor_id: str = Field(description="POS/Source/RequestorID ID that Ctrip sends")
    message_password: str = Field(description="RequestorID MessagePassword; give it as ${env:…}/${file:…}")
    path: str = Field(default="/ota/ctrip", description="the receiver route Ctrip posts to")


# -- receiving ---------------------------------------------------------------------------------


def _reply(reply: Reply, soap: bool = True, accepted: list[int] | None = None) -> PushReply:
    # HTTP 200 even for errors: Ctrip reads the outcome from the OTA response.
    return PushReply(200, reply.body(soap), CONTENT_TYPE, accepted or [])


def error_reply(
    root: str,
    err: OtaError,
    *,
    echo: str | None = None,
    order_id: str | None = None,
    soap: bool = True,
    hotel_code: str | None = None,
) -> PushReply:
    reply = Reply(root, echo).error(err)
    if root in ("OTA_HotelResRS", "OTA_HotelResModifyRS"):
        reply.reservation("R", order_id, None, hotel_code)  # Ctrip wants ResStatus="R" with the error
    elif root == "OTA_CancelRS":
        reply.root.set("Status", "Ignored")
        reply.unique_ids(order_id, None)
    return _reply(reply, soap)


def _authenticated(req: CtripRequest, cfg: CtripConfig) -> bool:
    # Both comparisons always run, in constant time: no early exit tells which one failed.
    id_ok = hmac.compare_digest(req.requestor_id.encode(), cfg.requestor_id.encode())
    pw_ok = hmac.compare_digest(req.password.encode(), cfg.message_password.encode())
    # Never a match on nothing: an unset password is a configuration error caught at load.
    configured = bool(cfg.message_password.strip())
    return id_ok & pw_ok & configured


def _modify_key(inbox: Inbox, order_id: str, reservation: etree._Element) -> str:
    # A keyed digest of the content: a resent modification is stored once, and the key
    # (stored in clear) reveals nothing about the guest.
    content = etree.tostring(reservation, method="c14n").decode()
    digest = inbox.keyring.blind_index(content, table="inbox", index="ctrip_modify").hex()[:32]
    return f"{order_id}|modify|{digest}"


def _history(inbox: Inbox, order_id: str) -> dict[str, list[tuple[str, InboxMessage]]]:
    by_part: dict[str, list[tuple[str, InboxMessage]]] = {}
    for status, msg in inbox.history(f"{order_id}|"):
        by_part.setdefault(msg.dedupe_key.split("|")[1], []).append((status, msg))
    return by_part


def _check_mapping(source: SourceContext, req: CtripRequest, res: etree._Element) -> None:
    data = reservation_data(
        res,
        source=source.name,
        order_id=req.order_id or "",
        hotel_code=req.hotel_code or source.settings.hotel_code,
        phone_region=source.phone_region,
    )
    validate_record(Reservation, data, context={"phone_region": source.phone_region})


def _accept(source: SourceContext, req: CtripRequest) -> PushReply:
    inbox = source.inbox
    assert inbox is not None, "the receiver sets the inbox"
    oid = req.order_id
    assert oid is not None
    root = reply_root_for(req.kind.value)
    hotel = source.settings.hotel_code
    prior = _history(inbox, oid)
    order_ids = [m.id for _, m in prior.get("order", [])]
    if req.kind is Kind.READ:
        if not prior:
            return error_reply(root, NOT_FOUND, echo=req.echo_token, order_id=oid, soap=req.soap)
        status = "C" if "cancel" in prior else "S"
        reply = Reply(root, req.echo_token, req.version).success()
        reply.reservation(status, oid, hotel_ref(order_ids[0]) if order_ids else None, hotel)
        return _reply(reply, req.soap)
    payload = stored_form(req.message).decode()
    if req.kind is Kind.CANCEL:
        [mid] = inbox.put([(KIND[Kind.CANCEL], f"{oid}|cancel", payload)])
        reply = Reply(root, req.echo_token, req.version)
        reply.root.set("Status", "Cancelled")
        reply.success().unique_ids(oid, hotel_ref(order_ids[0]) if order_ids else None)
        return _reply(reply, req.soap, [mid])
    [res] = reservations(req.message)[:1] or [None]
    if res is None:
        err = unable("no HotelReservation")
        return error_reply(root, err, echo=req.echo_token, order_id=oid, soap=req.soap)
    try:
        _check_mapping(source, req, res)
    except (BadRequest, RecordInvalid) as exc:
        reason = str(exc).split(" is invalid: ", 1)[-1]  # field paths and messages, no values
        return error_reply(root, unable(reason), echo=req.echo_token, order_id=oid, soap=req.soap)
    if req.kind is Kind.ORDER:
        # Whether this copy stored the order decides the warning: a history read before the
        # insert would tell two simultaneous copies that each was the first.
        [(mid, new)] = inbox.put_new([(KIND[Kind.ORDER], f"{oid}|order", payload)])
        reply = Reply(root, req.echo_token, req.version).success()
        if not new:
            reply.warning(*DUPLICATE_WARNING)
        reply.reservation("S", oid, hotel_ref(mid), hotel)
        return _reply(reply, req.soap, [mid])
    [mid] = inbox.put([(KIND[Kind.MODIFY], _modify_key(inbox, oid, res), payload)])
    reply = Reply(root, req.echo_token, req.version).success()
    reply.reservation("S", oid, hotel_ref(order_ids[0]) if order_ids else None, hotel)
    return _reply(reply, req.soap, [mid])


def receive(source: SourceContext, request: PushRequest) -> PushReply:
    cfg: CtripConfig = source.settings
    hint = reply_root_for(root_name_hint(request.body))
    try:
        req = read_request(request.body)
    except (UnsafeXml, BadRequest) as exc:
        source.log.warning("ctrip source %s: refused a request from %s: %s", source.name, request.client, exc)
        return error_reply(hint, unable(str(exc)))
    root = reply_root_for(req.kind.value)
    if not _authenticated(req, cfg):
        source.log.warning("ctrip source %s: authentication failed from %s", source.name, request.client)
        return error_reply(root, AUTH_FAILED, echo=req.echo_token, order_id=req.order_id, soap=req.soap)
    if req.hotel_code is not None and req.hotel_code != cfg.hotel_code:
        return error_reply(root, UNKNOWN_HOTEL, echo=req.echo_token, order_id=req.order_id, soap=req.soap)
    if req.order_id is None:
        err = unable("no Ctrip order number (UniqueID Type 501)")
        return error_reply(root, err, echo=req.echo_token, soap=req.soap)
    try:
        return _accept(source, req)
    except Exception as exc:  # the store is unreachable: Ctrip retries on a system error
        source.log.error(
            "ctrip source %s: could not store a %s: %s", source.name, req.kind, type(exc).__name__
        )
        return error_reply(root, SYSTEM_ERROR, echo=req.echo_token, order_id=req.order_id, soap=req.soap)


# -- processing --------------------------------------------------------------------------------


class _Waiting(Exception):
    """The order has not arrived yet: its cancel or modification stays pending."""


def _fold(
    source: SourceContext, order_id: str, known: list[InboxMessage] | None = None
) -> tuple[dict[str, Any], str, list[int]]:
    """The order's current state from all its messages: the latest full payload (the order,
    or its newest modification), cancelled if a cancel was received. `known` is the order's
    complete message list when the caller has it; otherwise it is read from the inbox.

    Also returns the ids of the pending messages it used: they are acknowledged with the
    record, including ones that arrived after the caller's page was read. Otherwise an order
    folded here would stay pending and later be folded alone, without its cancel."""
    assert source.inbox is not None
    latest: tuple[InboxMessage, etree._Element] | None = None
    have_order = cancelled = False
    times: list[datetime] = []
    created: datetime | None = None
    if known is not None:
        history, used = known, [m.id for m in known]
    else:
        statuses = source.inbox.history(f"{order_id}|")
        history = [m for _, m in statuses]
        used = [m.id for status, m in statuses if status == "pending"]
    for msg in history:
        el = parse(msg.payload.encode())
        ts = parse_time(el.get("TimeStamp"))
        if ts is not None:
            times.append(ts)
        if msg.kind == KIND[Kind.ORDER]:
            have_order, created = True, ts
            if latest is None or latest[0].kind != KIND[Kind.MODIFY]:
                latest = (msg, el)
        elif msg.kind == KIND[Kind.MODIFY]:
            latest = (msg, el)  # a modification is a full resend and outranks the order
        elif msg.kind == KIND[Kind.CANCEL]:
            cancelled = True
    if not have_order or latest is None:
        raise _Waiting
    msg, el = latest
    [res] = reservations(el)[:1]
    codes = {b.get("HotelCode") for b in res.iter("{*}BasicPropertyInfo")} - {None}
    data = reservation_data(
        res,
        source=source.name,
        order_id=order_id,
        hotel_code=codes.pop() if len(codes) == 1 else source.settings.hotel_code,
        phone_region=source.phone_region,
        cancelled=cancelled,
        created_at=created,
        updated_at=max(times) if times else None,
    )
    return data, msg.payload, used


def _describe(exc: Exception) -> str:
    # Our own exceptions name fields only; others may quote data, so only their type is kept.
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, BadRequest | UnsafeXml) else type(exc).__name__


def _pending_by_order(inbox: Inbox) -> Iterator[tuple[str, list[InboxMessage], bool]]:
    """Pending messages grouped by Ctrip order, page by page, so that cancels waiting for
    orders that never came cannot crowd out what arrived after them. The flag says whether
    the group is the order's whole history: its order message is still pending (so nothing
    of it was processed before: a fold acknowledges every pending message it used, the
    order included) and the page held every pending message."""
    after, seen = 0, set()
    order_kind = KIND[Kind.ORDER]
    while page := inbox.pending(kinds=list(KIND.values()), limit=PAGE, after_id=after):
        after = page[-1].id
        groups: dict[str, list[InboxMessage]] = {}
        for msg in page:
            groups.setdefault(msg.dedupe_key.split("|", 1)[0], []).append(msg)
        for order_id, msgs in groups.items():
            # An order split across two pages is folded once, from its full history; the
            # messages of the later page stay pending until the next run.
            if order_id not in seen:
                seen.add(order_id)
                whole = len(page) < PAGE and any(m.kind == order_kind for m in msgs)
                yield order_id, msgs, whole


def fetch(source: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Reservation]]:
    inbox = source.inbox
    if inbox is None:
        raise RuntimeError("the ctrip adapter reads its inbox: run it against a store")
    context = {"phone_region": source.phone_region}
    batch: Batch[Reservation] = Batch([], None)
    for order_id, msgs, whole in _pending_by_order(inbox):
        try:
            data, raw, used = _fold(source, order_id, msgs if whole else None)
        except _Waiting:
            continue
        except Exception as exc:
            source.log.warning("ctrip source %s: order %s failed: %s", source.name, order_id, _describe(exc))
            for m in msgs:
                inbox.mark_failed(m.id, _describe(exc))
            continue
        batch.ack += list(dict.fromkeys([m.id for m in msgs] + used))
        validate_into(Reservation, data, raw, batch, context)
        if batch.size >= BATCH:
            yield batch
            batch = Batch([], None)
    if batch.size or batch.ack:
        yield batch


def check(source: SourceContext) -> str:
    return f"receives Ctrip pushes on {source.settings.path} for hotel {source.settings.hotel_code}"


CTRIP = AdapterType(
    TYPE,
    CtripConfig,
    {"receive", "reservations"},
    "Ctrip / Trip.com direct connect: OTA reservations pushed over SOAP",
    check,
    fetch={"reservations": fetch},
    receive=receive,
)


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [CTRIP]


@hookimpl
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    """A Ctrip source whose simulator replays the scripted stream into the demo's receiver."""
    from .simulator import Credentials, run, scripted_stream

    creds = Credentials("ctrip-demo", secrets.token_urlsafe(16))  # a fresh secret per demo run
    hotel = "SHA01"
    options = {
        "hotel_code": hotel,
        "requestor_id": creds.requestor_id,
        "message_password": creds.password,
        "path": "/ota/ctrip",
    }

    def send(url: str) -> None:
        outcomes = run(url, scripted_stream(creds, hotel, date.today() + timedelta(days=14)))
        refused = [step.label for step, outcome in outcomes if any(c == "497" for _, c in outcome.errors)]
        print(
            f"  ctrip sent {len(outcomes)} messages; {len(refused)} with a wrong password on purpose, "
            "refused and stored nowhere: the 'authentication failed' warning above is that one, expected"
        )

    return [DemoSource("ctrip", TYPE, options, sender=send)]
