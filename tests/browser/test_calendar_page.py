"""In Chromium: a client clicks through every menu entry their role has, creates a task, finds it
on the Calendar page, and deletes it (after the confirmation) into the Trash."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect

from app.models import Role
from app.timefmt import zone
from tests.browser.screens import check_widths
from tests.conftest import browser_login
from testsupport import factories


def open_menu(page):
    """The flyout menu, opened with its button unless it already is."""
    menu = page.locator("#flyout-menu")
    if not menu.is_visible():
        page.click("#menu-button")
    expect(menu).to_be_visible()
    return menu


def test_a_client_clicks_through_the_menu_and_finds_their_task_on_the_calendar(page, users):
    client = users[Role.CLIENT]
    page.emulate_media(reduced_motion="reduce")  # no offcanvas animations to wait for
    browser_login(page, client)

    links = open_menu(page).locator("a")
    labels = [text.strip() for text in links.all_inner_texts()]
    assert any("Calendar" in label for label in labels) and not any("Company Settings" in label for label in labels)
    for n, label in enumerate(labels):
        link = open_menu(page).locator("a").nth(n)
        href = link.get_attribute("href")
        link.click()
        page.wait_for_url(f"**{href}")
        expect(page.locator("#error-message"), f"{label} shows an error").to_have_count(0)
        expect(page.locator("main h1").first).to_be_visible()

    today = datetime.now(zone(client.timezone)).date().isoformat()
    page.goto("/tasks/new")
    page.fill("#title", "Upload bank statements")
    page.fill("#due_date", today)
    page.click("#item-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Upload bank statements")

    open_menu(page).get_by_role("link", name="Calendar").click()
    today_cell = page.locator(f'.cal-day[data-date="{today}"]')
    expect(today_cell).to_have_class("cal-day today")
    entry = today_cell.locator(".cal-entry.task", has_text="Upload bank statements")
    expect(entry).to_be_visible()

    entry.click()
    expect(page.locator("#item-title")).to_have_text("Upload bank statements")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-item")
    expect(page.locator(".alert-success")).to_contain_text("moved to the Trash")
    page.click("#trash-link")
    expect(page.locator("#trash-list")).to_contain_text("Upload bank statements")


TITLES = ("Quarterly VAT return for the Smith family trust", "Review the signed engagement letter with Jordan",
          "Annual planning meeting with the whole advisory team")
CUT_ENTRIES = """() => [...document.querySelectorAll('#agenda a.cal-entry')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > window.innerWidth)
    .map(e => e.textContent.trim())"""


def test_a_phone_shows_the_month_as_an_agenda_with_every_title_whole(page, users):
    """Below 576 px the month view is the agenda (days as headings, entries as wrapped rows), at 1280 px the grid;
    the Agenda button shows the list at any width. Screenshots in test-output/."""
    client = users[Role.CLIENT]
    today = datetime.now(zone(client.timezone)).date()
    for n, title in enumerate(TITLES):
        factories.make_task(client.company, [client], title=title, due_date=today.replace(day=1 + 9 * n))
    browser_login(page, client)

    def grid_or_agenda(page, width):
        phone = width < 576
        expect(page.locator("#calendar")).to_be_visible(visible=not phone)
        expect(page.locator("#agenda")).to_be_visible(visible=phone)
        if phone:
            expect(page.locator("#agenda a.cal-entry")).to_have_text([f"{title}" for title in TITLES])
            assert page.evaluate(CUT_ENTRIES) == [], "titles cut on a phone"
            entry = page.locator("#agenda a.cal-entry").first.bounding_box()
            assert entry["height"] >= 44 and entry["width"] > 300, entry

    check_widths(page, "calendar-month", "/calendar/", grid_or_agenda)
    check_widths(page, "calendar-agenda", "/calendar/?view=agenda",
                 lambda page, width: expect(page.locator("#agenda")).to_be_visible())
    check_widths(page, "calendar-week", "/calendar/?view=week")  # the week's days stacked on a phone
    page.goto("/calendar/")
    page.get_by_role("link", name="Agenda").click()
    expect(page.locator("#cal-view-agenda")).to_have_attribute("aria-current", "page")
