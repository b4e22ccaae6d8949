"""A production install (no `testing` extra) runs every adapter without jsonschema or pytest."""

from __future__ import annotations

import json
import subprocess
import sys

WITHOUT_TEST_LIBRARIES = """
import json, sys, tempfile
from pathlib import Path

class Absent:  # as if jsonschema, pytest and respx were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("jsonschema", "pytest", "respx"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Absent())
from crmbridge.plugins import load_plugins

hooks = load_plugins()
demos = [d.name for d in hooks.demo_sources(Path(tempfile.mkdtemp()))]
print(json.dumps({"plugins": {p.name: p.status for p in hooks.plugins},
                  "types": sorted(hooks.adapter_types()), "demos": demos}))
"""


def test_every_plugin_loads_without_the_testing_extra_and_the_opera_demo_says_what_to_install():
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_TEST_LIBRARIES], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert set(doc["plugins"].values()) == {"loaded"}
    assert {"file", "opera", "ctrip", "fliggy", "simphony", "pos-file"} <= set(doc["types"])
    assert "opera_demo" not in doc["demos"]  # its simulator checks requests with jsonschema
    assert "pip install 'crmbridge-opera[testing]'" in run.stderr
