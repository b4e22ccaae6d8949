"""Checking HTTP requests against the OHIP operations crmbridge uses.

The operations come from ``ohip_contract.json`` beside this module: extracted from Oracle's
OHIP OpenAPI (Swagger 2.0) files by ``scripts/extract_ohip_contract.py``, so the installed
plugin carries what it checks against and reads no spec files at run time.

Used by the simulator (it refuses what OPERA would refuse) and by the conformance tests
(every request the adapter sent must pass). A request conforms when its method and path
match an operation, every required header, query and form parameter is present and of the
declared type, enum and pattern, no undeclared query parameter is sent, and a JSON body
validates against the operation's body schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jsonschema import Draft4Validator

CONTRACT = Path(__file__).with_name("ohip_contract.json")


class SpecViolation(ValueError):
    def __init__(self, operation: str | None, problems: list[str]) -> None:
        self.operation, self.problems = operation, problems
        super().__init__(f"{operation or 'request'} does not conform: " + "; ".join(problems))


@dataclass
class Operation:
    spec: str
    operation_id: str
    method: str
    template: str  # full path: basePath + path
    regex: re.Pattern[str]
    params: list[dict[str, Any]]
    consumes: list[str]
    basic_auth: bool
    _body_validator: Draft4Validator | None = field(default=None, repr=False)

    @property
    def literal_weight(self) -> int:
        return -self.template.count("{")

    def body_validator(self) -> Draft4Validator | None:
        schema = next((p["schema"] for p in self.params if p.get("in") == "body"), None)
        if schema is None:
            return None
        if self._body_validator is None:
            self._body_validator = Draft4Validator(schema)
        return self._body_validator


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    rx = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{rx}$")


class OhipSpec:
    """The operations of a contract (as written by `scripts/extract_ohip_contract.py`)."""

    def __init__(self, contract: dict[str, Any], origin: str = "") -> None:
        self.origin = origin
        self.operations: list[Operation] = [
            Operation(
                op["spec"], op["operationId"], op["method"], op["path"], _compile(op["path"]),
                op["parameters"], op["consumes"], op["basicAuth"],
            )
            for op in contract["operations"]
        ]  # fmt: skip

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        candidates = [(op, m) for op in self.operations if (m := op.regex.match(path))]
        if not candidates:
            raise SpecViolation(None, [f"no OHIP operation in the contract has the path {path}"])
        same = [(op, m) for op, m in candidates if op.method == method.upper()]
        if not same:
            raise SpecViolation(None, [f"{method} is not defined for {candidates[0][0].template}"])
        op, m = max(same, key=lambda c: c[0].literal_weight)
        return op, m.groupdict()

    def validate(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Operation:
        """Raise `SpecViolation` listing every problem; return the operation when it conforms."""
        op, path_params = self.match(method, path)
        problems: list[str] = []
        headers = {k.lower(): v for k, v in headers.items()}
        qs = parse_qs(query, keep_blank_values=True)
        form = (
            parse_qs(body.decode("utf-8", "replace"))
            if "x-www-form-urlencoded" in headers.get("content-type", "")
            else {}
        )
        declared_query = {p["name"] for p in op.params if p.get("in") == "query"}
        for name in qs:
            if name not in declared_query:
                problems.append(f"query parameter {name!r} is not defined for {op.operation_id}")
        for p in op.params:
            where, name = p.get("in"), p.get("name", "")
            if where == "header":
                values = [headers[name.lower()]] if name.lower() in headers else []
            elif where == "query":
                values = qs.get(name, [])
            elif where == "formData":
                values = form.get(name, [])
            elif where == "path":
                values = [path_params[name]] if name in path_params else []
            else:
                continue
            if not values:
                if p.get("required"):
                    problems.append(f"required {where} parameter {name!r} is missing")
                continue
            if len(values) > 1 and p.get("type") != "array":
                problems.append(f"{where} parameter {name!r} is given {len(values)} times")
            spec = p.get("items", {}) if p.get("type") == "array" else p
            for v in values:
                problems += [f"{where} parameter {name!r}: {msg}" for msg in _check_value(v, spec)]
            if p.get("type") == "array" and p.get("maxItems") and len(values) > p["maxItems"]:
                problems.append(f"{where} parameter {name!r} has more than {p['maxItems']} items")
        if op.basic_auth and not headers.get("authorization", "").startswith("Basic "):
            problems.append("HTTP Basic client authentication is missing")
        validator = op.body_validator()
        if validator is not None:
            try:
                doc = json.loads(body) if body else None
            except ValueError:
                doc = None
                problems.append("the body is not JSON")
            if doc is None:
                problems.append("the request body is missing")
            else:
                for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))[:10]:
                    loc = "/".join(str(x) for x in err.absolute_path) or "(body)"
                    problems.append(f"body {loc}: {err.message[:200]}")
        elif body and method.upper() in ("GET", "DELETE", "HEAD"):
            problems.append(f"{method} {op.operation_id} takes no body")
        if problems:
            raise SpecViolation(op.operation_id, problems)
        return op


def _check_value(value: str, spec: dict[str, Any]) -> list[str]:
    out = []
    t = spec.get("type")
    if t == "integer":
        try:
            n = int(value)
        except ValueError:
            return [f"{value[:30]!r} is not an integer"]
        if "maximum" in spec and n > spec["maximum"]:
            out.append(f"{n} is above the maximum {spec['maximum']}")
    elif t == "number":
        try:
            float(value)
        except ValueError:
            return [f"{value[:30]!r} is not a number"]
    elif t == "boolean" and value not in ("true", "false"):
        out.append(f"{value[:30]!r} is not true or false")
    if spec.get("format") == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            out.append(f"{value[:30]!r} is not a date (YYYY-MM-DD)")
    if "enum" in spec and value not in spec["enum"]:
        out.append(f"{value[:30]!r} is not one of the allowed values")
    if "pattern" in spec and not re.search(spec["pattern"], value):
        out.append("does not match the declared pattern")
    if "maxLength" in spec and len(value) > spec["maxLength"]:
        out.append(f"is longer than {spec['maxLength']}")
    return out


@lru_cache(maxsize=1)
def load_spec() -> OhipSpec:
    """The shipped contract, parsed once per process."""
    return OhipSpec(json.loads(CONTRACT.read_text(encoding="utf-8")), origin=CONTRACT.name)
