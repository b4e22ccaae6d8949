"""Plugin manager: loads entry points one by one and exposes a small typed facade.

A plugin that fails to import is recorded and reported (``crmbridge plugins``); the others keep
working. ``CRMBRIDGE_DISABLE_PLUGINS=a,b`` skips plugins by entry-point name.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .adapters.base import (
    AdapterType,
    Batch,
    DemoSource,
    PushReply,
    PushRequest,
    PushResult,
    SourceContext,
    Stream,
)
from .insights.rules import AlertRule
from .models import Alert

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "crmbridge"
DISABLE_ENV = "CRMBRIDGE_DISABLE_PLUGINS"


@dataclass
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    status: str  # "loaded", "failed", "disabled"
    error: str | None = None
    adapter_types: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


class UnknownAdapterType(LookupError):
    pass


class Hooks:
    """The only way the engine calls plugins: typed, keyword-only wrappers around pluggy."""

    def __init__(self, pm: pluggy.PluginManager, plugins: list[PluginInfo]):
        self.pm = pm
        self.plugins = plugins

    def adapter_types(self) -> dict[str, AdapterType]:
        found: dict[str, AdapterType] = {}
        for impl in self.pm.hook.crmbridge_adapter_types.get_hookimpls():
            for at in impl.function() or ():
                if at.name in found:
                    log.warning("adapter type %r declared twice; keeping the first", at.name)
                    continue
                found[at.name] = at
        return found

    def adapter_type(self, name: str) -> AdapterType:
        types = self.adapter_types()
        if name not in types:
            failed = [p.name for p in self.plugins if p.status == "failed"]
            hint = f"; plugins that failed to load: {', '.join(failed)}" if failed else ""
            raise UnknownAdapterType(
                f"no plugin provides adapter type {name!r} (known: {', '.join(sorted(types))})"
                f"{hint}. Run `crmbridge plugins` to see what is installed."
            )
        return types[name]

    def fetch(
        self, stream: Stream, source: SourceContext, cursor: str | None, full: bool
    ) -> Iterator[Batch[Any]]:
        hook = getattr(self.pm.hook, f"crmbridge_fetch_{stream}")
        result = hook(source=source, cursor=cursor, full=full)
        return iter(()) if result is None else result

    def demo_sources(self, workdir: Path) -> list[DemoSource]:
        return [d for part in self.pm.hook.crmbridge_demo_sources(workdir=workdir) for d in part or ()]

    def alert_rules(self) -> dict[str, AlertRule]:
        """Built-in and plugin rules by name; a name declared twice keeps the first."""
        found: dict[str, AlertRule] = {}
        for part in self.pm.hook.crmbridge_register_alert_rules():
            for rule in part or ():
                if rule.name in found:
                    log.warning("alert rule %r declared twice; keeping the first", rule.name)
                    continue
                found[rule.name] = rule
        return found

    def receive(self, source: SourceContext, request: PushRequest) -> PushReply:
        reply = self.pm.hook.crmbridge_receive(source=source, request=request)
        if reply is None:
            raise UnknownAdapterType(f"source {source.name!r} ({source.type}) does not receive pushes")
        return reply

    def push_alerts(self, source: SourceContext, alerts: list[Alert]) -> list[PushResult]:
        result = self.pm.hook.crmbridge_push_alerts(source=source, alerts=alerts)
        if result is None:
            raise UnknownAdapterType(f"source {source.name!r} ({source.type}) cannot receive alerts")
        return list(result)


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def _load_one(pm: pluggy.PluginManager, ep: EntryPoint) -> PluginInfo:
    dist = ep.dist.name if ep.dist else None
    version = ep.dist.version if ep.dist else None
    info = PluginInfo(ep.name, dist, version, "loaded")
    try:
        module = ep.load()
        pm.register(module, name=ep.name)
    except Exception as exc:  # a broken plugin must not take the others down
        info.status = "failed"
        info.error = "".join(traceback.format_exception_only(exc)).strip()
        log.error("plugin %s failed to load: %s", ep.name, info.error)
        return info
    for impl in pm.hook.crmbridge_adapter_types.get_hookimpls():
        if impl.plugin_name == ep.name:
            info.adapter_types = [a.name for a in impl.function() or ()]
    return info


def load_plugins(extra: list[object] | None = None) -> Hooks:
    pm = pluggy.PluginManager("crmbridge")
    pm.add_hookspecs(hookspecs)
    disabled = _disabled()
    infos: list[PluginInfo] = []
    seen: set[str] = set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in seen:  # the same dist visible twice on sys.path
            continue
        seen.add(ep.name)
        if ep.name in disabled:
            infos.append(PluginInfo(ep.name, ep.dist.name if ep.dist else None, None, "disabled"))
            continue
        infos.append(_load_one(pm, ep))
    for plugin in extra or ():
        pm.register(plugin)
    return Hooks(pm, infos)
