"""per-item sync failures and outbox backoff

Revision ID: c0a7e5f1b210
Revises: a493c6590d13
Create Date: 2026-11-29 17:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a7e5f1b210'
down_revision = 'c7e1d2a9f4b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('RETRYING', 'REFUSED', 'NOT_SYNCED', name='failurekind', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['connection_id'], ['calendar_connection.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connection_id', 'item_type', 'item_id')
    )
    with op.batch_alter_table('sync_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_failure_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_failure_connection_id'), ['connection_id'], unique=False)
    with op.batch_alter_table('pending_push', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('pending_push', schema=None) as batch_op:
        batch_op.drop_column('not_before')
    with op.batch_alter_table('sync_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_failure_connection_id'))
        batch_op.drop_index(batch_op.f('ix_sync_failure_company_id'))
    op.drop_table('sync_failure')
