"""Make the compact OWS 5.1 WSDLs this package ships, from Oracle's full `.asmx?wsdl` dumps.

Run `python -m crmbridge_opera.ows.subset SRC_DIR [OUT_DIR]`. For each service it keeps the
operations the adapter uses and nothing else: those operations' portType, SOAP 1.1 binding
and messages, one service port, and every schema component they reach (elements, types,
groups, attributes, followed through `type`, `base`, `ref`, `itemType` and `memberTypes`).
Documentation and annotations are dropped: what is left are the facts a SOAP stack needs.
The output is deterministic, so a test can regenerate it and compare.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XS = "http://www.w3.org/2001/XMLSchema"
TNS = "http://tempuri.org/"
PLACEHOLDER = "http://127.0.0.1/ows/{service}.asmx"  # always overridden by the adapter

# The operations crmbridge calls, per service (file stem = service name in the URL).
OPERATIONS: dict[str, tuple[str, ...]] = {
    "Name": (
        "FetchProfile", "FetchCommentList", "FetchPreferenceList", "InsertComment", "UpdateComment",
        "DeleteComment", "InsertPreference", "DeletePreference",
    ),
    "Reservation": ("FutureBookingSummary", "FetchBooking", "GuestRequests"),
    "ResvAdvanced": ("Invoice",),
    "Information": ("QueryLov",),
}  # fmt: skip
KINDS = ("element", "complexType", "simpleType", "group", "attributeGroup", "attribute")
REF_ATTRS = ("type", "base", "ref", "itemType", "substitutionGroup")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True, remove_comments=True
    )


def _qname(el: etree._Element, value: str) -> tuple[str, str]:
    prefix, _, name = value.rpartition(":")
    return (el.nsmap.get(prefix or None) or ""), name


def _refs(el: etree._Element) -> Iterable[tuple[str, str]]:
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        for attr in REF_ATTRS:
            if node.get(attr):
                yield _qname(node, node.get(attr))
        for member in (node.get("memberTypes") or "").split():
            yield _qname(node, member)


def _strip(el: etree._Element) -> None:
    for node in list(el.iter(f"{{{XS}}}annotation", f"{{{WSDL}}}documentation")):
        node.getparent().remove(node)


def subset(source: bytes, service: str, operations: Iterable[str]) -> bytes:
    """The compact WSDL of `service` for `operations`, as bytes (UTF-8, pretty-printed)."""
    root = etree.fromstring(source, _parser())
    ops = set(operations)
    port_type = next(
        pt
        for pt in root.iter(f"{{{WSDL}}}portType")
        if pt.get("name") == f"{service}ServiceSoap" or pt.get("name") == f"{service}Soap"
    )
    binding = next(b for b in root.iter(f"{{{WSDL}}}binding") if b.find(f"{{{SOAP}}}binding") is not None)
    missing = ops - {o.get("name") for o in port_type.iter(f"{{{WSDL}}}operation")}
    if missing:
        raise ValueError(f"{service}: operations not in the WSDL: {', '.join(sorted(missing))}")
    messages: set[str] = set()
    for op in port_type.findall(f"{{{WSDL}}}operation"):
        if op.get("name") in ops:
            messages.update(m.get("message").split(":")[-1] for m in op if m.get("message"))
    for op in binding.findall(f"{{{WSDL}}}operation"):
        if op.get("name") in ops:
            messages.update(h.get("message").split(":")[-1] for h in op.iter(f"{{{SOAP}}}header"))

    # Every top-level schema component by (namespace, name); several kinds may share a name.
    schemas = list(root.iter(f"{{{XS}}}schema"))
    index: dict[tuple[str, str], list[etree._Element]] = {}
    for schema in schemas:
        ns = schema.get("targetNamespace") or ""
        for comp in schema:
            if isinstance(comp.tag, str) and etree.QName(comp).localname in KINDS:
                index.setdefault((ns, comp.get("name")), []).append(comp)
    wanted: set[tuple[str, str]] = set()
    todo: list[tuple[str, str]] = []
    kept_messages = []
    for msg in root.findall(f"{{{WSDL}}}message"):
        if msg.get("name") in messages:
            kept_messages.append(msg)
            for part in msg.findall(f"{{{WSDL}}}part"):
                todo.append(_qname(part, part.get("element")))
    while todo:
        key = todo.pop()
        if key in wanted or key[0] == XS:
            continue
        wanted.add(key)
        for comp in index.get(key, ()):
            todo.extend(_refs(comp))

    out = etree.Element(root.tag, nsmap=root.nsmap)
    out.set("targetNamespace", root.get("targetNamespace"))
    types = etree.SubElement(out, f"{{{WSDL}}}types")
    for schema in schemas:
        ns = schema.get("targetNamespace") or ""
        copy = etree.SubElement(types, schema.tag, nsmap=schema.nsmap)
        for k, v in sorted(schema.attrib.items()):
            copy.set(k, v)
        for comp in schema:
            if not isinstance(comp.tag, str):
                continue
            local = etree.QName(comp).localname
            if local == "import" or (local in KINDS and (ns, comp.get("name")) in wanted):
                copy.append(_clone(comp))
    for msg in kept_messages:
        out.append(_clone(msg))
    pt = etree.SubElement(out, port_type.tag, name=port_type.get("name"))
    for op in port_type.findall(f"{{{WSDL}}}operation"):
        if op.get("name") in ops:
            pt.append(_clone(op))
    bd = etree.SubElement(out, binding.tag, name=binding.get("name"), type=binding.get("type"))
    for child in binding:
        if child.tag != f"{{{WSDL}}}operation" or child.get("name") in ops:
            bd.append(_clone(child))
    svc = next(iter(root.iter(f"{{{WSDL}}}service")))
    new_svc = etree.SubElement(out, svc.tag, name=svc.get("name"))
    for port in svc.findall(f"{{{WSDL}}}port"):
        if port.get("binding", "").split(":")[-1] == binding.get("name"):
            p = etree.SubElement(new_svc, port.tag, name=port.get("name"), binding=port.get("binding"))
            etree.SubElement(p, f"{{{SOAP}}}address", location=PLACEHOLDER.format(service=service))
    _strip(out)
    etree.cleanup_namespaces(out, keep_ns_prefixes=list(k for k in root.nsmap if k))
    return etree.tostring(out, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _clone(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el), _parser())


def generate(src: Path, out: Path) -> list[Path]:
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for service, ops in OPERATIONS.items():
        path = out / f"{service}.wsdl"
        path.write_bytes(subset((src / f"{service}.wsdl").read_bytes(), service, ops))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m crmbridge_opera.ows.subset SRC_DIR [OUT_DIR]", file=sys.stderr)
        return 2
    out = Path(args[1]) if len(args) > 1 else Path(__file__).with_name("wsdl")
    for path in generate(Path(args[0]), out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
