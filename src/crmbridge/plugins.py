"""Plugin manager: loads entry points one by one, checks them, and exposes a small typed facade.

A plugin that fails to import, implements a hook no spec names (``pm.check_pending()``), or
declares an adapter type whose capabilities do not match its callables is recorded as failed
and reported (``crmbridge plugins``); the others keep working. Two plugins declaring the same
adapter type name is a configuration error: sources of that type refuse to build until one
is removed or disabled. ``CRMBRIDGE_DISABLE_PLUGINS=a,b`` skips plugins by entry-point name;
``CRMBRIDGE_TRACE_PLUGINS=1`` logs every hook and adapter call with its duration.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterator
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
from .hookspecs import PLUGIN_API_VERSION
from .insights.rules import AlertRule
from .models import Alert

log = logging.getLogger(__name__)
trace_log = logging.getLogger("crmbridge.plugins.trace")
ENTRY_POINT_GROUP = "crmbridge"
DISABLE_ENV = "CRMBRIDGE_DISABLE_PLUGINS"
TRACE_ENV = "CRMBRIDGE_TRACE_PLUGINS"
# Hooks of the pre-1.0 API, named in the error so a stale plugin knows what to change.
OLD_HOOKS = {
    "crmbridge_fetch_reservations", "crmbridge_fetch_stays", "crmbridge_fetch_folios",
    "crmbridge_fetch_profiles", "crmbridge_fetch_pos_checks", "crmbridge_fetch_feedback",
    "crmbridge_receive", "crmbridge_push_alerts",
}  # fmt: skip


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


class DuplicateAdapterType(UnknownAdapterType):
    """Two plugins declare the same adapter type name: which one is meant cannot be told."""


class PluginRejected(Exception):
    """Why a plugin that imported fine still cannot be used."""


def _spec_names() -> list[str]:
    return sorted(
        n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("crmbridge_")
    )


class Hooks:
    """The only way the engine calls plugins: typed, keyword-only wrappers around pluggy, and
    routing by type name to the callables each adapter type carries."""

    api_version = PLUGIN_API_VERSION

    def __init__(
        self,
        pm: pluggy.PluginManager,
        plugins: list[PluginInfo],
        adapters: dict[str, AdapterType] | None = None,
        owners: dict[str, list[str]] | None = None,
        trace: bool = False,
    ):
        self.pm = pm
        self.plugins = plugins
        self._adapters = adapters or {}
        self._owners = owners or {}
        self.trace = trace

    # -- adapter types ---------------------------------------------------------------------
    def adapter_types(self) -> dict[str, AdapterType]:
        """Every usable adapter type by name (a duplicated name is left out: see `conflicts`)."""
        return {n: a for n, a in self._adapters.items() if len(self._owners.get(n, ())) < 2}

    def conflicts(self) -> dict[str, list[str]]:
        """Adapter type names declared by more than one plugin, with the plugins."""
        return {n: list(o) for n, o in self._owners.items() if len(o) > 1}

    def problems(self) -> list[str]:
        """Configuration errors of the installed plugins as a whole, in words."""
        return [
            f"adapter type {name!r} is declared by {len(o)} plugins ({', '.join(o)}): uninstall one, "
            f"or set {DISABLE_ENV}={o[-1]}"
            for name, o in sorted(self.conflicts().items())
        ]

    def adapter_type(self, name: str) -> AdapterType:
        owners = self._owners.get(name, [])
        if len(owners) > 1:
            raise DuplicateAdapterType(
                f"adapter type {name!r} is declared by {len(owners)} plugins ({', '.join(owners)}); "
                f"uninstall one or disable it with {DISABLE_ENV}. Run `crmbridge plugins` to see them."
            )
        types = self.adapter_types()
        if name not in types:
            failed = [p.name for p in self.plugins if p.status == "failed"]
            hint = f"; plugins that failed to load: {', '.join(failed)}" if failed else ""
            raise UnknownAdapterType(
                f"no plugin provides adapter type {name!r} (known: {', '.join(sorted(types))})"
                f"{hint}. Run `crmbridge plugins` to see what is installed."
            )
        return types[name]

    # -- adapter callables, routed by the source's type ------------------------------------
    def fetch(
        self, stream: Stream, source: SourceContext, cursor: str | None, full: bool
    ) -> Iterator[Batch[Any]]:
        adapter = self.adapter_type(source.type)
        fn = adapter.fetch.get(stream)
        if fn is None:
            raise UnknownAdapterType(f"source {source.name!r} ({source.type}) does not fetch {stream}")
        if not self.trace:
            return fn(source, cursor, full)
        return self._traced_batches(f"{source.type}.fetch[{stream}]({source.name})", fn(source, cursor, full))

    def receive(self, source: SourceContext, request: PushRequest) -> PushReply:
        fn = self.adapter_type(source.type).receive
        if fn is None:
            raise UnknownAdapterType(f"source {source.name!r} ({source.type}) does not receive pushes")
        return self._timed(f"{source.type}.receive({source.name})", fn, source, request)

    def push_alerts(self, source: SourceContext, alerts: list[Alert]) -> list[PushResult]:
        fn = self.adapter_type(source.type).push_alerts
        if fn is None:
            raise UnknownAdapterType(f"source {source.name!r} ({source.type}) cannot receive alerts")
        return list(self._timed(f"{source.type}.push_alerts({source.name})", fn, source, alerts))

    def check(self, source: SourceContext) -> str | None:
        """The adapter's connectivity check, or None when it has none."""
        fn = self.adapter_type(source.type).check
        return None if fn is None else self._timed(f"{source.type}.check({source.name})", fn, source)

    # -- other hooks -----------------------------------------------------------------------
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

    # -- tracing ---------------------------------------------------------------------------
    def _timed(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        if not self.trace:
            return fn(*args)
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            trace_log.info("%s took %.1f ms", what, (time.perf_counter() - started) * 1000)

    def _traced_batches(self, what: str, batches: Iterator[Batch[Any]]) -> Iterator[Batch[Any]]:
        started, n, records = time.perf_counter(), 0, 0
        try:
            for batch in batches:
                n, records = n + 1, records + batch.size
                yield batch
        finally:
            trace_log.info(
                "%s: %d batch(es), %d record(s) in %.1f ms (including the writes between batches)",
                what, n, records, (time.perf_counter() - started) * 1000,
            )  # fmt: skip


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def _unmarked_hooks(plugin: object) -> list[str]:
    """`crmbridge_*` functions without @hookimpl: pluggy would ignore them silently."""
    return [
        name
        for name in dir(plugin)
        if name.startswith("crmbridge_")
        and callable(getattr(plugin, name, None))
        and not hasattr(getattr(plugin, name), "crmbridge_impl")
    ]


def _check_pending(pm: pluggy.PluginManager, plugin: object) -> None:
    """pm.check_pending(), turned into words a plugin author can act on."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        unknown = sorted(
            name
            for name in vars(pm.hook)
            if not name.startswith("_")
            and not getattr(pm.hook, name).has_spec()
            and any(i.plugin is plugin for i in getattr(pm.hook, name).get_hookimpls())
        )
        old = [n for n in unknown if n in OLD_HOOKS]
        hint = (
            f"; {', '.join(old)} belong(s) to the old API: fetch, receive and push_alerts are now "
            "callables on the AdapterType (see docs/plugins.md)"
            if old
            else ""
        )
        raise PluginRejected(
            f"implements unknown hook(s) {', '.join(unknown)} (misspelt? plugin API {PLUGIN_API_VERSION} "
            f"hooks: {', '.join(_spec_names())}){hint}"
        ) from None
    unmarked = _unmarked_hooks(plugin)
    if unmarked:
        raise PluginRejected(f"{', '.join(unmarked)} not marked with @hookimpl (from crmbridge.api)")


def _declared_types(pm: pluggy.PluginManager, plugin: object) -> list[AdapterType]:
    declared: list[AdapterType] = []
    for impl in pm.hook.crmbridge_adapter_types.get_hookimpls():
        if impl.plugin is plugin:
            declared = list(impl.function() or ())
    problems: list[str] = []
    for at in declared:
        if not isinstance(at, AdapterType):
            problems.append(f"crmbridge_adapter_types returned {type(at).__name__}, not an AdapterType")
        else:
            problems += at.problems()
    if problems:
        raise PluginRejected("; ".join(problems))
    return declared


def _register(pm: pluggy.PluginManager, plugin: object, info: PluginInfo) -> list[AdapterType]:
    """Register and check one plugin; on any problem unregister it and record why."""
    try:
        pm.register(plugin, name=info.name)
    except Exception as exc:  # a signature that does not match its spec, a name taken twice
        info.status, info.error = "failed", "".join(traceback.format_exception_only(exc)).strip()
        log.error("plugin %s failed to load: %s", info.name, info.error)
        return []
    try:
        _check_pending(pm, plugin)
        declared = _declared_types(pm, plugin)
    except Exception as exc:
        pm.unregister(plugin)
        info.status = "failed"
        info.error = str(exc) if isinstance(exc, PluginRejected) else f"{type(exc).__name__}: {exc}"
        log.error("plugin %s failed to load: %s", info.name, info.error)
        return []
    info.adapter_types = [a.name for a in declared]
    return declared


def _load_one(pm: pluggy.PluginManager, ep: EntryPoint) -> tuple[PluginInfo, list[AdapterType]]:
    dist = ep.dist.name if ep.dist else None
    version = ep.dist.version if ep.dist else None
    info = PluginInfo(ep.name, dist, version, "loaded")
    try:
        module = ep.load()
    except Exception as exc:  # a broken plugin must not take the others down
        info.status = "failed"
        info.error = "".join(traceback.format_exception_only(exc)).strip()
        log.error("plugin %s failed to load: %s", ep.name, info.error)
        return info, []
    return info, _register(pm, module, info)


def _trace_hook_calls(pm: pluggy.PluginManager) -> None:
    starts: dict[int, float] = {}

    def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        starts[id(kwargs)] = time.perf_counter()

    def after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        took = (time.perf_counter() - starts.pop(id(kwargs), time.perf_counter())) * 1000
        trace_log.info("hook %s (%s) took %.1f ms", hook_name, ", ".join(i.plugin_name for i in impls), took)

    pm.add_hookcall_monitoring(before, after)


def load_plugins(extra: list[object] | None = None) -> Hooks:
    """Every installed plugin (entry-point group ``crmbridge``), plus `extra` plugin objects
    (tests), each checked as it is registered."""
    pm = pluggy.PluginManager("crmbridge")
    pm.add_hookspecs(hookspecs)
    trace = os.environ.get(TRACE_ENV, "") not in ("", "0")
    if trace:
        _trace_hook_calls(pm)
    disabled = _disabled()
    infos: list[PluginInfo] = []
    adapters: dict[str, AdapterType] = {}
    owners: dict[str, list[str]] = {}

    def add(info: PluginInfo, declared: list[AdapterType]) -> None:
        infos.append(info)
        for at in declared:
            adapters.setdefault(at.name, at)
            owners.setdefault(at.name, []).append(info.name)

    seen: set[str] = set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in seen:  # the same dist visible twice on sys.path
            continue
        seen.add(ep.name)
        if ep.name in disabled:
            infos.append(PluginInfo(ep.name, ep.dist.name if ep.dist else None, None, "disabled"))
            continue
        add(*_load_one(pm, ep))
    for plugin in extra or ():
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin):x}"
        info = PluginInfo(name, None, None, "loaded")
        add(info, _register(pm, plugin, info))
    hooks = Hooks(pm, infos, adapters, owners, trace)
    for problem in hooks.problems():
        log.error("%s", problem)
    return hooks
