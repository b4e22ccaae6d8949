"""The OHIP contract the plugin ships is what the extraction script makes of Oracle's files.

The checker and the simulator read only the shipped contract; where Oracle's OpenAPI files
are present (../shared, in CI) the contract is extracted again and must be identical.
"""

from __future__ import annotations

import importlib.util
import json

from crmbridge_opera.conformance import CONTRACT, load_spec
from crmbridge_opera.simulator import ROUTES

from tests.conftest import REPO, shared_file


def _script():
    path = REPO / "scripts" / "extract_ohip_contract.py"
    spec = importlib.util.spec_from_file_location("extract_ohip_contract", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_contract_is_what_the_script_extracts_from_the_ohip_specs():
    spec_dir = shared_file("specs/opera-ohip/rsv.json").parent
    script = _script()
    assert CONTRACT.read_text(encoding="utf-8") == script.render(script.extract(spec_dir)), (
        "the contract is stale: run python scripts/extract_ohip_contract.py"
    )


def test_the_contract_holds_exactly_the_operations_the_simulator_serves():
    served = sorted(name for _, _, name, _ in ROUTES)
    assert sorted(op.operation_id for op in load_spec().operations) == served


def test_the_contract_carries_no_prose():
    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                # under "properties" the keys are field names (OHIP has a field "description")
                yield from (x for s in v.values() for x in keys(s)) if k == "properties" else keys(v)
        elif isinstance(node, list):
            for x in node:
                yield from keys(x)

    found = set(keys(json.loads(CONTRACT.read_text(encoding="utf-8"))["operations"]))
    assert found.isdisjoint({"description", "summary", "example", "x-example", "title", "$ref"})


def test_a_body_schema_in_the_contract_is_self_contained():
    op = next(o for o in load_spec().operations if o.operation_id == "postBulkReservationAlerts")
    schema = op.body_validator().schema["allOf"][0]
    alert = schema["properties"]["reservations"]["items"]["properties"]["alert"]["items"]
    # the alert area's values, inlined from their definition in rsv.json
    assert alert["properties"]["area"]["enum"] == ["CheckIn", "CheckOut", "Reservation", "Billing", "InHouse"]
