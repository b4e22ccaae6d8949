"""Operating crmbridge: a secret that resolves empty is a configuration error, `init` leaves
nothing readable by others whatever the umask, and `check` refuses what `run` cannot run."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmbridge.config import ConfigError, load_config

from .conftest import REPO
from .test_cli import cli, project

CTRIP = (
    '\n[sources.ctrip]\ntype = "ctrip"\nhotel_code = "SHA01"\nrequestor_id = "ctrip-sha01"\n'
    'message_password = "${env:CTRIP_MESSAGE_PASSWORD}"\npath = "/ota/ctrip"\n'
)


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "crmbridge.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n{body}', encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_a_secret_from_the_environment_that_is_empty_or_blank_is_a_config_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv("CTRIP_MESSAGE_PASSWORD", value)
    cfg = load_config(_config(tmp_path, CTRIP))  # secrets resolve when a command uses the source
    with pytest.raises(ConfigError, match=r"\[sources\.ctrip\.message_password\].*empty secret"):
        cfg.sources["ctrip"].resolved_options()


def test_a_secret_file_that_is_empty_is_a_config_error_for_any_adapter(tmp_path):
    (tmp_path / "secret").write_text("\n")
    body = '\n[sources.opera]\ntype = "opera"\nclient_secret = "${file:secret}"\n'
    cfg = load_config(_config(tmp_path, body))
    with pytest.raises(ConfigError, match=r"\[sources\.opera\.client_secret\].*empty secret"):
        cfg.sources["opera"].resolved_options()


@pytest.mark.parametrize("command", ["check", "run", "serve"])
def test_check_run_and_serve_exit_2_when_the_ctrip_password_resolves_empty(tmp_path, command):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cfg = root / "config" / "crmbridge.toml"
    cfg.write_text(cfg.read_text() + CTRIP)
    p = cli(command, cwd=root, env={"CTRIP_MESSAGE_PASSWORD": " "}, check=False)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "sources.ctrip.message_password" in p.stderr and "empty secret" in p.stderr


def test_init_leaves_the_config_the_key_and_var_private_even_with_umask_000(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "crmbridge.example.toml").write_text(
        (REPO / "config" / "crmbridge.example.toml").read_text()
    )
    env = {**os.environ}
    env.pop("CRMBRIDGE_KEYS", None)
    subprocess.run(
        ["sh", "-c", f"umask 000 && exec {sys.executable} -m crmbridge init"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    mode = {
        p: stat.S_IMODE((tmp_path / p).stat().st_mode)
        for p in ("config/crmbridge.toml", "var", "var/crmbridge.key")
    }
    assert mode == {"config/crmbridge.toml": 0o600, "var": 0o700, "var/crmbridge.key": 0o600}


@pytest.mark.parametrize(
    ("find", "replace", "where"),
    [
        ('schedule = { every = "15m" }', 'schedule = { cron = "99 * * * *" }', "sources.legacy_pms.schedule"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"', "[timezone]"),
        ('schedule = { cron = "0 6,14 * * *" }', 'schedule = { cron = "0 25 * * *" }', "[alerts]"),
        ('schedule = { every = "15m" }', 'schedule = { every = "0s" }', "sources.legacy_pms.schedule"),
        ("max_rating = 2", 'max_rating = "two"', "alerts.rules.complaint"),
        ('# push_to = ["opera_pms"]', 'push_to = ["opera_pms"]', "[alerts] push_to"),
        ('# push_to = ["opera_pms"]', 'push_to = ["legacy_pms"]', "alerts.push_to"),
    ],
)
def test_check_and_run_exit_2_naming_file_table_and_key_for_what_run_cannot_start(
    tmp_path, find, replace, where
):
    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cfg = root / "config" / "crmbridge.toml"
    text = cfg.read_text()
    assert find in text
    cfg.write_text(text.replace(find, replace, 1))
    for command in ("check", "run"):
        p = cli(command, cwd=root, check=False)
        assert p.returncode == 2, (command, p.stdout, p.stderr)
        assert "crmbridge.toml" in p.stderr and where in p.stderr, p.stderr
        assert "Traceback" not in p.stderr


def test_scheduled_sync_results_are_logged_at_info(tmp_path, caplog):
    import threading

    from rich.console import Console

    from crmbridge.cli.context import open_app
    from crmbridge.engine.scheduler import run_scheduler

    root = project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    cfg = root / "config" / "crmbridge.toml"
    cfg.write_text(cfg.read_text().replace('schedule = { cron = "0 6,14 * * *" }', ""))
    caplog.set_level(logging.INFO)
    a = open_app(cfg)
    stop = threading.Event()
    runner = threading.Thread(target=run_scheduler, args=(a, Console(file=None)), kwargs={"stop": stop})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("signal.signal", lambda *_: None)  # not the main thread
        runner.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            "legacy_pms/" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
        stop.set()
        runner.join(30)
    [line] = [r for r in caplog.records if r.getMessage().startswith("legacy_pms/reservations ok")]
    assert line.levelno == logging.INFO and "fetched=20" in line.getMessage()
