"""In Chromium: while a person's sync needs them, the dashboard, the calendar and an item page each show one
short banner in words with the one action that fixes it, reachable by keyboard and fitting a phone; "Not
today" puts it away for the day (issue #24). Screenshots at 390 and 1280 px in test-output/."""
from __future__ import annotations

from playwright.sync_api import expect

from app.models import Role
from tests.browser.screens import check_widths
from tests.conftest import browser_login
from tests.integrations.test_shared_grants import connected
from tests.sync.conftest import pull
from testsupport.factories import make_items

WORDS = "Your Google Calendar sync has stopped: Google access was revoked or has expired."


def test_the_banner_shows_on_every_page_until_the_person_puts_it_away(page, users, login_as, app, google):
    person = users[Role.CLIENT]
    (task,) = make_items(person, tasks=1)
    connected(person, login_as, app)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    browser_login(page, person)
    for name, path in (("dashboard", "/dashboard"), ("calendar", "/calendar/"), ("task", f"/tasks/{task.id}")):
        page.goto(path)
        notice = page.get_by_role("status").filter(has_text=WORDS)
        expect(notice).to_have_count(1)
        expect(notice.get_by_role("button", name="Reconnect")).to_be_visible()
        check_widths(page, f"notice-{name}")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/calendar/")
    page.locator("body").focus()
    for _ in range(40):  # keyboard alone: Tab reaches the banner's buttons
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "sync-notice-dismiss":
            break
    else:
        raise AssertionError("Tab never reached the banner's Not today button")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.url.endswith("/calendar/")  # back where the person was
    expect(page.locator("#sync-notice")).to_have_count(0)
    page.goto("/dashboard")
    expect(page.locator("#sync-notice")).to_have_count(0)  # away for the day, on every page
