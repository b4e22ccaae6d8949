"""`crmbridge new-adapter NAME`: a plugin distribution that passes its own tests as generated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmbridge.scaffold import ScaffoldError, render

CRMBRIDGE = str(Path(sys.executable).with_name("crmbridge"))


def _installed(tmp_path: Path, target: Path) -> dict[str, str]:
    """What `pip install -e` gives, without pip: the sources on the path and the entry point."""
    site = tmp_path / "site"
    info = site / "crmbridge_acme_pms-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crmbridge-acme-pms\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[crmbridge]\nacme_pms = crmbridge_acme_pms.adapter\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(target / "src")])}


def test_the_generated_plugin_passes_its_own_tests_and_is_listed(tmp_path):
    target = tmp_path / "crmbridge-acme-pms"
    made = subprocess.run(
        [CRMBRIDGE, "new-adapter", "acme_pms", "-d", str(target)], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert "pip install -e" in made.stdout and "[testing]" in made.stdout
    env = _installed(tmp_path, target)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=target, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    listed = subprocess.run([CRMBRIDGE, "plugins", "--json"], env=env, capture_output=True, text=True)
    [acme] = [p for p in json.loads(listed.stdout)["plugins"] if p["name"] == "acme_pms"]
    assert acme["status"] == "loaded" and acme["adapter_types"] == ["acme_pms"]


def test_the_generated_files_name_the_adapter_and_depend_on_the_api_it_was_written_for(tmp_path):
    written = {p.relative_to(tmp_path).as_posix() for p in render("acme_pms", tmp_path)}
    assert {"pyproject.toml", "README.md", "src/crmbridge_acme_pms/adapter.py",
            "src/crmbridge_acme_pms/simulator.py", "tests/test_conformance.py"} <= written  # fmt: skip
    pyproject = (tmp_path / "pyproject.toml").read_text()
    assert '"crmbridge>=0.2,<0.3"' in pyproject and 'acme_pms = "crmbridge_acme_pms.adapter"' in pyproject
    assert "$" not in (tmp_path / "src/crmbridge_acme_pms/adapter.py").read_text()


@pytest.mark.parametrize("name", ["Acme", "acme-pms", "1pms", "a"])
def test_a_name_that_cannot_be_a_type_name_is_refused_saying_what_would_do(tmp_path, name):
    with pytest.raises(ScaffoldError, match=r"e\.g\. acme_pms"):
        render(name, tmp_path / "out")


def test_a_non_empty_directory_is_never_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("hotel notes")
    with pytest.raises(ScaffoldError, match="not empty"):
        render("acme_pms", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "hotel notes"
