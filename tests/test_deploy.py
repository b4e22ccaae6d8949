"""Deployment: the systemd units are valid for systemd itself, and `db upgrade` / `db current`
bring and report the schema, on both backends."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .conftest import REPO
from .test_cli import cli

UNITS = sorted((REPO / "deploy").glob("*.service"))


def test_the_deploy_folder_has_units_for_run_and_serve():
    assert {u.name for u in UNITS} >= {"crmbridge.service", "crmbridge-serve.service"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verify_finds_nothing_to_say_about_the_unit(tmp_path, unit):
    # verify checks that ExecStart's program exists: point it at this checkout's crmbridge.
    exe = Path(sys.executable).with_name("crmbridge")
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/crmbridge/.venv/bin/crmbridge", str(exe)))
    p = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=120)
    # It exits 0 even for unknown keys and bad values: any line about our file is a defect.
    said = [ln for ln in (p.stdout + p.stderr).splitlines() if unit.name in ln]
    assert p.returncode == 0 and not said, p.stdout + p.stderr


def _project(tmp_path: Path, url: str) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "crmbridge.toml").write_text(f'[store]\nurl = "{url}"\nkey_file = "var/k"\n')
    return tmp_path


@pytest.fixture
def empty_db_url(request, tmp_path):
    """An empty database (no schema yet), once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    from sqlalchemy import create_engine as _create

    from crmbridge.testing.pytest_plugin import pg_admin_url

    def _pg_admin():
        return _create(pg_admin_url(), isolation_level="AUTOCOMMIT")

    if __import__("os").environ.get("CRMBRIDGE_TEST_SKIP_PG") == "1":
        pytest.skip("CRMBRIDGE_TEST_SKIP_PG=1")
    name = f"crmbridge_empty_{tmp_path.name[-20:].replace('-', '_')}".lower()
    with _pg_admin().connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_admin_url().rsplit("/", 1)[0] + f"/{name}"
    with _pg_admin().connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_db_current_says_behind_then_upgrade_brings_it_to_head_and_is_idempotent(tmp_path, empty_db_url):
    root = _project(tmp_path, empty_db_url)
    behind = cli("db", "current", "--json", cwd=root, check=False)
    assert behind.returncode == 1
    doc = json.loads(behind.stdout)
    assert doc["current"] is None and doc["up_to_date"] is False
    up = cli("db", "upgrade", cwd=root)
    assert f"to {doc['head']}" in up.stdout
    again = cli("db", "upgrade", cwd=root)
    assert "already at" in again.stdout
    now = json.loads(cli("db", "current", "--json", cwd=root).stdout)
    assert now["current"] == now["head"] == doc["head"] and now["up_to_date"]
    eng = create_engine(empty_db_url.replace("postgresql://", "postgresql+psycopg://"))
    with eng.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == doc["head"]
    eng.dispose()
