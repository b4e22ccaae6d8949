"""The Fliggy direct-connect push: Fliggy POSTs ``BookRQ``/``CancelRQ``/``PaySuccessRQ``/``QueryStatusRQ``.

Every request carries ``AuthenticationToken/{Username,Password}``, compared in constant time.
The XML is parsed with entity resolution, DTD loading and network access off, any DOCTYPE is
refused, and bodies over ``MAX_BODY`` are refused unread. An accepted message is committed to
the inbox (encrypted, without its credentials) *before* the reply, keyed on its kind and
``TaoBaoOrderId``, so a repeated message is stored once and answered alike. The fetch hook later
folds each order's messages into one reservation (``drain``).

Fliggy documents ``ResultCode`` 0 as success and negative codes as errors. -301 (unreadable
request) and -302 (order not found) follow a public Fliggy integration; -100 (authentication),
-400 (bad request) and -998 (system error, retry) are this adapter's own choices.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from crmbridge.api import (
    Batch,
    PushReply,
    PushRequest,
    RecordInvalid,
    Reject,
    Reservation,
    ReservationStatus,
    SourceContext,
    validate_into,
    validate_record,
)

from .mapping import Unmappable, map_booking

MAX_BODY = 256 * 1024
BOOK, CANCEL, PAY, QUERY = "BookRQ", "CancelRQ", "PaySuccessRQ", "QueryStatusRQ"
STORED = (BOOK, CANCEL, PAY)
OK, AUTH_FAILED, BAD_REQUEST, UNREADABLE, NOT_FOUND, SYSTEM_ERROR = 0, -100, -400, -301, -302, -998
# QueryStatusRQ ``Status`` values as the public integration answers them.
STATUS_CONFIRMED, STATUS_PROCESSING, STATUS_CANCELLED = "1", "3", "4"
PREPAID = "1"
BATCH = 200

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


class BadRequest(ValueError):
    def __init__(self, code: int, message: str):
        self.code = code
        super().__init__(message)


def parse(body: bytes) -> etree._Element:
    """The request's root element; raises ``BadRequest`` for anything unsafe or unreadable."""
    if len(body) > MAX_BODY:
        raise BadRequest(BAD_REQUEST, "request too large")
    if not body.strip():
        raise BadRequest(UNREADABLE, "empty request")
    try:
        tree = etree.fromstring(body, _PARSER).getroottree()
    except etree.XMLSyntaxError:
        raise BadRequest(UNREADABLE, "request is not well-formed XML") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # Nothing Fliggy sends has a DTD; one here is an entity-expansion attempt.
        raise BadRequest(UNREADABLE, "DOCTYPE is not allowed")
    return tree.getroot()


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def fields(root: etree._Element) -> dict[str, Any]:
    """The message's simple fields, guests and daily prices; the credentials are left out."""
    out: dict[str, Any] = {}
    for child in root:
        if not isinstance(child.tag, str) or child.tag == "AuthenticationToken":
            continue
        if len(child) == 0:
            out[child.tag.strip()] = _text(child)
    out["guests"] = [_text(g.find("Name")) for g in root.iterfind("OrderGuests/OrderGuest")]
    out["daily"] = [
        {"day": _text(d.find("Day")), "price": _text(d.find("Price"))}
        for d in root.iterfind("DailyInfos/DailyInfo")
    ]
    return out


def authenticated(root: etree._Element, username: str, password: str) -> bool:
    user = _text(root.find("AuthenticationToken/Username")).encode()
    pw = _text(root.find("AuthenticationToken/Password")).encode()
    # Both compared every time, so the time taken says nothing about which one was wrong.
    ok_user = hmac.compare_digest(user, username.encode())
    ok_pw = hmac.compare_digest(pw, password.encode())
    return ok_user and ok_pw


def result(code: int, message: str, **extra: str) -> PushReply:
    root = etree.Element("Result")
    etree.SubElement(root, "Message").text = message
    etree.SubElement(root, "ResultCode").text = str(code)
    for k, v in extra.items():
        etree.SubElement(root, k).text = v
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return PushReply(200, body, "text/xml; charset=utf-8")


def key(kind: str, tid: str) -> str:
    return f"{kind}:{tid}"


def _query_status(ctx: SourceContext, tid: str) -> PushReply:
    assert ctx.inbox is not None
    known = ctx.inbox.find([key(k, tid) for k in STORED])
    book = known.get(key(BOOK, tid))
    if book is None:
        return result(NOT_FOUND, "order not found")
    if key(CANCEL, tid) in known:
        status = STATUS_CANCELLED
    elif key(PAY, tid) in known or json.loads(book[1].payload)["fields"].get("PaymentType") != PREPAID:
        status = STATUS_CONFIRMED
    else:
        status = STATUS_PROCESSING
    return result(OK, "success", TaoBaoOrderId=tid, OrderId=f"FZ{book[1].id}", Status=status)


