"""Failures as codes: runs, connections and items record a code with parameters, words are rendered

Revision ID: f3b8d1c6a2e0
Revises: e4a9c1d7b352
Create Date: 2026-12-06 10:00:00.000000

Old rows held words. They become codes by what is certain (a run's status, a connection's state, a
marker's kind); the old text is kept as the support detail, never shown to users.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8d1c6a2e0'
down_revision = 'e4a9c1d7b352'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('outcome_params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('detail', sa.Text(), nullable=True))
    op.execute("UPDATE sync_run SET detail = message, outcome = CASE status "
               "WHEN 'succeeded' THEN 'complete' WHEN 'cancelled' THEN 'connection_deleted' "
               "WHEN 'interrupted' THEN 'interrupted' WHEN 'failed' THEN 'unexpected' END, outcome_params = '{}'")
    # A crash's words say who tries again: the outbox and pulls by themselves, a person's requests not.
    op.execute("""UPDATE sync_run SET outcome_params = '{"by_itself": true}' WHERE status = 'failed' """
               "AND kind IN ('push', 'pull', 'full_resync')")
    op.execute("""UPDATE sync_run SET outcome_params = '{"by_itself": false}' WHERE status = 'failed' """
               "AND kind NOT IN ('push', 'pull', 'full_resync')")
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.alter_column('outcome_params', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('message')

    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('problem', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('problem_params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('problem_detail', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('live_updates_problem', sa.String(length=40), nullable=True))
    # Only a revoked grant is a problem for certain; the rest (items' failures, a notice) the next run says again.
    # Enum columns hold the members' names.
    op.execute("UPDATE calendar_connection SET problem_detail = last_error, problem_params = '{}', problem = CASE "
               "WHEN status = 'RECONNECT' THEN 'grant_revoked' END")
    op.execute("UPDATE calendar_connection SET live_updates_problem = CASE "
               "WHEN live_updates_off LIKE '%secure (https)%' THEN 'live_updates_not_https' "
               "WHEN live_updates_off LIKE '%could not be reached%' THEN 'live_updates_unreachable' "
               "ELSE 'live_updates_refused' END WHERE live_updates_off IS NOT NULL")
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.alter_column('problem_params', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('last_error')
        batch_op.drop_column('live_updates_off')

    with op.batch_alter_table('sync_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('detail', sa.String(length=500), nullable=True))
    op.execute("UPDATE sync_failure SET detail = reason, params = '{}', code = CASE "
               "WHEN kind = 'NOT_SYNCED' THEN 'no_due_date' "
               "WHEN kind = 'REFUSED' AND reason LIKE '%turned into a Google Calendar event%' THEN 'item_unconvertible' "
               "WHEN kind = 'REFUSED' THEN 'item_refused' "
               "WHEN reason LIKE '%slow down%' THEN 'rate_limited' ELSE 'google_unavailable' END")
    with op.batch_alter_table('sync_failure', schema=None) as batch_op:
        batch_op.alter_column('code', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('params', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('reason')


def downgrade():
    op.execute("UPDATE sync_run SET kind = 'pull' WHERE kind = 'poll'")  # the safety net's runs were pulls
    with op.batch_alter_table('sync_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=300), nullable=False, server_default=''))
        batch_op.drop_column('detail')
        batch_op.drop_column('params')
        batch_op.drop_column('code')
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_updates_off', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.drop_column('live_updates_problem')
        batch_op.drop_column('problem_detail')
        batch_op.drop_column('problem_params')
        batch_op.drop_column('problem')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.String(length=500), nullable=False, server_default=''))
        batch_op.drop_column('detail')
        batch_op.drop_column('outcome_params')
        batch_op.drop_column('outcome')
