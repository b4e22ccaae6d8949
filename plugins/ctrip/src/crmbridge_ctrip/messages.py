"""What a Ctrip request is: its kind, credentials, order id and hotel code, found leniently."""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree

from .safexml import attr, local, parse, unwrap

CTRIP_ORDER = "501"  # UniqueID / ResID type of a Ctrip order number
HOTEL_CONFIRMATION = "502"
HOTEL_CODE = "10"
MAX_ID_LENGTH = 64


class Kind(StrEnum):
    ORDER = "OTA_HotelResRQ"
    MODIFY = "OTA_HotelResModifyRQ"
    CANCEL = "OTA_CancelRQ"
    READ = "OTA_ReadRQ"


# The reply root for each request root; Ctrip answers OTA_ReadRQ with its own OTA_ReadRS.
REPLY_ROOT = {
    Kind.ORDER: "OTA_HotelResRS",
    Kind.MODIFY: "OTA_HotelResModifyRS",
    Kind.CANCEL: "OTA_CancelRS",
    Kind.READ: "OTA_ReadRS",
}


class BadRequest(ValueError):
    """A well-formed message we cannot take; the text names fields, never values."""


@dataclass
class CtripRequest:
    kind: Kind
    message: etree._Element
    soap: bool
    soap_ns: str
    echo_token: str | None
    version: str | None
    timestamp: str | None
    requestor_id: str
    password: str
    order_id: str | None
    hotel_code: str | None


def reply_root_for(root_name: str | None) -> str:
    try:
        return REPLY_ROOT[Kind(root_name)]
    except ValueError:
        if root_name and root_name.endswith("RQ"):
            return root_name[:-2] + "RS"
        return "OTA_HotelResRS"


def reservations(message: etree._Element) -> list[etree._Element]:
    """HotelReservation elements of a new order, or HotelResModify ones of a modification."""
    found = message.findall("{*}HotelReservations/{*}HotelReservation")
    return found or message.findall("{*}HotelResModifies/{*}HotelResModify")


def _order_id(kind: Kind, message: etree._Element) -> str | None:
    candidates: list[str | None] = []
    if kind is Kind.READ:
        for uid in message.iterfind("{*}ReadRequests/{*}ReadRequest/{*}UniqueID"):
            if attr(uid, "Type") == CTRIP_ORDER:
                candidates.append(attr(uid, "ID"))
    for uid in message.iterfind("{*}UniqueID"):
        if attr(uid, "Type") == CTRIP_ORDER:
            candidates.append(attr(uid, "ID"))
    for res in reservations(message):
        for uid in res.iterfind("{*}UniqueID"):
            if attr(uid, "Type") == CTRIP_ORDER:
                candidates.append(attr(uid, "ID"))
        for rid in res.iterfind("{*}ResGlobalInfo/{*}HotelReservationIDs/{*}HotelReservationID"):
            if attr(rid, "ResID_Type") == CTRIP_ORDER:
                candidates.append(attr(rid, "ResID_Value"))
    ids = {c for c in candidates if c}
    if len(ids) > 1:
        raise BadRequest("the message names more than one Ctrip order (UniqueID Type 501)")
    order_id = ids.pop() if ids else None
    if order_id is not None and (len(order_id) > MAX_ID_LENGTH or "|" in order_id):
        raise BadRequest("UniqueID Type 501 is not a Ctrip order number")
    return order_id


def _hotel_code(kind: Kind, message: etree._Element) -> str | None:
    if kind is Kind.CANCEL:
        for uid in message.iterfind("{*}UniqueID"):
            if attr(uid, "Type") == HOTEL_CODE:
                return attr(uid, "ID")
        return None
    codes = {attr(b, "HotelCode") for res in reservations(message) for b in res.iter("{*}BasicPropertyInfo")}
    codes.discard(None)
    if len(codes) > 1:
        raise BadRequest("the reservation names more than one hotel (BasicPropertyInfo HotelCode)")
    return codes.pop() if codes else None


def read_request(body: bytes) -> CtripRequest:
    """Parse and identify one request. Raises UnsafeXml or BadRequest."""
    env = unwrap(parse(body))
    msg = env.message
    try:
        kind = Kind(local(msg))
    except ValueError:
        raise BadRequest(f"{local(msg)} is not a message this endpoint handles") from None
    from .limits import check_limits  # limits names BadRequest from here

    check_limits(msg)
    requestor = msg.find("{*}POS/{*}Source/{*}RequestorID")
    return CtripRequest(
        kind=kind,
        message=msg,
        soap=env.soap,
        soap_ns=env.soap_ns,
        echo_token=attr(msg, "EchoToken"),
        version=attr(msg, "Version"),
        timestamp=attr(msg, "TimeStamp"),
        requestor_id=(requestor.get("ID") if requestor is not None else None) or "",
        password=(requestor.get("MessagePassword") if requestor is not None else None) or "",
        order_id=_order_id(kind, msg),
        hotel_code=_hotel_code(kind, msg),
    )


_ROOT_HINT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(OTA_[A-Za-z]+RQ)[\s/>]")


def root_name_hint(body: bytes) -> str | None:
    """The OTA root a request that failed to parse most likely had, to answer in kind.

    A plain byte search over the head of the body: nothing is parsed."""
    m = _ROOT_HINT.search(body[:4096])
    return m.group(1).decode() if m else None


def strip_password(message: etree._Element) -> bytes:
    """The OTA message as stored in the inbox: without the MessagePassword."""
    copy = deepcopy(message)
    for requestor in copy.iterfind("{*}POS/{*}Source/{*}RequestorID"):
        requestor.attrib.pop("MessagePassword", None)
    return etree.tostring(copy, encoding="utf-8")
