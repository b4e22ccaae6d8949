"""Hook glue of the OPERA 5 adapter: each hook answers for `type = "opera-ows"` sources only.

Thin on purpose: everything it calls lives in `adapter.py`, so moving to another plugin API
means rewiring these few lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from crmbridge.adapters.base import AdapterType, DemoSource, PushResult, SourceContext
from crmbridge.hookspecs import hookimpl
from crmbridge.models import Alert

from . import adapter


def _fetch(stream: str, source: SourceContext, cursor: str | None, full: bool) -> Iterator[Any] | None:
    return adapter.FETCHERS[stream](source, cursor, full) if source.type == adapter.TYPE else None


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [adapter.adapter_type()]


@hookimpl
def crmbridge_fetch_reservations(source: SourceContext, cursor: str | None, full: bool) -> Any:
    return _fetch("reservations", source, cursor, full)


@hookimpl
def crmbridge_fetch_profiles(source: SourceContext, cursor: str | None, full: bool) -> Any:
    return _fetch("profiles", source, cursor, full)


@hookimpl
def crmbridge_fetch_stays(source: SourceContext, cursor: str | None, full: bool) -> Any:
    return _fetch("stays", source, cursor, full)


@hookimpl
def crmbridge_fetch_folios(source: SourceContext, cursor: str | None, full: bool) -> Any:
    return _fetch("folios", source, cursor, full)


@hookimpl
def crmbridge_push_alerts(source: SourceContext, alerts: list[Alert]) -> list[PushResult] | None:
    return adapter.push_alerts(source, alerts) if source.type == adapter.TYPE else None


@hookimpl
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    return adapter.demo_sources()
