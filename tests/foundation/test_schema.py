"""The one Alembic chain builds, from empty, exactly the schema the models describe."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from config import ProductionConfig, TestConfig


def test_flask_db_upgrade_from_empty_matches_the_models(app_config):
    """On the suite's database (SQLite or PostgreSQL); left empty again for the next test."""
    app = create_app(TestConfig, **app_config)
    with app.app_context():
        db.drop_all()
        upgrade()
        try:
            with db.engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        finally:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            db.engine.dispose()
    assert diff == []


def test_production_refuses_default_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_the_failures_as_codes_migration_keeps_every_row_and_turns_words_into_codes(app_config):
    """Upgrading a database that holds data: SQLite rebuilds altered tables (copy, drop, rename), which with
    foreign keys on would cascade and empty every child table; the words of old rows become codes by what is
    certain (enum columns hold the members' names)."""
    app = create_app(TestConfig, **app_config)
    with app.app_context():
        db.drop_all()
        upgrade(revision="e4a9c1d7b352")
        try:
            with db.engine.begin() as connection:
                for statement in (
                    "INSERT INTO company (id, name, slug, brand_color, settings, created_at) "
                    "VALUES (1, 'Acme', 'acme', '#2563eb', '{}', '2026-12-01')",
                    'INSERT INTO "user" (id, company_id, email, name, role, timezone, password_hash, created_at) '
                    "VALUES (1, 1, 'a@acme.test', 'A', 'CLIENT', 'UTC', 'x', '2026-12-01')",
                    "INSERT INTO calendar_connection (id, company_id, user_id, kind, status, google_email, google_sub, "
                    "granted_scopes, last_error, live_updates_off, created_at) VALUES (1, 1, 1, 'TWO_WAY', "
                    "'RECONNECT', 'a@example.com', 's', '', 'Google access was revoked', 'Live updates are off: "
                    "Google only sends them to a secure (https) address.', '2026-12-01')",
                    "INSERT INTO event_link (id, company_id, connection_id, item_type, item_id, google_event_id, "
                    "synced_at) VALUES (1, 1, 1, 'task', 7, 'p123', '2026-12-01')",
                    "INSERT INTO sync_failure (id, company_id, connection_id, item_type, item_id, kind, reason, "
                    "attempts, failed_at) VALUES (1, 1, 1, 'task', 8, 'NOT_SYNCED', 'it has no due date.', 1, "
                    "'2026-12-01'), (2, 1, 1, 'task', 9, 'REFUSED', 'Google refused it as invalid.', 1, '2026-12-01')",
                    "INSERT INTO sync_run (id, company_id, user_id, connection_id, kind, status, total, done, created, "
                    "updated, deleted, failed, errors, message, queued_at) VALUES (1, 1, 1, 1, 'push_existing', "
                    "'failed', 0, 0, 0, 0, 0, 0, '[]', 'boom', '2026-12-01')",
                ):
                    connection.exec_driver_sql(statement)
            upgrade()
            with db.engine.connect() as connection:
                rows = {table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                        for table in ("event_link", "sync_failure", "sync_run", "calendar_connection")}
                problem = connection.exec_driver_sql(
                    "SELECT problem, live_updates_problem FROM calendar_connection").one()
                codes = connection.exec_driver_sql("SELECT code FROM sync_failure ORDER BY id").scalars().all()
                run = connection.exec_driver_sql("SELECT connection_id, outcome, detail FROM sync_run").one()
        finally:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            db.engine.dispose()
    assert rows == {"event_link": 1, "sync_failure": 2, "sync_run": 1, "calendar_connection": 1}
    assert tuple(problem) == ("grant_revoked", "live_updates_not_https")
    assert codes == ["no_due_date", "item_refused"]
    assert tuple(run) == (1, "unexpected", "boom")
