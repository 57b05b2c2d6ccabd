"""In Chromium, the Integrations page stories of issue 4, against the Google emulator's real sign-in pages.

1. A client signs in with Google, picks the primary calendar, pushes existing data and watches the progress bar
   reach 100 %; Google then holds exactly one event per portal item, and syncing again adds none.
2. A user with the legacy 1-way connection sees the 2-way card locked, deletes the 1-way (Delete in the dialog,
   keeping the events) and the 2-way card unlocks; Cancel in the dialog keeps everything as it was.
3. A client who leaves a box unticked sees "needs attention" naming it, grants it, and gets the calendar dropdown.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.google import APP_CREATED_SCOPE, CALENDARLIST_SCOPE, EVENTS_SCOPE, REQUIRED_SCOPES, SCOPE_LABELS
from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, Event, Role, SyncRun
from tests.conftest import browser_login
from testsupport.factories import make_items
from testsupport.helpers import wait_until

WAIT = 20_000  # ms: the longest any single expectation may wait

pytestmark = pytest.mark.usefixtures("google")


# ---------------------------------------------------------------- helpers


def open_integrations_from_menu(page) -> None:
    page.click("#menu-button")
    menu = page.locator("#flyout-menu")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="Integrations").click()
    page.wait_for_url("**/integrations/")
    expect(page.locator("h1")).to_have_text("Integrations")


def consent_on_google(page, email: str, tick) -> None:
    """On the emulator: choose the account, tick exactly the given boxes, press Continue."""
    expect(page.locator("#chooser-title")).to_have_text("Choose an account")
    expect(page.locator("#client-name")).to_have_text("My Portal App")
    page.click(f'button[data-email="{email}"]')
    expect(page.locator("#consent-title")).to_contain_text("My Portal App")
    expect(page.locator("#consent-account")).to_contain_text(email)
    boxes = page.locator("input[name=scope]")
    expect(boxes).to_have_count(len(REQUIRED_SCOPES))
    for scope in tick:
        box = page.locator(f'input[name=scope][value="{scope}"]')
        box.check()
        expect(box).to_be_checked()
    page.click("#continue")
    page.wait_for_url("**/integrations/")


def connection_of(user, kind: ConnectionKind | None = None) -> CalendarConnection | None:
    db.session.expire_all()  # the live server commits in its own sessions
    query = sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id)
    if kind is not None:
        query = query.where(CalendarConnection.kind == kind)
    return db.session.scalar(query)


def runs_of(user) -> list[SyncRun]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SyncRun).where(SyncRun.user_id == user.id).order_by(SyncRun.id)))


def live_events(google, calendar_id: str) -> list[dict]:
    return [e for e in google.events(calendar_id) if e.get("status") != "cancelled"]


def instant(value: dict) -> datetime:
    return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(UTC)


def give_one_way_connection(user) -> CalendarConnection:
    connection = CalendarConnection(company_id=user.company_id, user_id=user.id, kind=ConnectionKind.ONE_WAY,
                                    status=ConnectionStatus.ACTIVE, google_email="sam@example.com",
                                    calendar_id="sam@example.com")
    db.session.add(connection)
    db.session.commit()
    return connection


# ---------------------------------------------------------------- 1. the seed's story


def test_client_connects_google_and_pushes_existing_data(page, users, google, worker_process):
    client = users[Role.CLIENT]
    items = make_items(client, tasks=3, events=3, appointments=2)
    expected_titles = sorted(item.title for item in items)
    timed = next(item for item in items if isinstance(item, Event))
    timed_title, timed_start = timed.title, timed.start_at.replace(tzinfo=UTC)

    browser_login(page, client)
    open_integrations_from_menu(page)
    sign_in = page.locator("#two-way-sign-in")
    expect(sign_in).to_be_enabled()
    expect(sign_in).to_have_text("Sign in with Google")
    sign_in.click()

    consent_on_google(page, "alex@example.com", tick=REQUIRED_SCOPES)

    # Back on the Integrations page: signed in, the calendar dropdown with the primary calendar preselected.
    expect(page.locator("#two-way-email")).to_have_text("alex@example.com")
    calendar = page.locator("#two-way-calendar")
    expect(calendar).to_be_visible()
    expect(calendar).to_have_value("alex@example.com")
    expect(calendar.locator("option")).to_contain_text(["Create a new calendar for portal items"])
    expect(page.locator("#two-way-attention")).to_have_count(0)

    # Slow Google's batch down a little so the live progress bar is on screen before the job finishes.
    google.set_latency(0, batch_inner_ms=150)
    page.click("#two-way-push")
    page.wait_for_url("**/integrations/")
    expect(page.locator(".alert-info")).to_contain_text("Synchronization started")
    expect(page.locator("#sync-progress, #sync-finished")).to_be_visible()

    finished = page.locator("#sync-finished[data-status=succeeded]")
    expect(finished).to_be_visible(timeout=WAIT)
    google.set_latency(0, batch_inner_ms=0)
    bar = finished.locator(".progress-bar")
    expect(bar).to_have_text("100 %")
    expect(finished.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#sync-progress-text")).to_have_text("Synchronization complete: 8 created, 0 updated.")
    # The card says what it holds now, without a reload: the counts and the Delete dialog's number.
    expect(page.locator("#two-way-counts")).to_contain_text("8 portal items in Google")
    expect(page.locator("#delete-dialog-two-way [data-pushed-events]")).to_have_text("8 events")
    # The card's other actions waited for the push (they would only have queued behind it); now they are back.
    expect(page.locator("#two-way-sync-now")).to_be_visible()
    expect(page.locator("#two-way-actions-wait")).to_be_hidden()

    push_run = next(r for r in runs_of(client) if r.kind == "push_existing")
    assert (push_run.status, push_run.total, push_run.done, push_run.created, push_run.failed) == \
        ("succeeded", 8, 8, 8, 0), push_run.errors

    # Google holds exactly one event per portal item, with the right titles and times.
    events = live_events(google, "alex@example.com")
    assert sorted(e["summary"] for e in events) == expected_titles
    google_timed = next(e for e in events if e["summary"] == timed_title)
    assert instant(google_timed["start"]) == timed_start

    # Sync again (the active card offers "Sync now"): no duplicates. Let the follow-up pull finish first.
    wait_until(lambda: all(r.finished for r in runs_of(client)), timeout=20)
    before = {r.id for r in runs_of(client)}
    page.click("#two-way-sync-now")
    page.wait_for_url("**/integrations/")
    expect(page.locator(".alert-info")).to_contain_text("Synchronization started")
    again = wait_until(lambda: [r for r in runs_of(client) if r.id not in before and r.finished], timeout=20)
    assert [(r.kind, r.status) for r in again] == [("sync", "succeeded")], [r.errors for r in again]
    # Whether the page caught the run in progress or already finished, it ends up in a succeeded state.
    expect(page.locator("#sync-finished[data-status=succeeded], #two-way-active")).to_be_visible(timeout=WAIT)
    events_after = live_events(google, "alex@example.com")
    assert len(events_after) == len(items)
    assert sorted(e["summary"] for e in events_after) == expected_titles

    page.reload()
    expect(page.locator("#two-way-active")).to_contain_text("alex@example.com")
    expect(page.locator("#sync-history")).to_contain_text("Push Existing Data")


# ---------------------------------------------------------------- 2. 1-way → 2-way


def test_one_way_user_switches_to_two_way(page, users):
    staff = users[Role.STAFF]
    give_one_way_connection(staff)

    browser_login(page, staff)
    open_integrations_from_menu(page)
    expect(page.locator("#two-way-locked")).to_be_visible()
    expect(page.locator("#two-way-locked")).to_contain_text("Deactivate the 1-WAY Sync")
    expect(page.locator("#two-way-sign-in")).to_be_disabled()

    page.click("#delete-one-way")
    dialog = page.locator("#delete-dialog-one-way")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#delete-one-way-keep")).to_be_checked()  # keeping the events is the default
    with page.expect_navigation():
        dialog.locator("#confirm-delete-one-way").click()
    page.wait_for_url("**/integrations/")

    expect(page.locator(".alert-info")).to_contain_text("Google Calendar (1-WAY Sync) deleted")
    expect(page.locator("#two-way-locked")).to_have_count(0)
    sign_in = page.locator("#two-way-sign-in")
    expect(sign_in).to_be_enabled()
    expect(sign_in).to_have_text("Sign in with Google")
    expect(page.locator("#delete-one-way")).to_have_count(0)
    assert connection_of(staff) is None


def test_one_way_user_cancels_the_delete_and_keeps_the_connection(page, users):
    staff = users[Role.STAFF]
    give_one_way_connection(staff)

    browser_login(page, staff)
    page.goto("/integrations/")
    expect(page.locator("#two-way-sign-in")).to_be_disabled()

    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.click("#delete-one-way")
    dialog = page.locator("#delete-dialog-one-way")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete the Google Calendar (1-WAY Sync)?")
    dialog.locator("#cancel-delete-one-way").click()
    expect(dialog).to_be_hidden()

    # Nothing was sent, and after a reload the page is unchanged.
    page.reload()
    expect(page.locator("#two-way-locked")).to_be_visible()
    expect(page.locator("#two-way-sign-in")).to_be_disabled()
    expect(page.locator("#delete-one-way")).to_be_visible()
    assert not [url for url in posts if "/delete" in url]
    connection = connection_of(staff, ConnectionKind.ONE_WAY)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE


# ---------------------------------------------------------------- 3. a box left unticked


def test_unticked_box_needs_attention_then_granting_fixes_it(page, users, google):
    client = users[Role.CLIENT]

    browser_login(page, client)
    open_integrations_from_menu(page)
    page.click("#two-way-sign-in")
    consent_on_google(page, "alex@example.com", tick=[EVENTS_SCOPE, APP_CREATED_SCOPE])

    attention = page.locator("#two-way-attention")
    expect(attention).to_be_visible()
    expect(attention).to_contain_text("Needs attention")
    missing = page.locator("#two-way-missing li")
    expect(missing).to_have_text([SCOPE_LABELS[CALENDARLIST_SCOPE]])
    expect(missing).to_contain_text(["See the list of Google calendars"])
    expect(page.locator("#two-way-calendar")).to_have_count(0)
    expect(page.locator("#two-way-push")).to_have_count(0)
    assert connection_of(client).status is ConnectionStatus.NEEDS_PERMISSIONS

    page.click("#two-way-grant")
    consent_on_google(page, "alex@example.com", tick=[CALENDARLIST_SCOPE])  # only the missing box

    expect(page.locator("#two-way-attention")).to_have_count(0)
    calendar = page.locator("#two-way-calendar")
    expect(calendar).to_be_visible()
    expect(calendar).to_have_value("alex@example.com")
    expect(page.locator("#two-way-push")).to_be_enabled()
    connection = connection_of(client)
    assert connection.status is ConnectionStatus.NEEDS_CALENDAR
    assert connection.scope_set >= set(REQUIRED_SCOPES)
