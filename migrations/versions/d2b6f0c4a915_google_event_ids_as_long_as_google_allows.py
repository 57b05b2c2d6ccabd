"""Google-native events keep ids as long as Google allows (1,024 characters, more for recurring instances)

Revision ID: d2b6f0c4a915
Revises: c5f1a8e3d027
Create Date: 2026-12-05 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2b6f0c4a915'
down_revision = 'c5f1a8e3d027'
branch_labels = None
depends_on = None

COLUMNS = ('google_event_id', 'recurring_event_id')


def upgrade():
    with op.batch_alter_table('google_event', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=255), type_=sa.String(length=2048))


def downgrade():
    with op.batch_alter_table('google_event', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=2048), type_=sa.String(length=255))
