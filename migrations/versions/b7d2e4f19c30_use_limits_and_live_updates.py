"""use limits, live-updates fallback, Push Existing Data window

Revision ID: b7d2e4f19c30
Revises: a493c6590d13
Create Date: 2026-11-29 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4f19c30'
down_revision = 'a493c6590d13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_updates_off', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('writes_paused_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('items_since', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('items_since')
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_column('writes_paused_until')
        batch_op.drop_column('live_updates_off')
