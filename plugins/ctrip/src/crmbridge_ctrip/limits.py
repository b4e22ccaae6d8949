"""OpenTravel's length limits (2015B simple types) on the fields a Ctrip message carries.

A 5,000-character given name is not a name: OpenTravel caps it at 64 (`StringLength1to64`),
so a message over a limit is refused with a 450 naming the field, never stored."""

from __future__ import annotations

from lxml import etree

from .messages import BadRequest
from .safexml import local

# (element local name, attribute or None for the element's text) -> the schema's maxLength
ELEMENT_TEXT = {
    "GivenName": 64,
    "MiddleName": 64,
    "Surname": 64,
    "NamePrefix": 16,
    "NameSuffix": 16,
    "NameTitle": 16,
    "Email": 128,
}
ATTRIBUTES = {
    ("Telephone", "PhoneNumber"): 32,
    ("BasicPropertyInfo", "HotelCode"): 16,
    ("RatePlan", "RatePlanCode"): 64,
    ("RoomRate", "RatePlanCode"): 64,
    ("UniqueID", "ID"): 64,
}
ROOT_ATTRIBUTES = {"EchoToken": 128}


def check_limits(message: etree._Element) -> None:
    """Raise BadRequest naming the first field longer than OpenTravel allows (no values)."""
    for name, limit in ROOT_ATTRIBUTES.items():
        if len(message.get(name) or "") > limit:
            raise BadRequest(f"{local(message)}/@{name} is longer than {limit} characters")
    for el in message.iter():
        if not isinstance(el.tag, str):
            continue
        tag = local(el)
        limit = ELEMENT_TEXT.get(tag)
        if limit is not None and len((el.text or "").strip()) > limit:
            parent = el.getparent()
            where = f"{local(parent)}/{tag}" if parent is not None else tag
            raise BadRequest(f"{where} is longer than {limit} characters")
        for attr_name, value in el.attrib.items():
            limit = ATTRIBUTES.get((tag, str(attr_name)))
            if limit is not None and len(value.strip()) > limit:
                raise BadRequest(f"{tag}/@{attr_name} is longer than {limit} characters")
