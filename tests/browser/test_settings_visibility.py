"""In Chromium: an admin hides Integrations from Contacts, then shows it again, and a client sees the effect."""
from __future__ import annotations

from playwright.sync_api import expect

from app.models import Role
from tests.conftest import browser_login


def sign_out(page) -> None:
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_url("**/login**")


def set_contacts_visibility(page, visible: bool) -> None:
    """Flip the Contacts group switch (it sets Prospect and Client at once) and save."""
    page.goto("/settings/")
    group = page.locator("#group-contacts")
    expect(group).to_be_enabled()  # settings.js is running
    expect(group).to_be_checked(checked=not visible)
    group.click()
    for role in ("prospect", "client"):
        expect(page.locator(f"#visible_{role}")).to_be_checked(checked=visible)
    # The group switch leaves the Staff Members alone.
    expect(page.locator("#visible_manager")).to_be_checked()
    expect(page.locator("#visible_staff")).to_be_checked()
    page.click("#save-visibility")
    expect(page.locator(".alert-success")).to_contain_text(
        "now shown to Client, Prospect" if visible else "now hidden from Client, Prospect")


def open_menu(page):
    page.click("#menu-button")
    menu = page.locator("#flyout-menu")
    expect(menu).to_be_visible()
    return menu


def test_admin_hides_integrations_from_contacts_and_shows_it_again(page, users):
    admin, client = users[Role.ADMIN], users[Role.CLIENT]

    browser_login(page, admin)
    set_contacts_visibility(page, visible=False)
    expect(page.locator("#audit")).to_contain_text("Integrations visibility changed")
    sign_out(page)

    browser_login(page, client)
    menu = open_menu(page)
    expect(menu).to_contain_text("Dashboard")
    expect(menu).not_to_contain_text("Integrations")
    response = page.goto("/integrations/")
    assert response.status == 403
    expect(page.locator("#error-message")).to_contain_text("not made Integrations available to your role")
    sign_out(page)

    browser_login(page, admin)
    set_contacts_visibility(page, visible=True)
    sign_out(page)

    browser_login(page, client)
    expect(open_menu(page)).to_contain_text("Integrations")
    response = page.goto("/integrations/")
    assert response.status == 200
