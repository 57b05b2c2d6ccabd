"""A calendar move keeps its destination on its run: its slices, a resumed run and a requeued job all know it

Revision ID: e4a9c1d7b352
Revises: d2b6f0c4a915
Create Date: 2026-12-05 18:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a9c1d7b352'
down_revision = 'd2b6f0c4a915'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('calendar_summary', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('calendar_summary')
        batch_op.drop_column('calendar_id')
