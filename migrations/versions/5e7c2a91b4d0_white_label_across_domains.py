"""white label across domains: one company per portal address; a company's own OAuth client

Revision ID: 5e7c2a91b4d0
Revises: a493c6590d13
Create Date: 2026-11-29 17:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "5e7c2a91b4d0"
down_revision = "b7d2e4f19c30"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("company") as batch_op:
        batch_op.create_unique_constraint("uq_company_portal_url", ["portal_url"])
        batch_op.add_column(sa.Column("google_client_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("google_client_secret_enc", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("company") as batch_op:
        batch_op.drop_column("google_client_secret_enc")
        batch_op.drop_column("google_client_id")
        batch_op.drop_constraint("uq_company_portal_url", type_="unique")
