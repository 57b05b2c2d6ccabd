"""fleet scale: channel health and the next poll and renewal times of each connection; old runs pruned

Revision ID: c5f1a8e3d027
Revises: c0a7e5f1b210
Create Date: 2026-11-29 18:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5f1a8e3d027'
down_revision = 'c0a7e5f1b210'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_notified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('channel_missed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_poll_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_watch_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_calendar_connection_next_poll_at'), ['next_poll_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_connection_next_watch_at'), ['next_watch_at'], unique=False)
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_run_finished_at'), ['finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_run_finished_at'))
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_connection_next_watch_at'))
        batch_op.drop_index(batch_op.f('ix_calendar_connection_next_poll_at'))
        batch_op.drop_column('next_watch_at')
        batch_op.drop_column('next_poll_at')
        batch_op.drop_column('channel_missed_at')
        batch_op.drop_column('last_notified_at')
