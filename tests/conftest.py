"""Shared constants. The store fixtures (`store`, `db_url`, `keyring`, `sqlite_store`) come from
crmbridge's pytest plugin (``crmbridge.testing.pytest_plugin``), so the plugins' own tests in
plugins/*/tests get them too: every store test runs against SQLite and the local PostgreSQL.
Set CRMBRIDGE_TEST_PG_URL to point elsewhere; set CRMBRIDGE_TEST_SKIP_PG=1 only on a machine
without PostgreSQL (CI never does).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
