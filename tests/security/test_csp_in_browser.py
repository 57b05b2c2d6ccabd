"""In Chromium, under the real Content-Security-Policy: no page of the portal raises a CSP violation
(no inline script or style is left), and what moved to static files still works: the company's brand
colour, the live progress bar, the flyout menu."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role
from tests.conftest import browser_login
from tests.security.conftest import rules
from tests.security.test_id_routes import make_run
from testsupport.factories import make_connection

# Every violation, reported by the page itself (a CDP init script is not subject to the CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""
SKIPPED = {"broker.google_callback", "broker.webhook", "main.home"}  # no page of their own: they redirect


@pytest.fixture
def watched_page(page):
    console = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    page.console_errors = console
    return page


def assert_no_violation(page, url: str) -> None:
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__cspViolations")
    policy_errors = [text for text in page.console_errors if "Content Security Policy" in text]
    assert not violations and not policy_errors, f"{url}: {violations} {policy_errors}"


def pages_to_visit(app, task_id: int) -> list[str]:
    """Every page without an argument in the URL map, plus an item's pages, the week view and a 404."""
    plain = [rule.rule for rule in rules(app, "GET")
             if not (rule.arguments - set(rule.defaults or {})) and rule.endpoint not in SKIPPED]
    return [*plain, f"/tasks/{task_id}", f"/tasks/{task_id}/edit", "/calendar/?view=week", "/no-such-page"]


def test_no_page_raises_a_csp_violation(app, watched_page, users, make_task):
    page, admin = watched_page, users[Role.ADMIN]
    admin.company.brand_color = "#123456"
    task = make_task(admin.company, [admin])
    run = make_run(admin, make_connection(admin))  # running: the Integrations page shows the live bar
    db.session.commit()

    page.goto("/login")
    assert_no_violation(page, "/login")
    browser_login(page, admin)
    visited = []
    for url in pages_to_visit(app, task.id):
        page.goto(url)
        assert_no_violation(page, url)
        visited.append(url)
    assert {"/dashboard", "/integrations/", "/settings/", "/settings/operations", "/tasks/new"} <= set(visited)

    # The brand colour (was an inline <style>) comes from brand.js.
    expect(page.locator(".portal-header")).to_have_css("background-color", "rgb(18, 52, 86)")
    # The progress bar's width (was a style attribute) is set by integrations.js from data-percent.
    page.goto("/integrations/")
    bar = page.locator("#sync-progress .progress-bar")
    expect(bar).to_have_attribute("style", f"width: {run.percent}%;")
    page.click("#menu-button")
    expect(page.locator("#flyout-menu")).to_be_visible()
    assert_no_violation(page, "/integrations/ with the menu open")
    # An error answer reaches the poller as JSON, and it shows the sentence instead of failing silently.
    db.session.delete(run)
    db.session.commit()
    expect(page.locator("#sync-progress-text")).to_have_text("No such sync run.")
