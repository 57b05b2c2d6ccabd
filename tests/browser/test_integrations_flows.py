"""In Chromium, the Integrations stories of issue 15, against the emulator's real sign-in pages and a real worker.

1. The progress bar is live from the first poll (never "0/0"), the history row follows without a reload,
   and at 100 % the bar fills its track.
2. Change calendar from the active card: a named new calendar; the portal's events move there, once each.
3. Delete with "remove the events": the dialog offers the choice, the events leave Google, the card resets.
4. A Google event in the portal calendar opens a small detail view with "Open in Google Calendar".
"""
from __future__ import annotations

import time
from datetime import datetime

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.google import REQUIRED_SCOPES
from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, GoogleEvent, Role
from tests.browser.screens import check_widths
from tests.browser.test_integrations_story import connection_of, consent_on_google, runs_of
from tests.conftest import browser_login
from testsupport.factories import make_items
from testsupport.helpers import wait_until

WAIT = 30_000
pytestmark = pytest.mark.usefixtures("google")


def portal_copies(google, calendar_id: str) -> list[dict]:
    return [e for e in google.events(calendar_id) if e.get("status") != "cancelled"
            and "portalRef" in (e.get("extendedProperties") or {}).get("private", {})]


def sign_in_and_push(page, user, google) -> list[str]:
    """Sign in with Google, push existing data, and return every progress text the page showed."""
    browser_login(page, user)
    page.goto("/integrations/")
    page.click("#two-way-sign-in")
    consent_on_google(page, "alex@example.com", tick=REQUIRED_SCOPES)
    google.set_latency(0, batch_inner_ms=120)  # slow enough to watch the bar move
    page.click("#two-way-push")
    page.wait_for_url("**/integrations/")
    texts = []
    deadline = time.monotonic() + WAIT / 1000
    while time.monotonic() < deadline:
        text = page.locator("#sync-progress-text").text_content() or ""
        if not texts or texts[-1] != text:
            texts.append(text)
        if page.locator("#sync-finished").count():
            break
        time.sleep(0.05)
    google.set_latency(0, batch_inner_ms=0)
    return texts


def test_progress_is_live_from_the_first_poll_and_fills_its_track(page, users, google, worker_process):
    client = users[Role.CLIENT]
    make_items(client, tasks=4, events=3, appointments=1)
    texts = sign_in_and_push(page, client, google)
    assert texts and not [t for t in texts if "0/0" in t or "0 of 0" in t], texts
    finished = page.locator("#sync-finished[data-status=succeeded]")
    expect(finished).to_be_visible(timeout=WAIT)

    # The history row of this run followed along, without a reload.
    run_id = finished.get_attribute("data-run-id")
    row = page.locator(f'#sync-history tr[data-run-id="{run_id}"]')
    expect(row.locator(".run-status")).to_have_text("Done")
    expect(row.locator(".run-counts")).to_have_text("8 created")

    def bar_fills_its_track() -> bool:
        bar, track = finished.locator(".progress-bar").bounding_box(), finished.locator(".progress").bounding_box()
        return abs(bar["width"] - track["width"]) < 1
    wait_until(bar_fills_its_track, timeout=3)  # once the bar's width transition has ended
    check_widths(page, "integrations-active")


