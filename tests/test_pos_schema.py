"""Migration 0002_pos and schema.py describe the same tables, and it downgrades cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from crmbridge.store.db import alembic_config, make_engine
from crmbridge.store.schema import metadata


def test_migrated_store_matches_schema_py(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_0002_pos_downgrades_to_0001_and_upgrades_again(db_url):
    engine = make_engine(db_url)
    command.downgrade(alembic_config(engine), "0001")
    assert not {"pos_checks", "pos_items", "pos_links"} & set(inspect(engine).get_table_names())
    command.upgrade(alembic_config(engine), "head")
    assert {"pos_checks", "pos_items", "pos_links"} <= set(inspect(engine).get_table_names())
    engine.dispose()
