"""Google down (#27): the outage breakers (`app.google.outage`) with the real client against the emulator, two people
in two companies on two Google accounts. While the project's breaker is open nobody's call is sent but one probe
per interval; the first answer closes it for everyone; a person's run that met it ends truthfully and its work is
asked again by itself."""
import time

import pytest
import sqlalchemy as sa
from rq.job import Job

from app.extensions import db
from app.google import GoogleDown, GoogleError, client_for, outage
from app.models import CalendarConnection, Role, RunKind, RunStatus, SyncRun
from app.queues import INTERACTIVE, get_queue, get_redis
from app.sync.notes import Code
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from testsupport.factories import make_items

from .conftest import CALENDAR
from .test_quota_and_watch import run_scheduled_jobs

PROBE = 1  # seconds between two probes here (15 in production)


@pytest.fixture
def short_probes(monkeypatch):
    monkeypatch.setattr(outage, "PROBE_SECONDS", PROBE)


def connected(person, login_as, app, email: str) -> CalendarConnection:
    client = login_as(person)
    sign_in_with_google(client, email=email)
    post_form(client, "/integrations/two-way/push", {"calendar_id": email}, page="/integrations/")
    run_jobs(app)
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == person.id))


def calls(google) -> int:
    return google.counters()["total"]


def list_events(connection: CalendarConnection) -> None:
    next(client_for(connection).event_pages(connection.calendar_id, None))


def test_while_google_is_down_one_probe_an_interval_goes_out_for_everyone(
        short_probes, users, other_company, login_as, app, google):
    acme = connected(users[Role.CLIENT], login_as, app, "alex@example.com")
    globex = connected(other_company[1][Role.CLIENT], login_as, app, "sam@example.com")
    google.add_fault(status=503, fraction=1.0)
    google.reset_counters()

    with pytest.raises(GoogleError) as first:
        list_events(acme)  # one request's own attempts: Google may only be slow with this one
    assert not isinstance(first.value, GoogleDown) and calls(google) == 5
    with pytest.raises(GoogleDown):
        list_events(acme)  # a second request fails too: the breakers open
    assert calls(google) == 6
    with pytest.raises(GoogleDown) as down:
        list_events(globex)  # another company, another Google account: the project's breaker holds it back
    assert calls(google) == 6 and 0.5 * PROBE < down.value.wait_seconds <= 3 * PROBE  # told to wait for the probe
    time.sleep(PROBE + 0.1)
    with pytest.raises(GoogleDown):
        list_events(globex)  # the probe: still down
    for connection in (acme, globex, acme):
        with pytest.raises(GoogleDown):
            list_events(connection)
    assert calls(google) == 7  # nothing more sent until the next probe is due

    google.clear_faults()
    time.sleep(PROBE + 0.1)
    list_events(globex)  # the probe: Google answers, the breakers close
    list_events(acme)
    assert calls(google) == 9


def test_a_run_that_meets_google_down_ends_truthfully_and_its_work_is_asked_again(
        short_probes, users, login_as, app, google):
    person = users[Role.CLIENT]
    connection = connected(person, login_as, app, "alex@example.com")
    google.add_fault(status=503, fraction=1.0)
    for _ in range(2):  # two requests fail: the breakers open
        with pytest.raises(GoogleError):
            list_events(connection)
    for item in make_items(person, tasks=3):  # edits meanwhile: their push waits in the queue
        item.title += " (edited)"
    db.session.commit()
    client = login_as(person)
    post_form(client, "/integrations/two-way/sync", {}, page="/integrations/")  # Sync now, meanwhile
    google.reset_counters()
    time.sleep(PROBE + 0.1)
    run_jobs(app)
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.SYNC))
    assert run.status == RunStatus.FAILED and run.outcome == Code.GOOGLE_UNAVAILABLE.value
    assert calls(google) == 1  # the probe: one call, not a batch of the three edits
    scheduled = get_queue(INTERACTIVE).scheduled_job_registry
    resumed = [job for job in Job.fetch_many(scheduled.get_job_ids(), connection=get_redis())
               if job.func_name == "jobs.sync.resume_run" and job.args[0] == run.id]
    assert len(resumed) == 1  # the same work again, once Google may be back

    google.clear_faults()
    time.sleep(3 * PROBE + 0.1)  # the resumed run's time has come
    run_scheduled_jobs(app, "jobs.sync.resume_run")
    again = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.SYNC, SyncRun.id != run.id))
    assert again is not None and again.status == RunStatus.SUCCEEDED
    assert sum("(edited)" in event.get("summary", "") for event in google.events(CALENDAR)) == 3
    db.session.refresh(connection)
    assert connection.problem is None and connection.can_sync
    assert CALENDAR == connection.calendar_id


def test_while_google_is_down_a_burst_of_edits_leaves_one_push_waiting(short_probes, users, login_as, app, google):
    person = users[Role.CLIENT]
    connection = connected(person, login_as, app, "alex@example.com")
    items = make_items(person, tasks=5)
    run_jobs(app)  # their first push
    google.add_fault(status=503, fraction=1.0)
    for _ in range(2):  # two requests fail: the breakers open
        with pytest.raises(GoogleError):
            list_events(connection)
    for item in items:  # each edit's push job finds Google down
        item.title += " (edited)"
        db.session.commit()
        run_jobs(app)
    scheduled = get_queue(INTERACTIVE).scheduled_job_registry
    waiting = [job.func_name for job in Job.fetch_many(scheduled.get_job_ids(), connection=get_redis())]
    assert waiting == ["jobs.sync.push_changes"]  # one stands for all five edits

    google.clear_faults()
    time.sleep(3 * PROBE + 0.1)
    run_scheduled_jobs(app, "jobs.sync.push_changes")
    assert sum("(edited)" in event.get("summary", "") for event in google.events(CALENDAR)) == 5

    google.add_fault(status=503, fraction=1.0)  # down again, soon after: the push that ran stands for nothing now
    for _ in range(2):
        with pytest.raises(GoogleError):
            list_events(connection)
    items[0].title += " again"
    db.session.commit()
    run_jobs(app)
    waiting = [job.func_name for job in Job.fetch_many(scheduled.get_job_ids(), connection=get_redis())]
    assert waiting == ["jobs.sync.push_changes"]
