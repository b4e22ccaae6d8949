"""POS checks, their lines and their links to stays

Revision ID: 0003_pos
Revises: 0002_feedback
Create Date: 2026-11-23 09:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003_pos'
down_revision = '0002_feedback'
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('pos_checks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('hotel_code', sa.String(length=32), nullable=False),
    sa.Column('outlet', sa.String(length=128), nullable=False),
    sa.Column('outlet_id', sa.String(length=32), nullable=True),
    sa.Column('check_number', sa.String(length=32), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('room_number', sa.String(length=16), nullable=True),
    sa.Column('covers', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('subtotal_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('discount_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('service_charge_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('tip_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('room_charge_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('guest_name_ct', sa.LargeBinary(), nullable=True),
    sa.Column('notes_ct', sa.LargeBinary(), nullable=True),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_checks')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_pos_checks_source'))
    )
    with op.batch_alter_table('pos_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_checks_business_date'), ['business_date'], unique=False)
        batch_op.create_index('ix_pos_checks_hotel_date_number', ['hotel_code', 'business_date', 'check_number'], unique=False)

    op.create_table('pos_items',
    sa.Column('id', SERIAL, autoincrement=True, nullable=False),
    sa.Column('check_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('line_id', sa.String(length=32), nullable=True),
    sa.Column('parent_line_id', sa.String(length=32), nullable=True),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('item_group', sa.String(length=100), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('voided', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('room_charge', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['pos_checks.id'], name=op.f('fk_pos_items_check_id_pos_checks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_items'))
    )
    with op.batch_alter_table('pos_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_items_check_id'), ['check_id'], unique=False)

    op.create_table('pos_links',
    sa.Column('check_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Numeric(precision=4, scale=3), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=True),
    sa.Column('folio_line_id', sa.String(length=36), nullable=True),
    sa.Column('stay_id', sa.String(length=36), nullable=True),
    sa.Column('check_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['pos_checks.id'], name=op.f('fk_pos_links_check_id_pos_checks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_pos_links_reservation_id_reservations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('check_id', name=op.f('pk_pos_links'))
    )
    with op.batch_alter_table('pos_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_links_reservation_id'), ['reservation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pos_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_links_reservation_id'))
    op.drop_table('pos_links')
    with op.batch_alter_table('pos_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_items_check_id'))
    op.drop_table('pos_items')
    with op.batch_alter_table('pos_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_pos_checks_hotel_date_number')
        batch_op.drop_index(batch_op.f('ix_pos_checks_business_date'))
    op.drop_table('pos_checks')
