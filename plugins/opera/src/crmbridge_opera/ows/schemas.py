"""The XSD types of the packaged OWS WSDLs as lxml validators (for the simulator and tests).

A WSDL holds several inline schemas that import each other by namespace only. lxml needs a
location for each import, so each schema is given one in memory (`mem:NAMESPACE`) and a
resolver answers those; nothing is read from disk or network beyond the packaged file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from .subset import XS

PACKAGED = Path(__file__).with_name("wsdl")
_MEM = "mem:"


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


class _Memory(etree.Resolver):
    def __init__(self, docs: dict[str, bytes]) -> None:
        super().__init__()
        self.docs = docs

    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
        if url in self.docs:
            return self.resolve_string(self.docs[url], context)
        return None  # never fall through to the file system or network: lxml then fails


@cache
def validator(service: str, wsdl_dir: Path = PACKAGED) -> etree.XMLSchema:
    """One XMLSchema covering every inline schema of `{service}.wsdl`."""
    root = etree.parse(str(wsdl_dir / f"{service}.wsdl"), safe_parser()).getroot()
    docs: dict[str, bytes] = {}
    namespaces = []
    for schema in root.iter(f"{{{XS}}}schema"):
        ns = schema.get("targetNamespace") or ""
        copy = etree.fromstring(etree.tostring(schema), safe_parser())
        for imp in copy.findall(f"{{{XS}}}import"):
            imp.set("schemaLocation", _MEM + imp.get("namespace", ""))
        docs[_MEM + ns] = etree.tostring(copy)
        namespaces.append(ns)
    driver = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    for ns in namespaces:
        etree.SubElement(driver, f"{{{XS}}}import", namespace=ns, schemaLocation=_MEM + ns)
    parser = safe_parser()
    parser.resolvers.add(_Memory(docs))
    doc = etree.fromstring(etree.tostring(driver), parser)
    return etree.XMLSchema(doc)


def problems(service: str, element: etree._Element) -> list[str]:
    """Schema violations of one element (a SOAP Body child or the OGHeader); [] when valid."""
    schema = validator(service)
    doc = etree.ElementTree(etree.fromstring(etree.tostring(element), safe_parser()))
    if schema.validate(doc):
        return []
    # The simulator serves invented guests only, so its messages may quote values.
    return [f"line {e.line}: {e.message[:300]}" for e in schema.error_log][:20]


def parse_safely(body: bytes, max_bytes: int) -> etree._Element:
    """The root of `body`; refuses oversize bodies, any DTD or entity, and malformed XML."""
    if len(body) > max_bytes:
        raise ValueError(f"message larger than {max_bytes} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ValueError("DTDs and entity declarations are not accepted")
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML (line {exc.lineno})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ValueError("DTDs and entity declarations are not accepted")
    return root
