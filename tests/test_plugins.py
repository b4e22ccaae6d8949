"""Plugin loading and the hook facade: broken plugins are reported, not fatal."""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crmbridge import hookspecs
from crmbridge.api import (
    AdapterConfig,
    AdapterType,
    Alert,
    Batch,
    FolioLine,
    GuestProfile,
    Money,
    PushResult,
    SourceContext,
    Stay,
    hookimpl,
    validate_record,
)
from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import folio_lines, guests, stays

from .conftest import REPO

CRMBRIDGE = str(Path(sys.executable).with_name("crmbridge"))


def make_dist(root: Path, name: str, module_body: str) -> None:
    """An installed distribution on disk: a dist-info with a crmbridge entry point."""
    (root / f"{name}.py").write_text(textwrap.dedent(module_body))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[crmbridge]\n{name} = {name}\n")


def test_builtin_file_adapter_registers_through_entry_points():
    hooks = load_plugins()
    [info] = [p for p in hooks.plugins if p.name == "file"]
    assert info.status == "loaded" and info.distribution == "crmbridge"
    assert "file" in hooks.adapter_types()


def test_plugin_that_raises_on_import_is_reported_and_others_load(tmp_path, monkeypatch):
    make_dist(tmp_path, "crmbridge_broken", "raise RuntimeError('vendor bug: missing licence file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks = load_plugins()
    [broken] = [p for p in hooks.plugins if p.name == "crmbridge_broken"]
    assert broken.status == "failed" and "vendor bug" in broken.error
    assert "file" in hooks.adapter_types()


def test_disable_env_skips_named_plugins(tmp_path, monkeypatch):
    make_dist(tmp_path, "crmbridge_broken", "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("CRMBRIDGE_DISABLE_PLUGINS", "crmbridge_broken, other")
    hooks = load_plugins()
    [p] = [p for p in hooks.plugins if p.name == "crmbridge_broken"]
    assert p.status == "disabled" and p.error is None


def test_unknown_adapter_type_names_the_failed_plugins(tmp_path, monkeypatch):
    make_dist(tmp_path, "crmbridge_broken", "raise ImportError('no module named zeep')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks = load_plugins()
    with pytest.raises(LookupError, match="crmbridge_broken"):
        hooks.adapter_type("acme_pms")  # a type no installed plugin provides


class MemoryAdapter:
    """A plugin providing three streams and push_alerts from memory, to exercise the routing."""

    TYPE = "memory"

    class Config(AdapterConfig):
        hotel_code: str = "PEK02"

    def __init__(self) -> None:
        self.pushed: list[Alert] = []

    @hookimpl
    def crmbridge_adapter_types(self):
        fetch = {"profiles": self.profiles, "stays": self.stays, "folios": self.folios}
        caps = {*fetch, "push_alerts"}
        return [AdapterType(self.TYPE, self.Config, caps, "test double", fetch=fetch, push_alerts=self.push)]

    def profiles(self, source, cursor, full) -> Iterator[Batch[GuestProfile]]:
        p = validate_record(
            GuestProfile,
            {
                "source": source.name,
                "source_id": "P-88",
                "local_name": "王芳",
                "given_name": "Fang",
                "surname": "Wang",
                "phones": [{"number": "+86 139 0013 9000"}],
                "preferences": [{"category": "PILLOW", "code": "BUCKWHEAT"}],
            },
        )
        return iter([Batch([p], "p1")])

    def stays(self, source, cursor, full) -> Iterator[Batch[Stay]]:
        s = Stay(
            source=source.name,
            source_id="S-1",
            reservation_source_id="R-1",
            hotel_code=source.settings.hotel_code,
            room_number="1808",
            checked_in_at="2026-11-20T15:02:00+08:00",
        )
        return iter([Batch([s], "s1")])

    def folios(self, source, cursor, full) -> Iterator[Batch[FolioLine]]:
        f = FolioLine(
            source=source.name,
            source_id="F-1",
            reservation_source_id="R-1",
            hotel_code="PEK02",
            business_date="2026-11-20",
            transaction_code="1000",
            description="Room charge",
            amount=Money(amount="888.00", currency="CNY"),
        )
        return iter([Batch([f], "f1")])

    def push(self, source, alerts) -> list[PushResult]:
        self.pushed += alerts
        return [PushResult(a.pms_id, a.code, "created") for a in alerts]


def test_fetch_profiles_stays_and_folios_hooks_reach_the_store(store):
    plugin = MemoryAdapter()
    hooks = load_plugins(extra=[plugin])
    ctx = SourceContext("beijing_pms", "memory", MemoryAdapter.Config())
    results = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("memory"))
    assert [(r.stream, r.counts.inserted) for r in results] == [("profiles", 1), ("stays", 1), ("folios", 1)]
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(guests)).scalar_one() == 1
        assert c.execute(select(stays.c.room_number)).scalar_one() == "1808"
        assert str(c.execute(select(folio_lines.c.amount)).scalar_one()) == "888.00"


def test_push_alerts_hook_goes_only_to_the_sources_adapter():
    plugin = MemoryAdapter()
    hooks = load_plugins(extra=[plugin])
    alert = Alert(
        target="reservation",
        pms_source="beijing_pms",
        pms_id="R-1",
        code="PREF",
        text="荞麦枕 / buckwheat pillow",
        rule="room_preferences",
    )
    [res] = hooks.push_alerts(SourceContext("beijing_pms", "memory", None), [alert])
    assert res.status == "created" and plugin.pushed == [alert]
    with pytest.raises(LookupError, match="cannot receive alerts"):
        hooks.push_alerts(SourceContext("legacy", "file", None), [alert])


def _hookspec_names() -> list[str]:
    return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("crmbridge_")]


