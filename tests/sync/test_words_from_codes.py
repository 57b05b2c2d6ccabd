"""Words come from codes: what a user typed never chooses the message, and every caller meets the same rules.

The engine records a failure as a code with parameters (`app.sync.notes`); pages render the words
(`app.integrations.words`). An item refused by Google is that item's failure, whatever its title says; a
request that would wait behind a bulk run is refused in words whoever asks (the user, or an admin).
"""
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.integrations.words import run_words
from app.models import CalendarConnection, ConnectionStatus, Event, Role, RunKind, RunStatus, SyncRun, Task
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from testsupport.factories import make_items

from .conftest import CALENDAR, live_events, pull, run_one_job

# Titles that once made the card speak of the connection (a regular expression over text with the title in it).
TITLES = ["Revoked contracts review", "Call about the quota", "Room 503 booking", "Permission slip for the trip",
          "Not found: the spare keys"]
CONNECTION_WORDS = ["revoked or has expired", "slow down", "could not be reached", "may not write",
                    "may not do that", "Reconnect", "could not find the calendar", "unexpected"]


@pytest.mark.parametrize("refused_title", TITLES)
def test_an_items_title_never_chooses_the_words_of_its_refusal(refused_title, connect, user, google, login_as, app):
    """Google refuses one item (its time zone is invalid at Google), in Push Existing Data and again in the
    push its Retry asks for; the others, with titles full of words that sound like connection problems, go
    through. The card and the item page say that this item was refused and nothing about the connection,
    which stays active."""
    start = datetime(2031, 3, 4, 9, 0)
    items = {title: Event(company_id=user.company_id, title=title, created_by_id=user.id, attendees=[user],
                          timezone="Mars/Olympus" if title == refused_title else "Europe/London",
                          start_at=start, end_at=start + timedelta(hours=1)) for title in TITLES}
    db.session.add_all(items.values())
    db.session.commit()
    connection = connect()  # Push Existing Data, then the first pull

    assert sorted(e["summary"] for e in live_events(google)) == sorted(t for t in TITLES if t != refused_title)
    browser = login_as(user)
    refused = items[refused_title]
    post_form(browser, f"/events/{refused.id}/sync/retry", {"back": "integrations"}, page=f"/events/{refused.id}")
    run_jobs(app)  # an outbox push, refused again: no pull comes after it
    last = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))
    assert (last.kind, last.failed) == (RunKind.PUSH, 1)
    db.session.refresh(connection)
    assert (connection.status, connection.problem) == (ConnectionStatus.ACTIVE, None)
    card = browser.get("/integrations/").get_data(as_text=True).replace("&#39;", "'")
    assert 'id="two-way-active"' in card and 'id="two-way-problem"' not in card
    assert "1 item is not in Google." in card
    assert f">{refused_title}</a>: Google refused it as invalid." in card.replace("&amp;", "&")
    for words in CONNECTION_WORDS:
        assert words not in card, words
    page = browser.get(f"/events/{refused.id}").get_data(as_text=True)
    assert "Not in Google:</strong> Google refused it as invalid." in page
    for words in CONNECTION_WORDS:
        assert words not in page, words


def test_the_admins_sync_now_during_a_users_push_is_refused_in_words_as_the_users_own(
        sliced, users, user, login_as, google, app):
    """A bulk run's rule lives in the engine's request path, so an admin's Sync now obeys it too: it would only
    queue behind the push (for hours, under Google's quota), so it is refused in words, and nothing is queued."""
    make_items(user, tasks=12)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert run_one_job() == "start_run"  # the first slice; the next waits on the bulk queue
    connection = db.session.scalar(sa.select(CalendarConnection))
    runs_before = db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun))
    under_way = "Your portal items are still being pushed to Google; Sync now and the other actions are back"

    admin = login_as(users[Role.ADMIN])
    response = post_form(admin, f"/settings/connections/{connection.id}/sync", {}, page="/settings/connections",
                         follow_redirects=True)
    assert under_way in response.get_data(as_text=True)
    response = post_form(client, "/integrations/two-way/sync", {}, page="/integrations/", follow_redirects=True)
    assert under_way in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == runs_before  # nothing queued

    run_jobs(app)  # the push ends (then its first pull): the admin's Sync now is taken again
    push = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert push.status == RunStatus.SUCCEEDED
    response = post_form(admin, f"/settings/connections/{connection.id}/sync", {}, page="/settings/connections",
                         follow_redirects=True)
    assert "Sync requested for" in response.get_data(as_text=True)


def test_a_run_whose_items_did_not_reach_google_does_not_read_complete(connect, user, google, app, login_as):
    """Google down for every write of a push: the run says how many changes went through and how many wait (and
    are sent again by themselves), in words; the history does not call it simply "Done"."""
    connect()
    tasks = make_items(user, tasks=3)
    google.add_fault(status=503, count=1000, match="insert")
    run_jobs(app)
    google.clear_faults()
    push = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH).order_by(SyncRun.id.desc()))
    assert (push.status, push.failed) == (RunStatus.SUCCEEDED, len(tasks))
    words = "0 changes went through; 3 wait for Google and are sent again automatically."
    assert run_words(push) == words
    history = login_as(user).get("/integrations/").get_data(as_text=True).split('id="sync-history"')[1]
    assert "Partly done" in history and words in history and "Synchronization complete" not in history


def test_a_task_without_a_due_date_is_no_reason_for_a_look_and_quiet_runs_are_one_line(
        connect, user, app, login_as):
    connect()
    make_items(user, tasks=1)
    undated = Task(company_id=user.company_id, title="Someday", assignees=[user])
    db.session.add(undated)
    db.session.commit()
    run_jobs(app)  # its push: kept out of Google on purpose
    for _ in range(4):
        pull(app)  # the safety net finds nothing
    card = login_as(user).get("/integrations/").get_data(as_text=True)
    assert "Sync health: all good" in card and "it has no due date" in card
    history = card.split('id="sync-history"')[1].split("</table>")[0]
    assert "No changes (4 checks)" in history  # one line for the four quiet pulls in a row
