"""`crmbridge db upgrade|current`: the store's schema, for deployments that migrate as a step.

Every command also upgrades on open; in production the upgrade is run once, by one
process, before the new version starts (a systemd ExecStartPre, a deploy job), so several
workers never race to migrate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.console import Console

from ..config import DEFAULT_CONFIG, ConfigError, load_config
from ..store.db import alembic_config, make_engine, migrate
from .context import fail, redact_url

db_app = typer.Typer(help="The store's schema: upgrade it, or show its revision.", no_args_is_help=True)
out = Console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _engine(config: Path):  # type: ignore[no-untyped-def]
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise fail(str(exc), "fix the file, then run `crmbridge check`") from None
    return make_engine(cfg.store.url), redact_url(cfg.store.url)


def _revisions(engine) -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, str(head)


@db_app.command("current")
def current(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """The schema revision of the store and the newest this version knows (exit 1 if behind)."""
    engine, where = _engine(config)
    try:
        rev, head = _revisions(engine)
    except Exception as exc:
        raise fail(f"cannot read the store at {where}: {type(exc).__name__}", code=1) from None
    if as_json:
        typer.echo(json.dumps({"store": where, "current": rev, "head": head, "up_to_date": rev == head}))
    else:
        state = "up to date" if rev == head else "behind: run `crmbridge db upgrade`"
        out.print(f"{where}: revision {rev or 'none (empty database)'}; newest {head}; {state}")
    if rev != head:
        raise typer.Exit(1)


@db_app.command("upgrade")
def upgrade(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Bring the store's schema to the newest revision (idempotent; run once per deploy)."""
    engine, where = _engine(config)
    try:
        before, head = _revisions(engine)
        migrate(engine)
    except Exception as exc:
        raise fail(f"cannot upgrade the store at {where}: {type(exc).__name__}: {exc}", code=1) from None
    if before == head:
        out.print(f"{where}: already at {head}")
    else:
        out.print(f"{where}: upgraded from {before or 'an empty database'} to {head}")
