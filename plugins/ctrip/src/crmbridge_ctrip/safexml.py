"""Parsing what Ctrip sends: safely (no entities, no DTDs, no network, bounded) and leniently.

Real Ctrip XML does not validate against the stock OTA schemas, so nothing here validates:
elements are found by local name in any namespace, and the SOAP envelope is optional.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

OTA_NS = "http://www.opentravel.org/OTA/2003/05"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
MAX_BYTES = 1_048_576  # an OTA reservation is a few KiB


class UnsafeXml(ValueError):
    """The body is not XML we are willing to read. The message never quotes the body."""


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe and the receiver is threaded.
    return etree.XMLParser(
        resolve_entities=False,  # no entity expansion: billion laughs stay unexpanded references
        no_network=True,  # never fetch an external DTD or entity
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,  # libxml2's depth and text-size limits stay on
        remove_comments=True,
        remove_pis=True,
    )


def parse(body: bytes, max_bytes: int = MAX_BYTES) -> etree._Element:
    """The root element of `body`; refuses oversize bodies, any DTD, and malformed XML."""
    if len(body) > max_bytes:
        raise UnsafeXml(f"message larger than {max_bytes} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise UnsafeXml("DTDs and entity declarations are not accepted")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        # Position only: libxml2's message can quote the offending text.
        raise UnsafeXml(f"malformed XML (line {exc.lineno})") from None
    except ValueError:  # e.g. an encoding declaration lxml refuses
        raise UnsafeXml("malformed XML") from None
    # A DTD in an encoding the byte scan did not catch (UTF-16) still shows up here.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXml("DTDs and entity declarations are not accepted")
    for el in root.iter():
        if isinstance(el, etree._Entity):
            raise UnsafeXml("entity references are not accepted")
    return root


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


@dataclass(frozen=True)
class Envelope:
    message: etree._Element  # the OTA root element (OTA_HotelResRQ, ...)
    soap: bool  # whether it came in a SOAP envelope (answer the same way)
    soap_ns: str = SOAP11_NS


def unwrap(root: etree._Element) -> Envelope:
    """The OTA message inside a SOAP 1.1 (or 1.2) envelope, or a bare OTA message."""
    if local(root) != "Envelope":
        return Envelope(root, soap=False)
    ns = etree.QName(root).namespace or SOAP11_NS
    body = next((c for c in root if isinstance(c.tag, str) and local(c) == "Body"), None)
    if body is None:
        raise UnsafeXml("SOAP envelope without a Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise UnsafeXml("empty SOAP Body")
    return Envelope(children[0], soap=True, soap_ns=ns)


def text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def attr(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    value = el.get(name)
    return value.strip() if value and value.strip() else None
