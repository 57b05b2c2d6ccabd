"""appointment: the Google Meet link created once and shared by every Google copy

Revision ID: c7e1d2a9f4b3
Revises: a493c6590d13
Create Date: 2026-11-29 17:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c7e1d2a9f4b3'
down_revision = "5e7c2a91b4d0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meet_link', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('meet_conference', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('meet_conference')
        batch_op.drop_column('meet_link')
