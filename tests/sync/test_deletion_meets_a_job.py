"""An admin's Disconnect meets a job writing the same connection's rows, in a real database.

On PostgreSQL the two can wait on each other (a deadlock), and PostgreSQL ends one of them: whichever waited
first. Either way the click succeeds and the job learns truthfully that its connection is gone. On SQLite
writers take turns (the one that comes second waits), so the same steps show the click still succeeds there.
"""
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import CalendarConnection, EventLink, PendingPush, Role
from app.sync.connections import connection_gone
from tests.conftest import csrf_token
from testsupport.factories import make_items

# The job holds a waiting push (the deletion takes those after the links) and then writes a link. It asks for the
# link once the deletion waits for the push, so the deletion waited first; or while the deletion pauses between
# the links and the pushes, so the job waited first. PostgreSQL ends the one that waited first.
JOB_ASKS_WHEN = {"the deletion waited first": "Lock", "the job waited first": "PgSleep"}


def pause_deleting_google_events() -> None:
    """The deletion pauses just after the links (PostgreSQL: a statement trigger), so the job asks for a link
    the deletion holds before the deletion asks for the row the job holds."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("CREATE OR REPLACE FUNCTION pause_a_moment() RETURNS trigger AS $$ BEGIN "
                                   "PERFORM pg_sleep(0.6); RETURN NULL; END $$ LANGUAGE plpgsql"))
        db.session.execute(sa.text("CREATE TRIGGER pause_a_moment BEFORE DELETE ON google_event "
                                   "FOR EACH STATEMENT EXECUTE FUNCTION pause_a_moment()"))
        db.session.commit()


def until_the_deletion_waits(wait: str) -> None:
    """PostgreSQL: until a session of this database waits (`Lock`: for a row the job holds; `PgSleep`: in the
    pause), seen from a connection of its own (a transaction sees one snapshot of the activity). SQLite: a
    moment."""
    if db.engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline and not watcher.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND :wait IN (wait_event_type, wait_event)"), {"wait": wait}):
            watcher.rollback()
            time.sleep(0.02)


@pytest.mark.parametrize("case", JOB_ASKS_WHEN)
def test_a_disconnect_meeting_a_job_succeeds_and_the_job_learns_its_connection_is_gone(
        case, connect, user, users, login_as, app):
    make_items(user, tasks=30)
    connection_id = connect().id
    link = db.session.scalar(sa.select(sa.func.min(EventLink.id)).where(EventLink.connection_id == connection_id))
    waiting = PendingPush(connection_id=connection_id, item_type="task", item_id=1)
    db.session.add(waiting)
    db.session.commit()
    held = waiting.id
    if JOB_ASKS_WHEN[case] == "PgSleep":
        pause_deleting_google_events()
    admin = login_as(users[Role.ADMIN])
    token = csrf_token(admin)
    holding, outcome = threading.Event(), []

    def job() -> None:
        """A job's transaction: it holds one row, then writes a link the deletion has reached meanwhile."""
        with app.app_context():
            db.session.execute(sa.update(PendingPush).where(PendingPush.id == held).values(not_before=None))
            holding.set()
            until_the_deletion_waits(JOB_ASKS_WHEN[case])
            try:
                db.session.execute(sa.update(EventLink).where(EventLink.id == link).values(etag="job"))
                db.session.commit()
                outcome.append("committed")  # the deletion was ended, and done again after this commit
            except OperationalError:
                db.session.rollback()
                outcome.append("gone" if connection_gone(connection_id) else "still there")

    worker = threading.Thread(target=job)
    worker.start()
    assert holding.wait(10)
    response = admin.post(f"/settings/connections/{connection_id}/disconnect", data={"csrf_token": token})
    worker.join(30)
    assert response.status_code == 302
    assert outcome in (["committed"], ["gone"]), outcome
    db.session.expire_all()
    assert db.session.get(CalendarConnection, connection_id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventLink).where(
        EventLink.connection_id == connection_id)) == 0
