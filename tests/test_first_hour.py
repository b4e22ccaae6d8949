"""The first hour of a hotel IT lead: init, check, sync, the demo and its store, as a new user runs them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from crmbridge.cli.app import _verbose_first
from crmbridge.cli.demo import run_demo

from .conftest import REPO


def run(*args: str, cwd: Path, columns: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """`crmbridge ARGS` with its output captured, i.e. not a terminal, as in a pipe or a cron job."""
    e = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CRMBRIDGE_KEYS")} | env
    if columns:
        e["COLUMNS"] = columns
    return subprocess.run(
        [sys.executable, "-m", "crmbridge", *args],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def checkout(tmp_path) -> Path:
    """What a hotel gets from the repository: the example config and the sample export."""
    shutil.copytree(REPO / "config", tmp_path / "config", ignore=shutil.ignore_patterns("crmbridge.toml"))
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    return tmp_path


def test_init_names_the_tables_it_asks_to_edit(checkout):
    p = run("init", cwd=checkout)
    assert p.returncode == 0
    assert "edit its [sources] tables" in p.stdout


def test_the_example_config_passes_its_first_check_and_imports_the_sample_export(checkout):
    run("init", cwd=checkout)
    check = run("check", cwd=checkout)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "legacy_pms (file): ok" in check.stdout
    sync = run("sync", "--json", cwd=checkout)
    assert sync.returncode == 0 and '"inserted": 12' in sync.stdout


def test_tables_are_not_cut_at_80_columns_when_output_is_not_a_terminal(checkout):
    run("init", cwd=checkout)
    run("sync", cwd=checkout)
    out = run("guests", cwd=checkout).stdout
    assert "legacy_pms/rsv:PMS-0000000" in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) > 80


def test_columns_still_sets_the_width_when_given(checkout):
    run("init", cwd=checkout)
    run("sync", cwd=checkout)
    out = run("guests", cwd=checkout, columns="80").stdout
    assert max(len(line) for line in out.splitlines()) <= 80


def test_verbose_is_accepted_after_the_subcommand(checkout):
    run("init", cwd=checkout)
    p = run("check", "-v", cwd=checkout)
    assert p.returncode == 0, p.stderr
    assert " DEBUG " in p.stderr or " INFO " in p.stderr


def test_verbose_moves_before_the_subcommand_but_not_past_a_double_dash():
    assert _verbose_first(["guests", "show", "ab12", "-v"]) == ["--verbose", "guests", "show", "ab12"]
    assert _verbose_first(["sync", "--", "-v"]) == ["sync", "--", "-v"]
    assert _verbose_first(["status"]) == ["status"]


def test_a_read_only_command_does_not_need_an_unrelated_sources_secret(checkout):
    run("init", cwd=checkout)
    cfg = checkout / "config" / "crmbridge.toml"
    cfg.write_text(
        cfg.read_text()
        + '\n[sources.fliggy]\ntype = "fliggy"\napp_key = "${env:CRMBRIDGE_TEST_NEVER_SET}"\n'
        + 'app_secret = "${env:CRMBRIDGE_TEST_NEVER_SET}"\nsession_key = "${env:CRMBRIDGE_TEST_NEVER_SET}"\n'
    )
    run("sync", "--source", "legacy_pms", cwd=checkout)
    listed = run("guests", "--json", cwd=checkout)
    assert listed.returncode == 0, listed.stderr
    gid = listed.stdout.split('"guest_id": "')[1][:8]
    shown = run("guests", "show", gid, "--json", cwd=checkout)
    assert shown.returncode == 0, shown.stderr
    # Using that source still says exactly what is missing.
    used = run("sync", "--source", "fliggy", cwd=checkout)
    assert used.returncode == 1
    assert "sources.fliggy.app_" in used.stderr and "CRMBRIDGE_TEST_NEVER_SET is not set" in used.stderr


def test_a_literal_secret_is_still_refused_when_the_config_is_read(checkout):
    run("init", cwd=checkout)
    cfg = checkout / "config" / "crmbridge.toml"
    cfg.write_text(cfg.read_text() + '\n[sources.fliggy]\ntype = "fliggy"\napp_secret = "abc123"\n')
    p = run("guests", cwd=checkout)
    assert p.returncode == 2 and "sources.fliggy.app_secret" in p.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("first-hour") / "demo"
    console = Console(record=True, width=200)
    run_demo(workdir, console)
    return workdir, console.export_text()


def test_the_demo_links_the_room_charged_pos_checks_to_their_stays(demo):
    _, text = demo
    line = next(x for x in text.splitlines() if "POS checks:" in x)
    linked, total = (int(n) for n in line.split("POS checks: ")[1].split(" linked")[0].split(" of "))
    assert linked == 8 and total > linked
    assert "not charged to a room" in line  # the others say why


def test_the_demo_reads_the_profiles_business_events_name(demo):
    _, text = demo
    assert "synced opera_demo/profiles: 3 fetched" in text


def test_the_demo_leaves_a_config_to_explore_its_store_and_says_so(demo):
    workdir, text = demo
    config = workdir / "crmbridge.toml"
    assert f"crmbridge guests -c {config}" in text
    check = run("check", "-c", str(config), cwd=workdir)
    assert check.returncode == 0, check.stderr
    guests = run("guests", "--json", "-c", str(config), cwd=workdir)
    assert guests.returncode == 0 and '"opera_demo"' in guests.stdout


def test_the_ctrip_demo_says_its_authentication_failure_is_the_scripted_one(tmp_path, capsys):
    run_demo(tmp_path / "demo", Console(record=True, width=200))
    printed = capsys.readouterr().out
    assert "1 with a wrong password on purpose" in printed and "expected" in printed


def test_the_opera_simulator_prints_help_instead_of_starting():
    p = subprocess.run(
        [sys.executable, "-m", "crmbridge_opera.simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert p.returncode == 0 and "--port" in p.stdout and "[sources.opera]" in p.stdout
    assert "simulator running" not in p.stdout


def test_the_opera_simulator_listens_on_the_port_it_is_given():
    from crmbridge_opera.simulator import OhipSimulator

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sim = OhipSimulator(port=port)
    try:
        assert sim.url == f"http://127.0.0.1:{port}"
    finally:
        sim.stop()
