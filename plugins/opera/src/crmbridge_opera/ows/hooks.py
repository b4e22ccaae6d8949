"""Entry point of the OPERA 5 adapter: declares the `opera-ows` adapter type and its demo source.

Everything the core calls (fetch per stream, push_alerts, check) is carried by the adapter
object built in `adapter.py`; the core routes `type = "opera-ows"` sources to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from crmbridge.api import AdapterType, DemoSource, hookimpl

from . import adapter


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [adapter.adapter_type()]


@hookimpl
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    return adapter.demo_sources()
