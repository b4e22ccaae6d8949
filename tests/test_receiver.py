"""The inbound receiver: one route per push source, a size limit, a health check, and every
accepted message in the store within seconds, surviving processing failures and restarts."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from crmbridge.adapters.base import AdapterType, PushRequest, SourceContext
from crmbridge.config import Config, ConfigError, ReceiverConfig, SourceConfig, StoreConfig
from crmbridge.hookspecs import hookimpl
from crmbridge.plugins import load_plugins
from crmbridge.receiver import PushRoute, Receiver, push_sources
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.writer import BatchWriter

from . import push_plugin
from .conftest import REPO
from .factories import reservation
from .receiver_helpers import count_reservations, guest_of, reservation_row, wait_for

TOKEN = "s3cret-for-tests"
PATH = "/push/json"


def _receiver(store: GuestStore, hooks=None, **settings) -> Receiver:
    hooks = hooks or load_plugins(extra=[push_plugin])
    ctx = SourceContext("ota", push_plugin.TYPE, push_plugin.Config(shared_token=TOKEN))
    ctx.inbox, ctx.ledger = store.inbox("ota"), store.ledger("ota")
    adapter = hooks.adapter_type(push_plugin.TYPE)
    opts = {"port": 0, "retry_seconds": 0.2, "max_body_bytes": 4096, **settings}
    return Receiver(store, hooks, [PushRoute(PATH, ctx, adapter)], ReceiverConfig(**opts))


@pytest.fixture
def receiver(store) -> Iterator[Receiver]:
    with _receiver(store) as r:
        yield r


def _order(order_id: str, phone: str = "+86 138-0013-8000", name: str = "张伟") -> bytes:
    doc = {"order_id": order_id, "arrival": "2026-12-01", "departure": "2026-12-03", "phone": phone}
    return json.dumps({**doc, "name": name}, ensure_ascii=False).encode()


def _post(r: Receiver, body: bytes, token: str = TOKEN) -> httpx.Response:
    return httpx.post(r.url + PATH, content=body, headers={"x-token": token}, timeout=10)


def test_pushed_order_is_in_the_store_matched_to_the_existing_guest_within_seconds(store, receiver):
    with store.transaction() as w:  # the guest is known from the PMS export, phone typed otherwise
        w.upsert_reservations([reservation("PMS-1")])  # phone 138 0013 8000
    resp = _post(receiver, _order("CT-1"))
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    wait_for(lambda: reservation_row(store, "ota", "CT-1"), what="the order landing in the store")
    assert guest_of(store, "ota", "CT-1") == guest_of(store, "legacy_pms", "PMS-1") is not None
    assert store.inbox("ota").counts() == {"done": 1}


def test_concurrent_and_repeated_pushes_are_stored_once_each(store, receiver):
    bodies = [_order(f"CT-{i % 20}", phone=f"+86 139 0000 00{i % 20:02d}") for i in range(60)]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda b: _post(receiver, b).status_code, bodies))
    assert codes == [200] * 60
    wait_for(lambda: count_reservations(store, "ota") == 20, what="20 distinct orders in the store")
    wait_for(lambda: store.inbox("ota").counts() == {"done": 20}, what="every message done")


def test_a_wrong_credential_is_refused_by_the_adapter_and_nothing_is_stored(store, receiver):
    resp = _post(receiver, _order("CT-9"), token="guess")
    assert resp.status_code == 401
    assert store.inbox("ota").counts() == {}


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(store, receiver):
    big = _order("CT-BIG", name="张" * 5000)
    assert len(big) > 4096
    assert _post(receiver, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: the limit applies while reading
        for _ in range(100):
            yield b" " * 1024

    resp = httpx.post(receiver.url + PATH, content=chunks(), headers={"x-token": TOKEN}, timeout=10)
    assert resp.status_code == 413
    assert store.inbox("ota").counts() == {}


def test_a_declared_length_over_the_limit_is_answered_413_without_waiting_for_the_body(store, receiver):
    # Only the headers and a few bytes are sent: a server that reads the body first would
    # wait for the rest and never answer (the socket timeout ends the test then).
    host, port = receiver.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nx-token: {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n".encode()
            + b'{"order": '
        )
        assert s.recv(64).startswith(b"HTTP/1.1 413")
    assert store.inbox("ota").counts() == {}


def test_only_post_reaches_a_push_route(receiver):
    assert httpx.get(receiver.url + PATH, timeout=10).status_code == 405
    assert httpx.post(receiver.url + "/push/unknown", content=b"{}", timeout=10).status_code == 404


def test_healthz_reports_each_push_source_and_its_inbox(store, receiver):
    _post(receiver, _order("CT-H"))
    wait_for(lambda: store.inbox("ota").counts() == {"done": 1}, what="the order processed")
    doc = httpx.get(receiver.url + "/healthz", timeout=10).json()
    assert doc == {"status": "ok", "sources": {"ota": {"path": PATH, "inbox": {"done": 1}}}}


def test_a_processing_failure_leaves_the_message_pending_and_the_retry_lands_it(store, monkeypatch):
    real = BatchWriter.upsert_reservations
    calls: list[int] = []

    def flaky(self, batch):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the store went away mid-batch")
        return real(self, batch)

    monkeypatch.setattr(BatchWriter, "upsert_reservations", flaky)
    with _receiver(store) as r:
        assert _post(r, _order("CT-R")).status_code == 200
        wait_for(lambda: reservation_row(store, "ota", "CT-R"), what="the retried order landing")
    assert len(calls) >= 2
    assert store.inbox("ota").counts() == {"done": 1}


def test_messages_committed_before_a_stop_are_processed_at_the_next_start(store):
    hooks = load_plugins(extra=[push_plugin])
    ctx = SourceContext("ota", push_plugin.TYPE, push_plugin.Config(shared_token=TOKEN))
    ctx.inbox = store.inbox("ota")
    # As if the process died right after the inbox commit: replied, never processed.
    reply = hooks.receive(ctx, PushRequest("POST", PATH, {"x-token": TOKEN}, _order("CT-K")))
    assert reply.status == 200 and store.inbox("ota").counts() == {"pending": 1}
    assert reservation_row(store, "ota", "CT-K") is None
    with _receiver(store, hooks):
        wait_for(lambda: reservation_row(store, "ota", "CT-K"), what="the order landing after restart")


class Exploding:
    """A push adapter whose receive hook raises with guest data in the message."""

    @hookimpl
    def crmbridge_adapter_types(self):
        return [AdapterType("boom", push_plugin.Config, {"receive"}, receive=self.receive)]

    def receive(self, source, request):
        raise ValueError("guest 李娜 +8613800138000")


def test_a_receive_hook_that_raises_answers_500_without_details(store, caplog):
    hooks = load_plugins(extra=[Exploding()])
    ctx = SourceContext("boom", "boom", push_plugin.Config(shared_token=TOKEN), inbox=store.inbox("boom"))
    settings = ReceiverConfig(port=0)
    with Receiver(store, hooks, [PushRoute("/boom", ctx, hooks.adapter_type("boom"))], settings) as r:
        resp = httpx.post(r.url + "/boom", content=b"{}", timeout=10)
    assert resp.status_code == 500 and resp.text == "internal error"
    assert "李娜" not in caplog.text and "13800138000" not in caplog.text


def _config(**sources: dict) -> Config:
    cfg = Config(path=Path("crmbridge.toml"), store=StoreConfig())
    for name, opts in sources.items():
        opts = dict(opts)
        cfg.sources[name] = SourceConfig(name, opts.pop("type"), None, opts)
    return cfg


def test_push_sources_are_the_sources_that_receive_each_on_its_own_path(store):
    hooks = load_plugins(extra=[push_plugin])
    cfg = _config(
        a={"type": "jsonpush", "path": "/push/a", "shared_token": "x"},
        pms={"type": "file", "path": "imports/*.csv"},
    )
    assert [(r.path, r.ctx.name) for r in push_sources(cfg, hooks, store)] == [("/push/a", "a")]


@pytest.mark.parametrize(
    "paths, problem",
    [(["push/a"], 'starting with "/"'), (["/healthz"], "health check"), (["/p", "/p"], "source a")],
)
def test_push_source_paths_must_be_absolute_and_unique(store, paths, problem):
    hooks = load_plugins(extra=[push_plugin])
    names = "ab"[: len(paths)]
    cfg = _config(
        **{n: {"type": "jsonpush", "path": p, "shared_token": "x"} for n, p in zip(names, paths, strict=True)}
    )
    with pytest.raises(ConfigError, match=problem):
        push_sources(cfg, hooks, store)


# -- the commands -----------------------------------------------------------------------------


def _project(tmp_path: Path, db_url: str) -> tuple[Path, dict[str, str]]:
    """A checkout whose config has one push source, the test adapter installed by entry point."""
    site = tmp_path / "site"
    info = site / "crmbridge_jsonpush-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crmbridge-jsonpush\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[crmbridge]\njsonpush = tests.push_plugin\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "crmbridge.toml").write_text(
        f'[store]\nurl = "{db_url}"\nkey_file = "var/crmbridge.key"\n\n'
        f'[receiver]\nport = 0\n\n[sources.ota]\ntype = "jsonpush"\npath = "{PATH}"\n'
        'shared_token = "${env:OTA_TOKEN}"\n'
    )
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{REPO}", "OTA_TOKEN": TOKEN}
    env.update({"COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    env.pop("CRMBRIDGE_KEYS", None)
    subprocess.run([sys.executable, "-m", "crmbridge", "init"], cwd=tmp_path, env=env, check=True)
    return tmp_path, env


def _serve_and_push(root: Path, env: dict[str, str], command: str, store_url: str) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmbridge", command],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        url = wait_for(
            lambda: next((m.group(1) for ln in lines if (m := re.search(r"on (http://\S+):", ln))), None),
            timeout=30,
            what=f"`crmbridge {command}` listening",
        )
        assert httpx.post(url + PATH, content=_order("CT-CLI"), headers={"x-token": TOKEN}).status_code == 200
        from crmbridge.store.crypto import Keyring

        store = GuestStore.open(store_url, Keyring.load(root / "var" / "crmbridge.key"), upgrade=False)
        try:
            wait_for(lambda: reservation_row(store, "ota", "CT-CLI"), what="the order in the store")
        finally:
            store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        reader.join(5)
    assert code == 0, "".join(lines)
    return "".join(lines)


def test_crmbridge_serve_receives_processes_and_stops_cleanly_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    root, env = _project(tmp_path, url)
    out = _serve_and_push(root, env, "serve", url)
    assert "receiving on" in out and "(ota)" in out and "stopped cleanly" in out


def test_crmbridge_run_starts_the_receiver_for_a_push_source(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    root, env = _project(tmp_path, url)
    out = _serve_and_push(root, env, "run", url)
    assert "receiving on" in out and "stopped cleanly" in out
