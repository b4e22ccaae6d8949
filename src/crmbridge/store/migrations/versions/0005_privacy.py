"""privacy and access: key check values, staff and tokens, audit chain, consents, erasures

Revision ID: 0005_privacy
Revises: 0004_identity
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_privacy"
down_revision = "0004_identity"
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_meta")),
    )
    op.create_table(
        "staff",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_staff")),
    )
    op.create_table(
        "staff_tokens",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("staff_name", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_name"], ["staff.name"], name=op.f("fk_staff_tokens_staff_name_staff")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_tokens")),
    )
    op.create_index(op.f("ix_staff_tokens_staff_name"), "staff_tokens", ["staff_name"])
    op.create_table(
        "audit_log",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("staff_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("guest_id", sa.String(36), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("unmasked", sa.Integer(), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=True),
        sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("row_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_staff_name"), "audit_log", ["staff_name"])
    op.create_index(op.f("ix_audit_log_guest_id"), "audit_log", ["guest_id"])
    op.create_table(
        "consents",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("guest_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("wording_version", sa.String(64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guests.id"], name=op.f("fk_consents_guest_id_guests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_guest_id"), "consents", ["guest_id"])
    op.create_table(
        "erasures",
        sa.Column("guest_id", sa.String(36), nullable=False),
        sa.Column("erased_at", TS, nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("keys_destroyed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guest_id", name=op.f("pk_erasures")),
    )
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.add_column(sa.Column("suppressed", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.drop_column("suppressed")
    for t in ("erasures", "consents", "audit_log", "staff_tokens", "staff", "store_meta"):
        op.drop_table(t)