def test_every_hookspec_has_a_docstring_a_test_and_an_entry_in_the_vendor_guide():
    guide = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    tests = "".join(
        p.read_text(encoding="utf-8")
        for p in [*(REPO / "tests").rglob("test_*.py"), *(REPO / "plugins").glob("*/tests/test_*.py")]
        if p.name != "test_plugins.py"
    )
    tests += inspect.getsource(MemoryAdapter)
    for name in _hookspec_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert re.search(rf"\b{name}\b", tests), f"{name} has no test"
        assert f"`{name}`" in guide, f"{name} is not documented in docs/plugins.md"


def test_every_name_of_the_public_api_is_importable_and_versioned():
    from crmbridge import api

    assert re.fullmatch(r"\d+\.\d+", api.PLUGIN_API_VERSION)
    missing = [n for n in api.__all__ if not hasattr(api, n)]
    assert missing == [] and api.hookimpl is hookimpl


def test_no_plugin_asks_which_type_a_source_is():
    sources = [
        *(REPO / "plugins").glob("*/src/**/*.py"),
        *(REPO / "src" / "crmbridge" / "adapters").glob("*.py"),
    ]
    guards = [str(p.relative_to(REPO)) for p in sources if re.search(r"source\.type\s*[!=]=", p.read_text())]
    assert guards == []


class HalfDone:
    """Declares stays but carries only a reservations fetch: the vendor forgot one."""

    @hookimpl
    def crmbridge_adapter_types(self):
        fetch = {"reservations": lambda source, cursor, full: iter(())}
        return [AdapterType("half_pms", AdapterConfig, {"reservations", "stays"}, fetch=fetch)]


def test_an_adapter_declaring_a_stream_it_does_not_implement_fails_to_load_with_a_clear_message():
    hooks = load_plugins(extra=[HalfDone()])
    [info] = [p for p in hooks.plugins if p.distribution is None]
    assert info.status == "failed"
    assert "half_pms: declares stream 'stays' but implements no fetch for it" in info.error
    assert "half_pms" not in hooks.adapter_types()
    with pytest.raises(LookupError, match="failed to load"):
        hooks.adapter_type("half_pms")


def test_an_undeclared_callable_and_an_unknown_capability_are_load_errors_too():
    push = lambda source, alerts: []  # noqa: E731
    extra = AdapterType("lax_pms", AdapterConfig, {"reservation"}, push_alerts=push)
    assert extra.problems() == [
        "lax_pms: unknown capability 'reservation' (known: reservations, stays, folios, profiles, feedback, "
        "pos_checks, receive, push_alerts)",
        "lax_pms: implements push_alerts but does not declare 'push_alerts' in capabilities",
    ]