def _check_booking(ctx: SourceContext, data: dict[str, Any]) -> None:
    """Refuse a booking that could never become a reservation, before telling Fliggy it is taken."""
    try:
        mapped = map_booking(
            data, source=ctx.name, status=ReservationStatus.PENDING, updated_at=datetime.now(UTC).isoformat()
        )
        validate_record(Reservation, mapped, context={"phone_region": ctx.phone_region})
    except (Unmappable, RecordInvalid) as exc:
        raise BadRequest(BAD_REQUEST, str(exc)) from None


def receive(ctx: SourceContext, request: PushRequest) -> PushReply:
    """Answer one direct-connect request; never raises for what the sender got wrong."""
    cfg = ctx.settings
    if not cfg.push_enabled or ctx.inbox is None:
        return result(SYSTEM_ERROR, "this source does not take direct-connect pushes")
    if request.method.upper() != "POST":
        reply = result(BAD_REQUEST, "POST the request XML")
        reply.status = 405
        return reply
    try:
        root = parse(request.body)
        kind = root.tag if isinstance(root.tag, str) else ""
        if not authenticated(root, cfg.username, cfg.password):
            ctx.log.warning(
                "source %s: refused a %s with wrong credentials from %s", ctx.name, kind, request.client
            )
            return result(AUTH_FAILED, "authentication failed")
        if kind not in (*STORED, QUERY):
            raise BadRequest(BAD_REQUEST, "unsupported request type")
        data = fields(root)
        tid = data.get("TaoBaoOrderId", "")
        if not tid.isdigit():
            raise BadRequest(BAD_REQUEST, "TaoBaoOrderId is missing or not a number")
        hotel = data.get("HotelId") or data.get("TaoBaoHotelId") or ""
        if (
            cfg.hotel_ids
            and hotel
            and hotel not in cfg.hotel_ids
            and data.get("TaoBaoHotelId") not in cfg.hotel_ids
        ):
            raise BadRequest(BAD_REQUEST, "unknown hotel")
        if kind == BOOK:
            _check_booking(ctx, data)
    except BadRequest as exc:
        return result(exc.code, str(exc))
    try:
        if kind == QUERY:
            return _query_status(ctx, tid)
        payload = json.dumps(
            {"kind": kind, "received_at": datetime.now(UTC).isoformat(), "fields": data}, ensure_ascii=False
        )
        [mid] = ctx.inbox.put([(f"fliggy.{kind}", key(kind, tid), payload)])
    except Exception as exc:  # the store is down: Fliggy must retry, and the reply says so
        ctx.log.error("source %s: could not commit a %s: %s", ctx.name, kind, type(exc).__name__)
        return result(SYSTEM_ERROR, "system error, please retry")
    if kind == BOOK:
        reply = result(OK, "success", OrderId=f"FZ{mid}")
    else:
        reply = result(OK, "success", TaoBaoOrderId=tid)
    reply.accepted = [mid]
    return reply


def _status(book: dict[str, Any], kinds: set[str]) -> ReservationStatus:
    if CANCEL in kinds:
        return ReservationStatus.CANCELLED  # a cancel wins whatever order the messages came in
    if PAY in kinds or book["fields"].get("PaymentType") != PREPAID:
        return ReservationStatus.CONFIRMED
    return ReservationStatus.PENDING


def drain(ctx: SourceContext, cursor: str | None) -> Iterator[Batch[Reservation]]:
    """Pending pushed messages as reservations, one per order, acknowledged with their batch.

    A cancel or payment whose booking has not arrived stays pending and is applied when it does.
    Batches carry the pull cursor unchanged: pushes do not move it.
    """
    assert ctx.inbox is not None
    pending = ctx.inbox.pending(kinds=[f"fliggy.{k}" for k in STORED])
    by_order: dict[str, list[int]] = {}
    for m in pending:
        by_order.setdefault(m.dedupe_key.partition(":")[2], []).append(m.id)
    tids = list(by_order)
    batch: Batch[Reservation] = Batch([], cursor)
    context = {"phone_region": ctx.phone_region}
    for i in range(0, len(tids), BATCH):
        chunk = tids[i : i + BATCH]
        known = ctx.inbox.find([key(k, t) for t in chunk for k in STORED])
        for tid in chunk:
            msgs = {k: json.loads(known[key(k, tid)][1].payload) for k in STORED if key(k, tid) in known}
            if BOOK not in msgs:
                ctx.log.info("source %s: order %s has no booking yet; its messages wait", ctx.name, tid)
                continue
            book = msgs[BOOK]
            updated = max(m["received_at"] for m in msgs.values())
            raw = json.dumps(msgs, ensure_ascii=False, sort_keys=True)
            try:
                data = map_booking(
                    book["fields"], source=ctx.name, status=_status(book, set(msgs)), updated_at=updated
                )
            except Unmappable as exc:
                batch.rejects.append(Reject(tid, f"record {ctx.name}/{tid} is invalid: {exc}", raw))
            else:
                validate_into(Reservation, data, raw, batch, context)
            batch.ack.extend(by_order[tid])
        if batch.size or batch.ack:
            yield batch
            batch = Batch([], cursor)