def test_change_calendar_to_a_named_new_calendar_moves_every_event(page, users, google, worker_process):
    client = users[Role.CLIENT]
    make_items(client, tasks=3, events=2, appointments=1)
    sign_in_and_push(page, client, google)
    expect(page.locator("#sync-finished[data-status=succeeded]")).to_be_visible(timeout=WAIT)
    wait_until(lambda: len(portal_copies(google, "alex@example.com")) == 6)
    wait_until(lambda: all(run.finished for run in runs_of(client)))  # the pull that follows the push

    page.goto("/integrations/")
    page.click("#two-way-change-calendar-link")
    calendar = page.locator("#two-way-calendar")
    expect(calendar).to_have_value("alex@example.com")  # the current calendar, preselected
    name = page.locator("#two-way-new-calendar-name")
    expect(name).to_be_hidden()
    calendar.select_option("__new__")
    expect(name).to_be_visible()
    name.fill("Client portal items")
    check_widths(page, "change-calendar", before=lambda page, width: (
        page.locator("#two-way-calendar").select_option("__new__"),
        page.locator("#two-way-new-calendar-name").fill("Client portal items")))
    page.click("#two-way-change-calendar")
    expect(page.locator(".alert-info")).to_contain_text("Moving your portal items to Client portal items")
    # When the move is done the page reloads by itself and names the new calendar.
    expect(page.locator("#two-way-active")).to_contain_text("Client portal items", timeout=WAIT)

    new_calendar = connection_of(client, ConnectionKind.TWO_WAY).calendar_id
    assert new_calendar != "alex@example.com"
    assert portal_copies(google, "alex@example.com") == []
    assert len(portal_copies(google, new_calendar)) == 6  # moved once each: no duplicates


def test_delete_can_remove_the_events_from_google(page, users, google, worker_process):
    client = users[Role.CLIENT]
    make_items(client, tasks=3, appointments=1)
    sign_in_and_push(page, client, google)
    expect(page.locator("#sync-finished[data-status=succeeded]")).to_be_visible(timeout=WAIT)
    wait_until(lambda: len(portal_copies(google, "alex@example.com")) == 4)

    def open_dialog(page, width):
        page.click("#delete-two-way")
        expect(page.locator("#delete-dialog-two-way")).to_be_visible()

    check_widths(page, "delete-dialog", "/integrations/", open_dialog)
    dialog = page.locator("#delete-dialog-two-way")
    expect(dialog.locator("#delete-two-way-keep")).to_be_checked()
    dialog.locator("#delete-two-way-remove").check()
    dialog.locator("#confirm-delete-two-way").click()
    expect(page.locator(".alert-info")).to_contain_text("Removing your portal events from Google")
    expect(page.locator("#two-way-sign-in")).to_be_enabled(timeout=WAIT)  # reloaded once the job finished
    assert connection_of(client) is None
    assert portal_copies(google, "alex@example.com") == []


def test_a_google_event_opens_a_small_detail_view(page, users):
    client = users[Role.CLIENT]
    connection = CalendarConnection(company_id=client.company_id, user_id=client.id, kind=ConnectionKind.TWO_WAY,
                                    status=ConnectionStatus.ACTIVE, calendar_id="alex@example.com")
    db.session.add(connection)
    db.session.flush()
    db.session.add(GoogleEvent(company_id=client.company_id, connection_id=connection.id, google_event_id="g1",
                               summary="Dentist", location="High Street 1", description="Bring the card",
                               start_at=datetime(2030, 5, 8, 13), end_at=datetime(2030, 5, 8, 14),
                               html_link="https://calendar.google.com/calendar/event?eid=g1"))
    db.session.commit()
    browser_login(page, client)
    page.emulate_media(reduced_motion="reduce")

    def open_detail(page, width):
        page.locator(".cal-entry.google:visible", has_text="Dentist").click()  # the grid, or the agenda on a phone
        view = page.locator("#google-event-dialog")
        expect(view).to_be_visible()
        expect(view.locator("#google-event-title")).to_have_text("Dentist")
        expect(view.locator("#google-event-when")).to_have_text("Wed 08 May 2030, 14:00 – 15:00")
        expect(view.locator("#google-event-location")).to_have_text("High Street 1")
        expect(view.get_by_role("link", name="Open in Google Calendar")).to_have_attribute(
            "href", "https://calendar.google.com/calendar/event?eid=g1")

    check_widths(page, "google-event-detail", "/calendar/?date=2030-05-08", open_detail)
    assert page.url.endswith("/calendar/?date=2030-05-08")  # the view opened in place, no navigation
