"""Connection leases in the database: one job per connection even when Redis forgets

Revision ID: b9e4f2a6c830
Revises: a7c3e9d2b415
Create Date: 2026-12-06 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9e4f2a6c830'
down_revision = 'a7c3e9d2b415'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sync_lease',
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['calendar_connection.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('connection_id'),
    )


def downgrade():
    op.drop_table('sync_lease')
