"""The Ctrip source in `crmbridge demo`, and behind `crmbridge serve` with a real config."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

from crmbridge_ctrip.simulator import main as simulator_main
from crmbridge_ctrip.simulator import run, scripted_stream
from rich.console import Console

from crmbridge.cli.demo import run_demo
from crmbridge.store.crypto import Keyring
from crmbridge.store.guest_store import GuestStore
from tests.receiver_helpers import count_reservations, wait_for

from .messages import CREDS, HOTEL

CLI = [sys.executable, "-m", "crmbridge"]


def test_the_demo_receives_the_scripted_ctrip_stream_over_http(tmp_path):
    console = Console(record=True, width=200)
    run_demo(tmp_path / "demo", console)
    assert "received ctrip over HTTP: 7 message(s) processed, 0 waiting" in console.export_text()


def _project(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A checkout with one ctrip source whose password is given by file reference."""
    (tmp_path / "config").mkdir()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "ctrip").write_text(CREDS.password + "\n")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "config" / "crmbridge.toml").write_text(
        f'[store]\nurl = "{store_url}"\n\n[receiver]\nport = 0\n\n'
        f'[sources.ctrip]\ntype = "ctrip"\nhotel_code = "{HOTEL}"\nrequestor_id = "{CREDS.requestor_id}"\n'
        'message_password = "${file:../secrets/ctrip}"\npath = "/ota/ctrip"\n'
    )
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    env.pop("CRMBRIDGE_KEYS", None)
    subprocess.run([*CLI, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    return store_url, env


class Serve:
    """`crmbridge serve` in a subprocess, with the URL it printed."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "serve"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        threading.Thread(
            target=lambda: self.lines.extend(iter(self.proc.stdout.readline, "")), daemon=True
        ).start()
        self.url = wait_for(
            lambda: next(
                (m.group(1) for ln in self.lines if (m := re.search(r"on (http://\S+):", ln))), None
            ),
            timeout=30,
            what="crmbridge serve listening",
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)


def _open(tmp_path: Path, store_url: str) -> GuestStore:
    return GuestStore.open(store_url, Keyring.load(tmp_path / "var" / "crmbridge.key"), upgrade=False)


def test_crmbridge_serve_takes_the_simulators_stream_with_the_password_given_by_reference(
    tmp_path, monkeypatch
):
    store_url, env = _project(tmp_path)
    serve = Serve(tmp_path, env)
    try:
        monkeypatch.setenv("CTRIP_MESSAGE_PASSWORD", CREDS.password)
        args = ["--url", serve.url + "/ota/ctrip", "--hotel", HOTEL, "--requestor-id", CREDS.requestor_id]
        assert simulator_main(args) == 0  # every reply as Ctrip expects, the wrong password refused
        store = _open(tmp_path, store_url)
        try:
            wait_for(lambda: count_reservations(store, "ctrip") == 4, what="4 orders in the store")
        finally:
            store.close()
    finally:
        code = serve.stop()
    assert code == 0, "".join(serve.lines)


def test_sigkill_right_after_the_replies_loses_no_order(tmp_path):
    store_url, env = _project(tmp_path)
    serve = Serve(tmp_path, env)
    outcomes = run(serve.url + "/ota/ctrip", scripted_stream(CREDS, HOTEL, date(2026, 12, 1)))
    assert serve.stop(signal.SIGKILL) == -signal.SIGKILL  # maybe before, maybe during processing
    assert all(step.expect(out) for step, out in outcomes)
    serve = Serve(tmp_path, env)
    store = _open(tmp_path, store_url)
    try:
        wait_for(
            lambda: count_reservations(store, "ctrip") == 4, what="every acknowledged order in the store"
        )
        wait_for(lambda: store.inbox("ctrip").counts() == {"done": 7}, what="every message done")
    finally:
        store.close()
        serve.stop()
