"""the planner's times without indexes: it finds due connections by id batches, and each index cost about half
of every sweep's write (the first sweep and a catch-up write every connection's times)

Revision ID: e8a4c2f6b139
Revises: b2c7d4e9f365
Create Date: 2026-12-06 19:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8a4c2f6b139'
down_revision = 'b2c7d4e9f365'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_connection_next_watch_at'))
        batch_op.drop_index(batch_op.f('ix_calendar_connection_next_poll_at'))


def downgrade():
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_connection_next_poll_at'), ['next_poll_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_connection_next_watch_at'), ['next_watch_at'], unique=False)
