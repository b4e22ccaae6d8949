"""Shared constants. The store fixtures (`store`, `db_url`, `keyring`, `sqlite_store`) come from
crmbridge's pytest plugin (``crmbridge.testing.pytest_plugin``), so the plugins' own tests in
plugins/*/tests get them too: every store test runs against SQLite and the local PostgreSQL.
Set CRMBRIDGE_TEST_PG_URL to point elsewhere; set CRMBRIDGE_TEST_SKIP_PG=1 only on a machine
without PostgreSQL (CI never does).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_file(relative: str) -> Path:
    """A file of the reference material in ../shared, or skip naming it.

    A fresh clone has no ../shared beside it, so tests that cross-check against Oracle's or
    OpenTravel's files skip there and run in CI, where the material is present."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} not found ({path}): cross-check against reference material")
    return path
