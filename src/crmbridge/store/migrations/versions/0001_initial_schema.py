"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 08:44:59.027429
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('folio_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('reservation_source_id', sa.String(length=128), nullable=False),
    sa.Column('hotel_code', sa.String(length=32), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('transaction_code', sa.String(length=32), nullable=False),
    sa.Column('description_ct', sa.LargeBinary(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_folio_lines')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_folio_lines_source'))
    )
    with op.batch_alter_table('folio_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_folio_lines_reservation_source_id'), ['reservation_source_id'], unique=False)

    op.create_table('guest_merges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('survivor_id', sa.String(length=36), nullable=False),
    sa.Column('merged_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_merges'))
    )
    with op.batch_alter_table('guest_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guest_merges_merged_id'), ['merged_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guest_merges_survivor_id'), ['survivor_id'], unique=False)

    op.create_table('guests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('merged_into', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['merged_into'], ['guests.id'], name=op.f('fk_guests_merged_into_guests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guests'))
    )
    with op.batch_alter_table('guests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guests_merged_into'), ['merged_into'], unique=False)

    op.create_table('inbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('payload_ct', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('source', 'dedupe_key', name=op.f('uq_inbox_source'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_source_status', ['source', 'status'], unique=False)

    op.create_table('push_ledger',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('pms_source', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('pms_id', sa.String(length=128), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.LargeBinary(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_ledger')),
    sa.UniqueConstraint('pms_source', 'target', 'pms_id', 'rule', name=op.f('uq_push_ledger_pms_source'))
    )
    op.create_table('quarantine',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw_ct', sa.LargeBinary(), nullable=False),
    sa.Column('raw_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('run_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_source'), ['source'], unique=False)
        batch_op.create_index('ix_quarantine_source_raw_hash', ['source', 'stream', 'raw_hash'], unique=False)

    op.create_table('stays',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('reservation_source_id', sa.String(length=128), nullable=False),
    sa.Column('hotel_code', sa.String(length=32), nullable=False),
    sa.Column('room_number', sa.String(length=16), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stays')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_stays_source'))
    )
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stays_reservation_source_id'), ['reservation_source_id'], unique=False)

    op.create_table('sync_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('full', sa.Integer(), nullable=False),
    sa.Column('fetched', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('quarantined', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_runs_source'), ['source'], unique=False)

    op.create_table('sync_state',
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'stream', name=op.f('pk_sync_state'))
    )
    op.create_table('profile_records',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('guest_id', sa.String(length=36), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('given_name_ct', sa.LargeBinary(), nullable=True),
    sa.Column('surname_ct', sa.LargeBinary(), nullable=True),
    sa.Column('local_name_ct', sa.LargeBinary(), nullable=True),
    sa.Column('birth_date_ct', sa.LargeBinary(), nullable=True),
    sa.Column('emails_ct', sa.LargeBinary(), nullable=True),
    sa.Column('phones_ct', sa.LargeBinary(), nullable=True),
    sa.Column('addresses_ct', sa.LargeBinary(), nullable=True),
    sa.Column('documents_ct', sa.LargeBinary(), nullable=True),
    sa.Column('notes_ct', sa.LargeBinary(), nullable=True),
    sa.Column('attributes_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['guest_id'], ['guests.id'], name=op.f('fk_profile_records_guest_id_guests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_records')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_profile_records_source'))
    )
    with op.batch_alter_table('profile_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_records_guest_id'), ['guest_id'], unique=False)

    op.create_table('guest_index',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['profile_records.id'], name=op.f('fk_guest_index_record_id_profile_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_index'))
    )
    with op.batch_alter_table('guest_index', schema=None) as batch_op:
        batch_op.create_index('ix_guest_index_kind_hash', ['kind', 'hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_guest_index_record_id'), ['record_id'], unique=False)

    op.create_table('reservations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('hotel_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('arrival', sa.Date(), nullable=False),
    sa.Column('departure', sa.Date(), nullable=False),
    sa.Column('room_type', sa.String(length=32), nullable=True),
    sa.Column('rate_code', sa.String(length=32), nullable=True),
    sa.Column('adults', sa.Integer(), nullable=False),
    sa.Column('children', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('confirmation_numbers', sa.JSON(), nullable=False),
    sa.Column('special_requests_ct', sa.LargeBinary(), nullable=True),
    sa.Column('guest_record_id', sa.String(length=36), nullable=True),
    sa.Column('source_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['guest_record_id'], ['profile_records.id'], name=op.f('fk_reservations_guest_record_id_profile_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_reservations_source'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_arrival'), ['arrival'], unique=False)
        batch_op.create_index(batch_op.f('ix_reservations_guest_record_id'), ['guest_record_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservations_guest_record_id'))
        batch_op.drop_index(batch_op.f('ix_reservations_arrival'))

    op.drop_table('reservations')
    with op.batch_alter_table('guest_index', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guest_index_record_id'))
        batch_op.drop_index('ix_guest_index_kind_hash')

    op.drop_table('guest_index')
    with op.batch_alter_table('profile_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_records_guest_id'))

    op.drop_table('profile_records')
    op.drop_table('sync_state')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_source'))

    op.drop_table('sync_runs')
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stays_reservation_source_id'))

    op.drop_table('stays')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantine_source_raw_hash')
        batch_op.drop_index(batch_op.f('ix_quarantine_source'))

    op.drop_table('quarantine')
    op.drop_table('push_ledger')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_source_status')

    op.drop_table('inbox')
    with op.batch_alter_table('guests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guests_merged_into'))

    op.drop_table('guests')
    with op.batch_alter_table('guest_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guest_merges_survivor_id'))
        batch_op.drop_index(batch_op.f('ix_guest_merges_merged_id'))

    op.drop_table('guest_merges')
    with op.batch_alter_table('folio_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_folio_lines_reservation_source_id'))

    op.drop_table('folio_lines')

