"""The OTA replies Ctrip expects: Success with UniqueID/ResStatus, or Errors with its codes.

Ctrip-required deviations from the 2015B schemas (each named in a test):
* an error OTA_HotelResRS also carries HotelReservation ResStatus="R" after Errors;
* an error OTA_CancelRS echoes the UniqueID after Errors;
* OTA_ReadRQ is answered with OTA_ReadRS, a root OpenTravel does not define.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from .messages import CTRIP_ORDER, HOTEL_CONFIRMATION
from .safexml import OTA_NS, SOAP11_NS

VERSION = "2.1"
CONTENT_TYPE = "text/xml; charset=utf-8"
DUPLICATE_WARNING = ("3", "127", "This creation is already successfully processed")


@dataclass(frozen=True)
class OtaError:
    type: str
    code: str
    text: str


AUTH_FAILED = OtaError("4", "497", "Authorization error")
SYSTEM_ERROR = OtaError("12", "448", "System error")
NOT_FOUND = OtaError("3", "245", "Reservation not found")
UNKNOWN_HOTEL = OtaError("3", "400", "Invalid property code")


def unable(reason: str) -> OtaError:
    """Type 3 code 450: a message we will not take as it is (the reason names fields only)."""
    return OtaError("3", "450", f"Unable to process: {reason}"[:250])


def _ota(tag: str) -> str:
    return f"{{{OTA_NS}}}{tag}"


class Reply:
    """One OTA response, built element by element, serialised in a SOAP 1.1 envelope."""

    def __init__(self, root: str, echo_token: str | None, version: str | None = None) -> None:
        self.root = etree.Element(_ota(root), nsmap={None: OTA_NS})
        self.root.set("Version", version if _is_decimal(version) else VERSION)
        self.root.set("TimeStamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if echo_token:
            self.root.set("EchoToken", echo_token[:128])

    def add(self, parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, _ota(tag), {k: v for k, v in attrs.items() if v is not None})
        if text is not None:
            el.text = text
        return el

    def success(self) -> Reply:
        self.add(self.root, "Success")
        return self

    def warning(self, type_: str, code: str, text: str) -> Reply:
        warnings = self.root.find(_ota("Warnings"))
        if warnings is None:
            warnings = self.add(self.root, "Warnings")
        self.add(warnings, "Warning", text, Type=type_, Code=code)
        return self

    def error(self, err: OtaError) -> Reply:
        errors = self.add(self.root, "Errors")
        self.add(errors, "Error", err.text, Type=err.type, Code=err.code, ShortText=err.text)
        return self

    def reservation(
        self, status: str, order_id: str | None, hotel_ref: str | None, hotel_code: str | None = None
    ) -> Reply:
        """HotelReservations/HotelReservation[@ResStatus] with the 501 (and 502) ids; 2015B
        requires ResGlobalInfo to end with the hotel's BasicPropertyInfo."""
        wrapper = "HotelResModifies" if self.root.tag == _ota("OTA_HotelResModifyRS") else "HotelReservations"
        item = "HotelResModify" if wrapper == "HotelResModifies" else "HotelReservation"
        res = self.add(self.add(self.root, wrapper), item, ResStatus=status)
        if order_id or hotel_ref:
            ids = self.add(self.add(res, "ResGlobalInfo"), "HotelReservationIDs")
            if order_id:
                self.add(ids, "HotelReservationID", ResID_Type=CTRIP_ORDER, ResID_Value=order_id)
            if hotel_ref:
                self.add(ids, "HotelReservationID", ResID_Type=HOTEL_CONFIRMATION, ResID_Value=hotel_ref)
            if hotel_code:
                self.add(ids.getparent(), "BasicPropertyInfo", HotelCode=hotel_code)
        return self

    def unique_ids(self, order_id: str | None, hotel_ref: str | None) -> Reply:
        if order_id:
            self.add(self.root, "UniqueID", Type=CTRIP_ORDER, ID=order_id)
        if hotel_ref:
            self.add(self.root, "UniqueID", Type=HOTEL_CONFIRMATION, ID=hotel_ref)
        return self

    def element(self) -> etree._Element:
        return self.root

    def body(self, soap: bool = True) -> bytes:
        if not soap:
            return etree.tostring(self.root, xml_declaration=True, encoding="utf-8")
        env = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
        etree.SubElement(env, f"{{{SOAP11_NS}}}Body").append(self.root)
        return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def _is_decimal(v: str | None) -> bool:
    return v is not None and re.fullmatch(r"\d{1,3}(\.\d{1,3})?", v) is not None


def hotel_ref(inbox_id: int) -> str:
    """The hotel-side reference (502) Ctrip keeps for an order: crmbridge's inbox id."""
    return f"CB{inbox_id}"
