"""The command line as hotel IT uses it: init, sync, status, plugins; kill -9 mid-import."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, func, select

from crmbridge.adapters.base import DemoSource
from crmbridge.cli.demo import run_demo
from crmbridge.hookspecs import hookimpl
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import reservations, sync_runs
from crmbridge.synthetic import generate_rows, write_csv

from .conftest import REPO
from .test_plugins import MemoryAdapter, make_dist


def cli(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    e = {**os.environ, "COLUMNS": "200", **(env or {})}
    e.pop("CRMBRIDGE_KEYS", None)
    p = subprocess.run(
        [sys.executable, "-m", "crmbridge", *args],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and p.returncode != 0:
        raise AssertionError(f"crmbridge {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def project(tmp_path: Path, db_url: str, csv_rows: int = 20, batch_size: int = 1000) -> Path:
    """A hotel's checkout: config from the example, a store URL and one CSV export."""
    (tmp_path / "config").mkdir()
    example = (REPO / "config" / "crmbridge.example.toml").read_text()
    (tmp_path / "config" / "crmbridge.example.toml").write_text(example)
    write_csv(tmp_path / "imports" / "export.csv", generate_rows(csv_rows, seed=5))
    cli("init", cwd=tmp_path)
    cfg = tmp_path / "config" / "crmbridge.toml"
    text = cfg.read_text().replace('url = "sqlite:///var/crmbridge.db"', f'url = "{db_url}"')
    text = text.replace('path = "samples/legacy_pms_export.csv"', 'path = "imports/*.csv"')
    text = text.replace(
        'hotel_code = "SHA01"            # for rows without a hotel_code',
        f'hotel_code = "SHA01"\nbatch_size = {batch_size}',
    )
    cfg.write_text(text)
    return tmp_path


def test_init_writes_config_and_a_private_key_file(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "crmbridge.example.toml").write_text(
        (REPO / "config" / "crmbridge.example.toml").read_text()
    )
    cli("init", cwd=tmp_path)
    key = tmp_path / "var" / "crmbridge.key"
    assert (tmp_path / "config" / "crmbridge.toml").exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    cli("init", cwd=tmp_path)
    assert key.read_bytes() == before  # never overwritten


def test_sync_json_then_status_json(tmp_path, db_url):
    root = project(tmp_path, db_url)
    [res] = json.loads(cli("sync", "--json", cwd=root).stdout)
    assert (res["source"], res["stream"], res["status"], res["inserted"]) == (
        "legacy_pms",
        "reservations",
        "ok",
        20,
    )
    [again] = json.loads(cli("sync", "--full", "--json", cwd=root).stdout)
    assert again["unchanged"] == 20 and again["inserted"] == again["updated"] == 0
    [st] = json.loads(cli("status", "--json", cwd=root).stdout)
    run = st["streams"]["reservations"]["last_run"]
    assert run["status"] == "ok" and run["unchanged"] == 20 and st["quarantined"] == 0
    assert json.loads(st["streams"]["reservations"]["cursor"])["watermark"]


def test_guests_json_is_masked(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cli("sync", cwd=root)
    out = cli("guests", "--json", cwd=root).stdout
    views = json.loads(out)
    assert views and all(v["records"] for v in views)
    assert "@example" in out and "example.cn" in out
    for v in views:
        for e in v["emails"]:
            assert e.split("@")[0].endswith("***")


def test_literal_secret_in_config_is_refused_with_file_table_and_key(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cfg = root / "config" / "crmbridge.toml"
    cfg.write_text(cfg.read_text() + '\n[sources.fliggy]\ntype = "file"\npath = "x"\napp_secret = "abc123"\n')
    p = cli("check", cwd=root, check=False)
    assert p.returncode == 2
    assert "crmbridge.toml" in p.stderr and "sources.fliggy.app_secret" in p.stderr
    assert "${env:NAME}" in p.stderr


def test_broken_plugin_does_not_stop_sync_and_is_shown_failed(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "crmbridge_broken", "import does_not_exist_anywhere\n")
    env = {"PYTHONPATH": str(site)}
    [res] = json.loads(cli("sync", "--json", cwd=root, env=env).stdout)
    assert res["status"] == "ok" and res["inserted"] == 20
    p = cli("plugins", "--json", cwd=root, env=env, check=False)
    assert p.returncode == 1
    [broken] = [x for x in json.loads(p.stdout)["plugins"] if x["name"] == "crmbridge_broken"]
    assert broken["status"] == "failed" and "does_not_exist_anywhere" in broken["error"]


def _committed(url: str) -> int:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with eng.connect() as c:
            return c.execute(select(func.count()).select_from(reservations)).scalar_one()
    except Exception:
        return 0
    finally:
        eng.dispose()


def test_sigkill_mid_import_then_rerun_ends_with_every_row_once(tmp_path, db_url):
    n = 12_000
    root = project(tmp_path, db_url, csv_rows=n, batch_size=500)
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("CRMBRIDGE_KEYS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmbridge", "sync"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _committed(db_url) < 1000 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail("the import finished before it could be killed; raise n")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _committed(db_url)
    assert 0 < partial < n
    cli("sync", cwd=root)
    eng = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with eng.connect() as c:
        total = c.execute(select(func.count()).select_from(reservations)).scalar_one()
        distinct = c.execute(select(func.count(reservations.c.source_id.distinct()))).scalar_one()
        statuses = [r.status for r in c.execute(select(sync_runs).order_by(sync_runs.c.id))]
    eng.dispose()
    assert total == distinct == n
    assert statuses == ["interrupted", "ok"]


class DemoPlugin(MemoryAdapter):
    """Offers one demo source whose 'simulator' records being started and stopped."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    @contextmanager
    def _simulator(self) -> Iterator[None]:
        self.events.append("started")
        yield
        self.events.append("stopped")

    @hookimpl
    def crmbridge_demo_sources(self, workdir):
        return [DemoSource("memory_pms", self.TYPE, {"hotel_code": "CTU01"}, self._simulator())]


def test_demo_syncs_the_sources_plugins_offer_inside_their_simulators(tmp_path):
    plugin = DemoPlugin()
    console = Console(record=True, width=200)
    run_demo(tmp_path / "demo", console, hooks=load_plugins(extra=[plugin]))
    text = console.export_text()
    assert plugin.events == ["started", "stopped"]
    assert "synced memory_pms/stays: 1 fetched, 1 new" in text
    assert "synced legacy_pms/reservations" in text and "quarantined" in text


def test_alerts_rules_and_segments_read_the_example_config(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cli("sync", cwd=root)
    rules = {r["rule"]: r["enabled"] for r in json.loads(cli("alerts", "rules", "--json", cwd=root).stdout)}
    assert rules["complaint"] and rules["win_back"] and len(rules) >= 8
    seg = json.loads(cli("segments", "--date", "2026-11-23", "--json", cwd=root).stdout)
    assert seg["guests"] == sum(seg["value_tiers"].values()) > 0


def test_unknown_alert_rule_in_config_says_which_rules_exist(tmp_path):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cfg = root / "config" / "crmbridge.toml"
    cfg.write_text(cfg.read_text() + "\n[alerts.rules.birthdays]\nenabled = true\n")
    p = cli("alerts", "preview", cwd=root, check=False)
    assert p.returncode == 2 and "birthdays" in p.stderr and "celebration" in p.stderr
