"""Migration 0003_pos downgrades cleanly and upgrades again (schema.py parity is in test_store)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from crmbridge.store.db import alembic_config, make_engine


def test_0003_pos_downgrades_to_0002_and_upgrades_again(db_url):
    engine = make_engine(db_url)
    command.downgrade(alembic_config(engine), "0002_feedback")
    tables = set(inspect(engine).get_table_names())
    assert not {"pos_checks", "pos_items", "pos_links"} & tables and "feedback" in tables
    command.upgrade(alembic_config(engine), "head")
    assert {"pos_checks", "pos_items", "pos_links"} <= set(inspect(engine).get_table_names())
    engine.dispose()
