"""The crmbridge pytest plugin (entry point ``pytest11``): store fixtures on both backends.

Installed with crmbridge, so a plugin's own tests get, with no conftest of their own:

* ``keyring``: a fresh master key;
* ``db_url``: a migrated, empty store database, once per backend in the ``crmbridge_backends``
  ini option (default ``sqlite postgresql``). PostgreSQL: a template database is migrated
  once per run (``CRMBRIDGE_TEST_PG_URL``, default the local 127.0.0.1:5432 ``test``), each
  test gets a copy, all are dropped at the end; ``CRMBRIDGE_TEST_SKIP_PG=1`` skips them;
* ``store``: a ``GuestStore`` on ``db_url``;
* ``sqlite_store``: one SQLite store, for tests of what never reaches the database.

The adapter conformance suite is ``crmbridge.testing.conformance``.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from ..store.crypto import Keyring
from ..store.db import make_engine, migrate
from ..store.guest_store import GuestStore

BACKENDS_INI = "crmbridge_backends"
_counter = itertools.count()


def pg_admin_url() -> str:
    return os.environ.get("CRMBRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        BACKENDS_INI,
        "store backends the `db_url`/`store` fixtures run on: sqlite, postgresql or both",
        default="sqlite postgresql",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against the local PostgreSQL as well as SQLite")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        # A test that names its own backends (`@pytest.mark.parametrize("db_url", ["sqlite"],
        # indirect=True)`) keeps them.
        for mark in metafunc.definition.iter_markers("parametrize"):
            names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
            if "db_url" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
                return
        backends = str(metafunc.config.getini(BACKENDS_INI)).replace(",", " ").split()
        unknown = sorted(set(backends) - {"sqlite", "postgresql"})
        if unknown:
            raise pytest.UsageError(f"{BACKENDS_INI}: unknown backend(s) {', '.join(unknown)}")
        metafunc.parametrize("db_url", backends, indirect=True)


def _admin() -> Any:
    return create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if os.environ.get("CRMBRIDGE_TEST_SKIP_PG") == "1":
        pytest.skip("CRMBRIDGE_TEST_SKIP_PG=1: PostgreSQL tests skipped")
    run = uuid.uuid4().hex[:8]
    name = f"crmbridge_tpl_{run}"
    admin = _admin()
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - environment problem, say what to do
        pytest.fail(
            f"PostgreSQL at {pg_admin_url()} is not reachable ({type(exc).__name__}). Start it, set "
            f"CRMBRIDGE_TEST_PG_URL, set CRMBRIDGE_TEST_SKIP_PG=1, or set {BACKENDS_INI} = sqlite."
        )
    url = pg_admin_url().rsplit("/", 1)[0] + f"/{name}"
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


def fresh_pg_database(template: str) -> tuple[str, str]:
    run = template.rsplit("_", 1)[1]
    name = f"crmbridge_t_{run}_{next(_counter)}"
    with _admin().connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name, pg_admin_url().rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    with _admin().connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A freshly migrated, empty store database URL, once per backend."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        eng = make_engine(url)
        migrate(eng)
        eng.dispose()
        yield url
        return
    name, url = fresh_pg_database(request.getfixturevalue("pg_template"))
    yield url
    drop_pg_database(name)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate("test")


@pytest.fixture
def store(db_url: str, keyring: Keyring) -> Iterator[GuestStore]:
    s = GuestStore.open(db_url, keyring, upgrade=False)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Any, keyring: Keyring) -> Iterator[GuestStore]:
    """For tests about what goes over the wire, into logs, or never reaches the store."""
    s = GuestStore.open(f"sqlite:///{tmp_path / 'sqlite-store.db'}", keyring)
    yield s
    s.close()
