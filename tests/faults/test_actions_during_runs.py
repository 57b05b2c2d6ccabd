"""An admin or the user acts while a job runs: Disconnect, Delete (keeping or removing the events) or hiding the
role come at any moment of a Sync now, a Push Existing Data, a calendar move or a pull, with real worker
processes. Every run still ends truthfully ("cancelled" in words when its connection went), no RQ job fails,
and nothing is left queued or running. Each pairing is tried several times, at random moments."""
import random
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.integrations.words import run_words
from app.models import CalendarConnection, Role, RunStatus, SyncRun
from app.queues import all_queues
from jobs.sync import schedule_pull
from tests.conftest import csrf_token, post_form
from tests.google_flow import google_user_calendar, sign_in_with_google
from testsupport.factories import make_items

from .conftest import CALENDAR, settled

ACTIONS = ("sync", "push", "move", "pull")
INTERRUPTIONS = ("disconnect", "delete-keep", "delete-remove", "hide-role")
TRIES = 2


def act(action: str, client, connection: CalendarConnection, google, app) -> None:
    if action == "sync":
        post_form(client, "/integrations/two-way/sync", {}, page="/integrations/")
    elif action == "push":
        post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    elif action == "move":
        post_form(client, "/integrations/two-way/calendar", {"calendar_id": "__new__", "new_calendar_name": "Moved"},
                  page="/integrations/?change=two-way")
    else:  # a change in Google, and the pull its notification asks for
        gcal = google_user_calendar(google, app)  # a token of the grant as it stands (a Delete may revoke it)
        for n in range(1, 21):
            day = {"start": {"date": f"2031-05-{n:02d}"}, "end": {"date": f"2031-05-{n + 1:02d}"}}
            gcal.insert(calendarId=CALENDAR, body={"summary": f"Made in Google {n}", **day}).execute()
        schedule_pull(connection.id)


def interrupt(interruption: str, client, admin, connection_id: int) -> None:
    if interruption == "disconnect":
        admin.post(f"/settings/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(admin)})
    elif interruption.startswith("delete"):
        client.post("/integrations/two-way/delete", data={"csrf_token": csrf_token(client, "/integrations/"),
                                                          "events": interruption.removeprefix("delete-")})
    else:  # the role loses Integrations (its connections stay: only the menu and the routes go)
        shown = {f"visible_{role}": "y" for role in ("manager", "staff", "prospect")}
        admin.post("/settings/visibility", data={"csrf_token": csrf_token(admin, "/settings/"), **shown})


@pytest.mark.parametrize("action", ACTIONS)
def test_every_run_ends_truthfully_whatever_an_admin_or_the_user_does_meanwhile(
        action, client_user, users, login_as, app, google, stack):
    google.set_quota(0)  # this test measures the endings, not pacing
    google.set_latency(0, batch_inner_ms=15)
    make_items(client_user, tasks=40)
    admin = login_as(users[Role.ADMIN])
    stack(workers=2)
    for interruption in INTERRUPTIONS:
        for _ in range(TRIES):
            client = login_as(client_user)
            sign_in_with_google(client)
            post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
            settled(timeout=120)
            connection = db.session.scalar(sa.select(CalendarConnection).where(
                CalendarConnection.user_id == client_user.id))
            connection_id = connection.id
            first_run = db.session.scalar(sa.select(sa.func.max(SyncRun.id)))
            act(action, client, connection, google, app)
            pause = random.uniform(0, 0.6)  # anywhere from before the job starts to the middle of its run
            time.sleep(pause)
            interrupt(interruption, client, admin, connection_id)
            settled(timeout=120)
            ended = db.session.scalars(sa.select(SyncRun).where(SyncRun.id > first_run)).all()
            where = f"{action}, {interruption} {pause:.2f} s later: {[(r.kind, r.status, r.outcome) for r in ended]}"
            assert all(run.finished for run in ended), where
            assert not [run for run in ended if run.outcome == "unexpected"], where
            gone = db.session.get(CalendarConnection, connection_id) is None
            if gone:
                assert {run.status for run in ended} <= {RunStatus.SUCCEEDED, RunStatus.CANCELLED}, where
                cancelled = [run for run in ended if run.status == RunStatus.CANCELLED]
                assert all(run_words(run) for run in cancelled), where
            assert sum(queue.failed_job_registry.count for queue in all_queues()) == 0, (where, stack.logs())
            _clean_up(client, admin, connection_id, interruption)


def _clean_up(client, admin, connection_id: int, interruption: str) -> None:
    """Back to a user without a connection, Integrations shown to every role, before the next try."""
    if interruption == "hide-role":
        admin.post("/settings/visibility", data={"csrf_token": csrf_token(admin, "/settings/"), **{
            f"visible_{role}": "y" for role in ("manager", "staff", "prospect", "client")}})
    if db.session.get(CalendarConnection, connection_id) is not None:
        admin.post(f"/settings/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(admin)})
    settled(timeout=60)
