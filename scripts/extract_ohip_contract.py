"""Extract the OHIP operations crmbridge uses into the contract the OPERA plugin ships.

    python scripts/extract_ohip_contract.py [SPEC_DIR]          # rewrite the contract
    python scripts/extract_ohip_contract.py [SPEC_DIR] --check  # exit 1 if it is stale

SPEC_DIR holds Oracle's OHIP OpenAPI (Swagger 2.0) files (default ``../shared/specs/opera-ohip``
beside the checkout). Only the operations in ``OPERATIONS`` are kept, each with its method, full
path, content types, parameters (shared ``$ref``s resolved) and body schema (every ``$ref``
inlined), keeping only the keywords a validator reads: no descriptions, examples or titles.
The result, ``plugins/opera/src/crmbridge_opera/ohip_contract.json``, is what the conformance
checker and the simulator read at run time, so an installed plugin needs no spec files.
``tests/opera/test_contract.py`` re-extracts and compares whenever the spec files are present.

When the adapter starts calling another OHIP operation, add its operationId here and re-run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC_DIR = ROOT.parent / "shared" / "specs" / "opera-ohip"
CONTRACT = ROOT / "plugins" / "opera" / "src" / "crmbridge_opera" / "ohip_contract.json"

# Spec file (without .json) -> the operationIds the adapter sends and the simulator serves.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "oauth": ("getToken",),
    "rsv": ("getHotelReservations", "postBulkReservationAlerts", "getAlertNotices"),
    "crm": ("getProfile", "putProfile", "postPreference", "deletePreference"),
    "csh": ("getFolio",),
    "int": ("getBusinessEvents",),
}

# What a request validator reads; everything else (description, example, x-*) is prose.
PARAMETER_KEYS = {
    "name", "in", "required", "type", "format", "enum", "pattern", "maxLength", "minLength",
    "maximum", "minimum", "items", "maxItems", "minItems", "uniqueItems", "collectionFormat", "schema",
}  # fmt: skip
SCHEMA_KEYS = {
    "type", "format", "enum", "pattern", "maxLength", "minLength", "maximum", "minimum",
    "exclusiveMaximum", "exclusiveMinimum", "items", "maxItems", "minItems", "uniqueItems",
    "properties", "required", "additionalProperties", "allOf", "anyOf", "oneOf",
}  # fmt: skip


class ExtractError(RuntimeError):
    pass


def _ref_name(ref: str, section: str) -> str:
    prefix = f"#/{section}/"
    if not ref.startswith(prefix):
        raise ExtractError(f"unsupported $ref {ref!r} (only {prefix}… refs within one file)")
    return ref[len(prefix) :]


def _schema(node: Any, definitions: dict[str, Any], trail: tuple[str, ...] = ()) -> Any:
    """The schema with every `$ref` inlined and only validation keywords kept."""
    if isinstance(node, list):
        return [_schema(x, definitions, trail) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = _ref_name(node["$ref"], "definitions")
        if name in trail:
            raise ExtractError(f"recursive definition {' -> '.join((*trail, name))}: cannot inline")
        return _schema(definitions[name], definitions, (*trail, name))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in SCHEMA_KEYS:
            continue
        if key == "properties":
            out[key] = {prop: _schema(s, definitions, trail) for prop, s in value.items()}
        elif key == "additionalProperties" and isinstance(value, bool):
            out[key] = value
        elif key in ("items", "allOf", "anyOf", "oneOf", "additionalProperties"):
            out[key] = _schema(value, definitions, trail)
        else:
            out[key] = value
    return out


def _parameter(p: dict[str, Any], shared: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in p:
        p = shared[_ref_name(p["$ref"], "parameters")]
    out = {k: v for k, v in p.items() if k in PARAMETER_KEYS}
    if "schema" in out:
        out["schema"] = _schema(out["schema"], definitions)
    if "items" in out:
        out["items"] = _schema(out["items"], definitions)
    return out


def _sources(spec_dir: Path) -> dict[str, dict[str, str]]:
    """Version and checksum of each file, from SOURCES.tsv, so a reader knows what was read."""
    out: dict[str, dict[str, str]] = {}
    index = spec_dir / "SOURCES.tsv"
    if not index.is_file():
        return out
    for line in index.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        name = Path(cols[0]).stem
        if name not in OPERATIONS:
            continue
        fields = dict(c.split("=", 1) for c in cols[3:] if "=" in c)
        out[name] = {"repository": cols[1], "path": cols[2], "commit": fields.get("HEAD", "")}
        out[name] |= {k: fields[k] for k in ("version", "sha256") if k in fields}
    return out


def extract(spec_dir: Path) -> dict[str, Any]:
    operations: list[dict[str, Any]] = []
    for spec, wanted in OPERATIONS.items():
        path = spec_dir / f"{spec}.json"
        if not path.is_file():
            raise ExtractError(f"{path} is missing")
        doc = json.loads(path.read_text(encoding="utf-8"))
        base, shared = doc.get("basePath", ""), doc.get("parameters", {})
        definitions = doc.get("definitions", {})
        basic = "basicAuth" in (doc.get("securityDefinitions") or {})
        found: dict[str, dict[str, Any]] = {}
        for template, item in doc["paths"].items():
            common = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters" or not isinstance(op, dict) or op.get("operationId") not in wanted:
                    continue
                found[op["operationId"]] = {
                    "operationId": op["operationId"],
                    "spec": spec,
                    "method": method.upper(),
                    "path": base + template,
                    "consumes": op.get("consumes") or doc.get("consumes") or [],
                    "basicAuth": basic,
                    "parameters": [
                        _parameter(p, shared, definitions) for p in common + op.get("parameters", [])
                    ],
                }
        missing = [w for w in wanted if w not in found]
        if missing:
            raise ExtractError(f"{path} has no operation {', '.join(missing)}")
        operations += [found[w] for w in wanted]
    return {
        "about": (
            "The OHIP operations crmbridge uses, extracted by scripts/extract_ohip_contract.py from "
            "Oracle's OHIP OpenAPI files (oracle/hospitality-api-docs, Universal Permissive License). "
            "Generated: edit the script, not this file."
        ),
        "sources": _sources(spec_dir),
        "operations": operations,
    }


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def render(contract: dict[str, Any]) -> str:
    """One line per parameter: compact, yet a change in the specs reads as a short diff."""
    ops = []
    for op in contract["operations"]:
        head = _compact({k: v for k, v in op.items() if k != "parameters"})[:-1]
        params = ",\n".join(f"   {_compact(p)}" for p in op["parameters"])
        ops.append(f'  {head},"parameters":[\n{params}\n  ]}}')
    ops_text = ",\n".join(ops)
    return (
        f'{{"about":{_compact(contract["about"])},\n"sources":{_compact(contract["sources"])},\n'
        f'"operations":[\n{ops_text}\n]}}\n'
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec_dir", nargs="?", type=Path, default=DEFAULT_SPEC_DIR, help="the OHIP spec files")
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if the contract is stale")
    args = ap.parse_args(argv)
    try:
        text = render(extract(args.spec_dir))
    except ExtractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = CONTRACT.read_text(encoding="utf-8") if CONTRACT.is_file() else ""
        if current != text:
            print(f"{CONTRACT} is stale: run python scripts/extract_ohip_contract.py", file=sys.stderr)
            return 1
        print(f"{CONTRACT.name} matches {args.spec_dir}")
        return 0
    CONTRACT.write_text(text, encoding="utf-8")
    n = len(json.loads(text)["operations"])
    print(f"wrote {CONTRACT.relative_to(ROOT)}: {n} operations, {len(text) // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
