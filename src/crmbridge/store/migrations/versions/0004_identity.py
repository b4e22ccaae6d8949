"""identity resolution: review queue, keep-apart pairs, merge provenance, match features

Revision ID: 0004_identity
Revises: 0003_pos
Create Date: 2026-11-23 09:05:14.543083
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_identity'
down_revision = '0003_pos'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_apart',
    sa.Column('guest_a', sa.String(length=36), nullable=False),
    sa.Column('guest_b', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['guest_a'], ['guests.id'], name=op.f('fk_identity_apart_guest_a_guests')),
    sa.ForeignKeyConstraint(['guest_b'], ['guests.id'], name=op.f('fk_identity_apart_guest_b_guests')),
    sa.PrimaryKeyConstraint('guest_a', 'guest_b', name=op.f('pk_identity_apart'))
    )
    with op.batch_alter_table('identity_apart', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_apart_guest_b'), ['guest_b'], unique=False)

    op.create_table('identity_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('guest_id', sa.String(length=36), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['guest_id'], ['guests.id'], name=op.f('fk_identity_reviews_guest_id_guests')),
    sa.ForeignKeyConstraint(['record_id'], ['profile_records.id'], name=op.f('fk_identity_reviews_record_id_profile_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_reviews')),
    sa.UniqueConstraint('record_id', 'guest_id', name=op.f('uq_identity_reviews_record_id'))
    )
    with op.batch_alter_table('identity_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_reviews_guest_id'), ['guest_id'], unique=False)
        batch_op.create_index('ix_identity_reviews_status', ['status'], unique=False)

    with op.batch_alter_table('guest_merges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('records', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('undone_by', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('profile_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_ct', sa.LargeBinary(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('profile_records', schema=None) as batch_op:
        batch_op.drop_column('match_ct')

    with op.batch_alter_table('guest_merges', schema=None) as batch_op:
        batch_op.drop_column('undone_by')
        batch_op.drop_column('records')
        batch_op.drop_column('score')

    with op.batch_alter_table('identity_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_reviews_status')
        batch_op.drop_index(batch_op.f('ix_identity_reviews_guest_id'))

    op.drop_table('identity_reviews')
    with op.batch_alter_table('identity_apart', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_apart_guest_b'))

    op.drop_table('identity_apart')
