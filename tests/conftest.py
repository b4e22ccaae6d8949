"""Shared fixtures. Every store test runs against SQLite and against the local PostgreSQL.

PostgreSQL: a template database is migrated once per run, each test gets a fresh copy, and
all of them are dropped at the end. Set CRMBRIDGE_TEST_PG_URL to point elsewhere; set
CRMBRIDGE_TEST_SKIP_PG=1 only on a machine without PostgreSQL (CI never does).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crmbridge.store.crypto import Keyring
from crmbridge.store.db import make_engine, migrate
from crmbridge.store.guest_store import GuestStore

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_ADMIN_URL = os.environ.get("CRMBRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_counter = itertools.count()


def shared_file(relative: str) -> Path:
    """A file of the reference material in ../shared, or skip naming it.

    A fresh clone has no ../shared beside it, so tests that cross-check against Oracle's or
    OpenTravel's files skip there and run in CI, where the material is present."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} not found ({path}): cross-check against reference material")
    return path


def _pg_admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if os.environ.get("CRMBRIDGE_TEST_SKIP_PG") == "1":
        pytest.skip("CRMBRIDGE_TEST_SKIP_PG=1: PostgreSQL tests skipped")
    run = uuid.uuid4().hex[:8]
    name = f"crmbridge_tpl_{run}"
    admin = _pg_admin()
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - environment problem, say what to do
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__}). Start it, set "
            "CRMBRIDGE_TEST_PG_URL, or set CRMBRIDGE_TEST_SKIP_PG=1 to skip those tests."
        )
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    eng = make_engine(url)
    migrate(eng)
    eng.dispose()
    yield name
    with admin.connect() as c:
        for (db,) in c.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"crmbridge_%_{run}%"}
        ).all():
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    admin.dispose()


def _fresh_pg(template: str) -> tuple[str, str]:
    run = template.rsplit("_", 1)[1]
    name = f"crmbridge_t_{run}_{next(_counter)}"
    with _pg_admin().connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg(name: str) -> None:
    with _pg_admin().connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A freshly migrated, empty store database URL, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        eng = make_engine(url)
        migrate(eng)
        eng.dispose()
        yield url
        return
    name, url = _fresh_pg(request.getfixturevalue("pg_template"))
    yield url
    _drop_pg(name)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate("test")


@pytest.fixture
def store(db_url, keyring) -> Iterator[GuestStore]:
    s = GuestStore.open(db_url, keyring, upgrade=False)
    yield s
    s.close()
