"""What a crmbridge plugin needs for its tests and simulators (the ``testing`` extra).

* ``LoopbackServer`` / ``QuietHandler``: a threaded HTTP server on 127.0.0.1 for simulators;
* ``wait_for``: bounded polling for asynchronous outcomes (the receiver's worker);
* ``AdapterConformance`` / ``Harness``: the adapter conformance suite (needs pytest);
* the pytest plugin (``crmbridge.testing.pytest_plugin``, loaded automatically): the
  ``store``, ``db_url``, ``keyring`` and ``sqlite_store`` fixtures.

Production code never imports this package; simulators and the demo do.
"""

from __future__ import annotations

from typing import Any

from .server import LOOPBACK, LoopbackServer, QuietHandler
from .waiting import wait_for

__all__ = ["LOOPBACK", "AdapterConformance", "Harness", "LoopbackServer", "QuietHandler", "wait_for"]


def __getattr__(name: str) -> Any:
    # The suite imports pytest; simulators import this package without it.
    if name in ("AdapterConformance", "Harness"):
        from . import conformance

        return getattr(conformance, name)
    raise AttributeError(name)
