"""The 0004_identity migration and schema.py describe the same database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from crmbridge.store.db import alembic_config, make_engine
from crmbridge.store.schema import metadata


def test_migrated_schema_matches_the_metadata(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_the_identity_revision_adds_the_review_queue_and_apart_tables(db_url):
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    insp = inspect(engine)
    assert {"identity_reviews", "identity_apart"} <= set(insp.get_table_names())
    assert "match_ct" in {c["name"] for c in insp.get_columns("profile_records")}
    with engine.connect() as conn:
        # the identity revision is in the history, and the database is at the head
        scripts = ScriptDirectory.from_config(alembic_config(engine))
        assert "0004_identity" in {s.revision for s in scripts.walk_revisions()}
        assert MigrationContext.configure(conn).get_current_revision() == scripts.get_current_head()
    engine.dispose()
