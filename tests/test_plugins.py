"""Plugin loading and the hook facade: broken plugins are reported, not fatal."""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crmbridge import hookspecs
from crmbridge.adapters.base import AdapterConfig, AdapterType, Batch, PushResult, SourceContext
from crmbridge.engine.sync import SyncEngine
from crmbridge.hookspecs import hookimpl
from crmbridge.models import Alert, FolioLine, GuestProfile, Money, Stay, validate_record
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import folio_lines, guests, stays

from .conftest import REPO


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
    """A plugin providing every stream from memory, to exercise each hook end to end."""

    TYPE = "memory"

    class Config(AdapterConfig):
        hotel_code: str = "PEK02"

    def __init__(self) -> None:
        self.pushed: list[Alert] = []

    @hookimpl
    def crmbridge_adapter_types(self):
        caps = frozenset({"profiles", "stays", "folios", "push_alerts"})
        return [AdapterType(self.TYPE, self.Config, caps, "test double")]

    @hookimpl
    def crmbridge_fetch_profiles(self, source, cursor, full) -> Iterator[Batch[GuestProfile]] | None:
        if source.type != self.TYPE:
            return None
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

    @hookimpl
    def crmbridge_fetch_stays(self, source, cursor, full) -> Iterator[Batch[Stay]] | None:
        if source.type != self.TYPE:
            return None
        s = Stay(
            source=source.name,
            source_id="S-1",
            reservation_source_id="R-1",
            hotel_code=source.settings.hotel_code,
            room_number="1808",
            checked_in_at="2026-11-20T15:02:00+08:00",
        )
        return iter([Batch([s], "s1")])

    @hookimpl
    def crmbridge_fetch_folios(self, source, cursor, full) -> Iterator[Batch[FolioLine]] | None:
        if source.type != self.TYPE:
            return None
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

    @hookimpl
    def crmbridge_push_alerts(self, source, alerts) -> list[PushResult] | None:
        if source.type != self.TYPE:
            return None
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


def test_every_hookspec_has_a_docstring_a_test_and_a_readme_entry():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tests = "".join(
        p.read_text(encoding="utf-8")
        for p in (REPO / "tests").rglob("test_*.py")
        if p.name != "test_plugins.py"
    )
    tests += inspect.getsource(MemoryAdapter)
    for name in _hookspec_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert re.search(rf"\b{name}\b", tests), f"{name} has no test"
        assert f"`{name}`" in readme, f"{name} is not documented in README.md"
