"""Busy times: the calendars whose free/busy a connection shares ("Check my Google calendars for conflicts")

Revision ID: a1f6c3e8d254
Revises: d8f1b3c9e527
Create Date: 2026-12-06 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1f6c3e8d254'
down_revision = 'd8f1b3c9e527'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_connection') as batch_op:
        batch_op.add_column(sa.Column('busy_calendars', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('calendar_connection') as batch_op:
        batch_op.drop_column('busy_calendars')
