"""Incidents (when a sync needs its person: the banner and one mail) and people's mail preferences

Revision ID: d8f1b3c9e527
Revises: c2d7a5e8f143
Create Date: 2026-12-06 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8f1b3c9e527'
down_revision = 'c2d7a5e8f143'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('connection_kind', sa.Enum('TWO_WAY', 'ONE_WAY', name='connectionkind', native_enum=False,
                                             length=20), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('open_key', sa.String(length=120), nullable=True),
        sa.Column('mail_state', sa.String(length=20), nullable=False),
        sa.Column('mail_attempts', sa.Integer(), nullable=False),
        sa.Column('mail_due_at', sa.DateTime(), nullable=True),
        sa.Column('mail_claimed_at', sa.DateTime(), nullable=True),
        sa.Column('mail_sent_at', sa.DateTime(), nullable=True),
        sa.Column('mail_problem', sa.String(length=40), nullable=True),
        sa.Column('reminder_sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['company.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('open_key'),
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_mail_state'), ['mail_state'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_notices', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('daily_digest', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('digest_fingerprint', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('digest_fingerprint')
        batch_op.drop_column('daily_digest')
        batch_op.drop_column('email_notices')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_mail_state'))
        batch_op.drop_index(batch_op.f('ix_incident_user_id'))
        batch_op.drop_index(batch_op.f('ix_incident_company_id'))
    op.drop_table('incident')
