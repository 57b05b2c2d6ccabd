"""The OAuth client a connection's grant belongs to (grants are shared per client and Google account)

Revision ID: c2d7a5e8f143
Revises: b9e4f2a6c830
Create Date: 2026-12-06 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2d7a5e8f143'
down_revision = 'b9e4f2a6c830'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.drop_column('client_id')
