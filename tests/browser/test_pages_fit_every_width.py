"""In Chromium, every page at 390 px (phone) and 1280 px (desktop): no sideways scrolling, screenshots kept.

The admin's connections page keeps its Disconnect buttons on screen at 1280 px; the sync history and
the sync health fit a phone; the dashboard's "Coming up" shows dates.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import ConnectionKind, ConnectionStatus, FailureKind, Role, SyncRun, utcnow
from app.sync.failures import record_failure
from app.sync.notes import Code, Note
from tests.browser.screens import check_widths
from tests.conftest import browser_login
from testsupport.factories import make_connection, make_items

LONG = "a-very-long-google-account-name-for-layout-checks@example-company-with-long-domain.com"


@pytest.fixture
def busy_company(users):
    """Connections of every kind and state, long names, runs with counts and a failure."""
    admin, client = users[Role.ADMIN], users[Role.CLIENT]
    items = make_items(client, tasks=2, events=2, appointments=2)
    make_connection(admin, google_email=LONG, calendar_summary="Portal items of the whole sales team, Europe")
    connection = make_connection(client, google_email=LONG, problem="rate_limited",
                                 problem_detail="GoogleError 429: Rate Limit Exceeded",
                                 last_synced_at=utcnow() - timedelta(minutes=5))
    make_connection(users[Role.STAFF], kind=ConnectionKind.ONE_WAY, status=ConnectionStatus.RECONNECT,
                    problem="grant_revoked")
    make_connection(users[Role.MANAGER], status=ConnectionStatus.NEEDS_PERMISSIONS)
    task, appointment = items[0], items[-1]
    appointment.meet_link = "https://meet.google.com/abc-defg-hij"
    for n, status in enumerate(("succeeded", "failed", "succeeded", "cancelled")):
        db.session.add(SyncRun(company_id=client.company_id, user_id=client.id, connection_id=connection.id,
                               kind=("push_existing", "push", "pull", "sync")[n], status=status, total=40, done=40,
                               created=12, updated=3, deleted=1, failed=1 if status == "failed" else 0,
                               outcome="unexpected" if status == "failed" else "complete",
                               detail="AttributeError: 'NoneType' object has no attribute 'isoformat'"
                               if status == "failed" else None,
                               finished_at=datetime.now()))
    record_failure(connection, "task", task.id, FailureKind.REFUSED, Note(Code.ITEM_REFUSED, {"status": 400}))
    db.session.commit()
    return items


def test_every_page_fits_a_phone_and_a_desktop(page, users, busy_company):
    admin = users[Role.ADMIN]
    appointment = busy_company[-1]
    browser_login(page, admin)
    for name, url in (("dashboard", "/dashboard"), ("tasks", "/tasks"), ("events", "/events"),
                      ("appointments", "/appointments"), ("appointment", f"/appointments/{appointment.id}"),
                      ("new-event", "/events/new"), ("calendar-month", "/calendar/"),
                      ("calendar-week", "/calendar/?view=week"), ("trash", "/trash"),
                      ("integrations-admin", "/integrations/"), ("settings", "/settings/"),
                      ("operations", "/settings/operations")):
        check_widths(page, name, url)


def test_admin_connections_page_keeps_disconnect_on_screen(page, users, busy_company):
    browser_login(page, users[Role.ADMIN])

    def disconnect_buttons_on_screen(page, width):
        buttons = page.locator("#connections button", has_text="Disconnect")
        expect(buttons).to_have_count(4)
        for n in range(4):
            box = buttons.nth(n).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, n, box)
        expect(page.locator(".not-in-google").first).to_contain_text(busy_company[0].title)

    check_widths(page, "settings-connections", "/settings/connections", disconnect_buttons_on_screen)


def test_the_clients_integrations_page_fits_with_history_and_health(page, users, busy_company):
    browser_login(page, users[Role.CLIENT])

    def plain_words_only(page, width):
        expect(page.locator("#sync-history")).to_be_visible()
        text = page.locator("main").inner_text()
        for developer_text in ("AttributeError", "NoneType", "#", "queued"):
            assert developer_text not in text, developer_text
        expect(page.locator("#two-way-problem")).to_contain_text("slow down")
        expect(page.locator("#two-way-active")).to_have_count(0)  # never a green "synced" beside a problem
        expect(page.locator("#one-way-not-needed")).to_be_visible()

    check_widths(page, "integrations-client", "/integrations/", plain_words_only)


def test_coming_up_shows_dates(page, users, busy_company):
    browser_login(page, users[Role.CLIENT])

    def dates_shown(page, width):
        whens = page.locator("#upcoming .upcoming-when")
        expect(whens.first).to_be_visible()
        assert all(text.strip() for text in whens.all_inner_texts())

    check_widths(page, "coming-up", "/dashboard", dates_shown)


def test_the_appointments_google_meet_is_a_link(page, users, busy_company):
    appointment = busy_company[-1]
    browser_login(page, users[Role.STAFF])

    def meet_link_shown(page, width):
        link = page.get_by_role("link", name="https://meet.google.com/abc-defg-hij")
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", "https://meet.google.com/abc-defg-hij")

    check_widths(page, "appointment-meet", f"/appointments/{appointment.id}", meet_link_shown)
