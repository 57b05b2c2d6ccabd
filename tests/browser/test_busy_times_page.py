"""In Chromium (issue #25): a staff member who shares busy times sees "Busy in Google" blocks on the calendar,
and booking a client over a busy time warns before saving, with the next free slots; Save anyway books it.
At 390 and 1280 px (screenshots in test-output/), with no serious axe-core violation on the warning."""
from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from app.crypto import encrypt
from app.google import FREEBUSY_SCOPE, REQUIRED_SCOPES
from app.models import Role
from app.timefmt import zone
from tests.browser.screens import check_widths
from tests.browser.test_accessibility import axe_clean
from tests.conftest import browser_login
from tests.integrations.test_busy_times import SAM, busy_in_google, google_as
from testsupport.factories import make_connection


def share_busy_times(app, google, staff) -> None:
    """Sam's 2-way sync into a calendar of its own, with the free/busy permission granted (as the consent tests
    leave it) and the primary calendar counting as busy."""
    scopes = [*REQUIRED_SCOPES, FREEBUSY_SCOPE]
    tokens = google.issue_tokens(SAM, app.config["GOOGLE_CLIENT_ID"], scopes)
    portal = google_as(google, SAM).calendars().insert(body={"summary": "Portal"}).execute()
    make_connection(staff, google_email=SAM, calendar_id=portal["id"], calendar_summary="Portal",
                    access_token_enc=encrypt(tokens["access_token"]),
                    refresh_token_enc=encrypt(tokens["refresh_token"]), granted_scopes=" ".join(scopes),
                    client_id=app.config["GOOGLE_CLIENT_ID"], busy_calendars={SAM: SAM})


def test_busy_blocks_and_the_warning_before_saving(page, app, google, users):
    staff, client = users[Role.STAFF], users[Role.CLIENT]
    share_busy_times(app, google, staff)
    day = (datetime.now(zone(staff.timezone)) + timedelta(days=2)).date()
    busy_in_google(google, SAM, datetime.combine(day, datetime.min.time().replace(hour=10), zone(staff.timezone)))
    browser_login(page, staff)

    def busy_block_shown(page, width):
        block = page.locator("[data-kind=busy]:visible").first
        expect(block).to_contain_text("10:00–11:00")
        expect(page.locator("main")).not_to_contain_text("Private")

    check_widths(page, "busy-blocks", f"/calendar/?date={day.isoformat()}", busy_block_shown)

    book(page, "Quarterly review", day, "10:30", "11:30", client)
    warning = page.locator("#busy-warning")
    expect(warning).to_contain_text(f"{staff.name} is busy in Google 10:00–11:00.")
    expect(warning).to_contain_text("Free for everyone that day: 11:00–12:00, 11:30–12:30, 12:00–13:00.")
    expect(page.locator("#title")).to_have_value("Quarterly review")  # nothing typed is lost
    axe_clean(page, "the busy warning")
    check_widths(page, "busy-warning", None, lambda page, width: expect(page.locator("#busy-warning")).to_be_visible())
    # check_widths reloads: the browser posts the form again, and the warning comes back, still unsaved
    page.get_by_role("button", name="Use 11:00–12:00").click()  # a free time fills the form; then it saves
    expect(page.locator("#start_time")).to_have_value("11:00")
    expect(page.locator("#end_time")).to_have_value("12:00")
    page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("Quarterly review")
    expect(page.locator("main")).to_contain_text("11:00")

    book(page, "Urgent call", day, "10:00", "10:30", client)  # over the busy time again, this time booked anyway
    page.click("#save-anyway")
    expect(page.locator(".alert-success")).to_contain_text("Urgent call")


def book(page, title: str, day, start: str, end: str, contact) -> None:
    """The new appointment form, filled and sent (its first submit button: Save appointment)."""
    page.goto("/appointments/new")
    page.fill("#title", title)
    page.fill("#start_date", day.isoformat())
    page.fill("#start_time", start)
    page.fill("#end_time", end)
    page.select_option("#contact", str(contact.id))
    page.click("#item-form button[type=submit] >> nth=0")
