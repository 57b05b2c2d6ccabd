"""One video link per appointment: none, Google Meet or a link of its own (NULL: as before the choice)

Revision ID: b2c7d4e9f365
Revises: a1f6c3e8d254
Create Date: 2026-12-06 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2c7d4e9f365'
down_revision = 'a1f6c3e8d254'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointment') as batch_op:
        batch_op.add_column(sa.Column('video', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('appointment') as batch_op:
        batch_op.drop_column('video')
