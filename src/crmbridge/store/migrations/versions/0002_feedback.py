"""feedback: ratings, complaints and reviews linked to a reservation

Revision ID: 0002_feedback
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_feedback"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("text_ct", sa.LargeBinary(), nullable=True),
        sa.Column("reservation_source", sa.String(length=64), nullable=True),
        sa.Column("reservation_source_id", sa.String(length=128), nullable=True),
        sa.Column("stay_source_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_feedback_source")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_reservation_source_id"), ["reservation_source_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_reservation_source_id"))
    op.drop_table("feedback")
