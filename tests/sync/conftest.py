"""A client user with an active 2-way connection whose existing items are already pushed.

Hypothesis runs a few examples by default (CI); `HYPOTHESIS_PROFILE=thorough` runs many more.
"""
import os

import pytest
import sqlalchemy as sa
from hypothesis import settings
from rq.job import Job

from app.extensions import db
from app.models import CalendarConnection, EventLink, Role
from app.queues import all_queues, get_redis
from tests.conftest import BurstWorker, post_form, run_jobs
from tests.google_flow import google_user_calendar, sign_in_with_google

CALENDAR = "alex@example.com"

settings.register_profile("ci", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
# Examples that drive the whole stack (worker, Redis, emulator) cost about a second each.
STACK_EXAMPLES = {"ci": 10, "thorough": 150}.get(PROFILE, 10)


def live_events(google, calendar=CALENDAR) -> list[dict]:
    return [e for e in google.events(calendar) if e.get("status") != "cancelled"]


def link_for(item) -> EventLink | None:
    return db.session.scalar(sa.select(EventLink).where(EventLink.item_type == item.kind,
                                                        EventLink.item_id == item.id))


@pytest.fixture
def user(users):
    return users[Role.CLIENT]


@pytest.fixture
def connect(google, user, login_as, app):
    """`connect(kind="two-way")` → the user's connection after sign-in and Push Existing Data."""
    def _connect(kind: str = "two-way") -> CalendarConnection:
        client = login_as(user)
        sign_in_with_google(client, kind=kind)
        post_form(client, f"/integrations/{kind}/push", {"calendar_id": CALENDAR}, page="/integrations/")
        run_jobs(app)
        connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))
        assert connection.can_sync, connection.problem
        return connection
    return _connect


@pytest.fixture
def gcal(google, app):
    """The Google user's own Calendar API (edits 'in Google')."""
    return google_user_calendar(google, app)


def database_refuses(table: str, condition: str) -> None:
    """A fault in a real part: the database itself refuses rows of `table` that meet `condition` (on NEW), on
    insert and update, by a trigger; `database_accepts` takes it away."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"CREATE OR REPLACE FUNCTION refuse_{table}() RETURNS trigger AS $$ BEGIN "
                                   f"IF {condition} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ "
                                   "LANGUAGE plpgsql"))
        db.session.execute(sa.text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT OR UPDATE ON {table} "
                                   f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"))
    else:
        for change in ("insert", "update"):
            db.session.execute(sa.text(f"CREATE TRIGGER refuse_{table}_{change} BEFORE {change} ON {table} "
                                       f"WHEN {condition} BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    db.session.commit()


def database_accepts(table: str) -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"DROP TRIGGER refuse_{table} ON {table}"))
    else:
        for change in ("insert", "update"):
            db.session.execute(sa.text(f"DROP TRIGGER refuse_{table}_{change}"))
    db.session.commit()


def pull(app) -> None:
    """A pull for every connection (what a webhook asks for) and the cron sweep (which pushes what waits in the
    outbox); then a worker runs them."""
    from jobs.periodic import sweep_connections
    from jobs.sync import schedule_pull

    for connection_id in db.session.scalars(sa.select(CalendarConnection.id)):
        schedule_pull(connection_id)
    sweep_connections()
    run_jobs(app)


@pytest.fixture
def sliced(monkeypatch):
    """Bulk runs in slices of 4 items (chunks of 3), so a dozen items take three slices."""
    from app.sync import bulk

    monkeypatch.setattr(bulk, "CHUNK", 3)
    monkeypatch.setattr(bulk, "SLICE_ITEMS", 4)


def run_one_job() -> str:
    """One job from the highest-priority non-empty queue, as a real worker picks it; returns its function."""
    queues = all_queues()
    waiting = next(queue for queue in queues if queue.count)
    job_id = waiting.job_ids[0]
    BurstWorker(queues, connection=get_redis()).work(burst=True, with_scheduler=False, max_jobs=1)
    return Job.fetch(job_id, connection=get_redis()).func_name.rsplit(".", 1)[-1]