def test_a_misspelt_hook_implementation_is_reported_by_check_pending(tmp_path, monkeypatch):
    make_dist(
        tmp_path,
        "crmbridge_typo",
        """
        from crmbridge.api import hookimpl

        @hookimpl
        def crmbridge_adapter_type():  # the spec is crmbridge_adapter_types
            return []
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks = load_plugins()
    [typo] = [p for p in hooks.plugins if p.name == "crmbridge_typo"]
    assert typo.status == "failed"
    assert "unknown hook(s) crmbridge_adapter_type (misspelt?" in typo.error
    assert "crmbridge_adapter_types" in typo.error  # the names it could have meant
    assert "file" in hooks.adapter_types()  # the others still load


def test_an_old_api_hook_is_refused_with_what_to_change():
    class Stale:
        @hookimpl
        def crmbridge_fetch_reservations(self, source, cursor, full):
            return None

    [info] = [p for p in load_plugins(extra=[Stale()]).plugins if p.distribution is None]
    assert info.status == "failed" and "callables on the AdapterType" in info.error


def test_a_hook_function_without_the_marker_is_reported_not_ignored():
    class Unmarked:
        def crmbridge_adapter_types(self):
            return []

    [info] = [p for p in load_plugins(extra=[Unmarked()]).plugins if p.distribution is None]
    assert info.status == "failed" and "not marked with @hookimpl" in info.error


def test_two_plugins_declaring_one_type_name_is_a_configuration_error(tmp_path, monkeypatch):
    body = """
        from crmbridge.api import AdapterConfig, AdapterType, hookimpl

        @hookimpl
        def crmbridge_adapter_types():
            return [AdapterType("file", AdapterConfig, {"reservations"},
                                fetch={"reservations": lambda s, c, f: iter(())})]
        """
    make_dist(tmp_path, "crmbridge_clash", body)
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks = load_plugins()
    assert hooks.conflicts() == {"file": ["crmbridge_clash", "file"]}
    with pytest.raises(LookupError, match=r"declared by 2 plugins \(crmbridge_clash, file\)"):
        hooks.adapter_type("file")
    [problem] = hooks.problems()
    assert "uninstall one, or set CRMBRIDGE_DISABLE_PLUGINS=file" in problem


def test_crmbridge_plugins_shows_the_api_version_and_exits_1_on_a_duplicate_type(tmp_path):
    body = """
        from crmbridge.api import AdapterConfig, AdapterType, hookimpl

        @hookimpl
        def crmbridge_adapter_types():
            return [AdapterType("file", AdapterConfig, {"feedback"},
                                fetch={"feedback": lambda s, c, f: iter(())})]
        """
    make_dist(tmp_path, "crmbridge_clash", body)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "200"}
    ok = subprocess.run([CRMBRIDGE, "plugins", "--json"], capture_output=True, text=True, env=os.environ)
    doc = json.loads(ok.stdout)
    assert ok.returncode == 0 and doc["api_version"] == hookspecs.PLUGIN_API_VERSION and doc["problems"] == []
    bad = subprocess.run([CRMBRIDGE, "plugins"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1
    assert f"plugin API {hookspecs.PLUGIN_API_VERSION}" in bad.stdout
    assert "configuration error: adapter type 'file' is declared by 2 plugins" in " ".join(bad.stdout.split())


def test_trace_env_logs_each_hook_and_adapter_call_with_its_duration(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CRMBRIDGE_TRACE_PLUGINS", "1")
    plugin = MemoryAdapter()
    hooks = load_plugins(extra=[plugin])
    with caplog.at_level(logging.INFO, logger="crmbridge.plugins.trace"):
        hooks.alert_rules()
        list(
            hooks.fetch("stays", SourceContext("beijing_pms", "memory", MemoryAdapter.Config()), None, False)
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "crmbridge.plugins.trace"]
    assert any(
        re.fullmatch(r"hook crmbridge_register_alert_rules \(.*rules.*\) took \d+\.\d ms", m) for m in lines
    )
    fetched = r"memory\.fetch\[stays\]\(beijing_pms\): 1 batch\(es\), 1 record\(s\) in .* ms.*"
    assert any(re.fullmatch(fetched, m) for m in lines)


def test_without_the_trace_env_nothing_is_traced(monkeypatch, caplog):
    monkeypatch.delenv("CRMBRIDGE_TRACE_PLUGINS", raising=False)
    with caplog.at_level(logging.INFO, logger="crmbridge.plugins.trace"):
        load_plugins().alert_rules()
    assert [r for r in caplog.records if r.name == "crmbridge.plugins.trace"] == []
