"""axe-core in Chromium on every page (issue #26): as every role, in both demo companies (the seed's own data,
colours and logos, each on its own host), at 390 and 1280 px, with the dialogs open, the consent flow's portal
side and the error pages. No violation of impact serious or critical; moderate and minor ones are printed
(with `-s`, or in the failure message) so they are seen, not hidden.

The axe-core engine comes inside axe-playwright-python (no CDN, nothing downloaded at run time).
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from app.branding import TEXT_CONTRAST, contrast
from app.commands import DEMO_COMPANIES, DEMO_PASSWORD, seed_company
from app.extensions import db
from app.models import Appointment, CalendarConnection, ConnectionKind, Event, Role, Task
from app.sync.connections import record_problem
from app.sync.notes import Code, Note
from tests.browser.screens import WIDTHS, overflow
from tests.browser.test_white_label_domains import app_config  # noqa: F401  (the broker's host)

SERIOUS = ("serious", "critical")
AXE = Axe()
ROLES = (Role.ADMIN, Role.MANAGER, Role.STAFF, Role.PROSPECT, Role.CLIENT)


@pytest.fixture
def demo(app, server_port):
    """The two demo companies as `make run` seeds them, each on its own host; Acme's client has a connection
    whose grant Google revoked (the banner, the Reconnect card) and Acme's staff the legacy 1-way card."""
    companies = []
    for spec in DEMO_COMPANIES:
        company, _ = seed_company(spec, f"http://{spec.host}.localhost:{server_port}")
        companies.append(company)
    db.session.commit()
    acme = companies[0]
    client = next(user for user in acme.users if user.role is Role.CLIENT)
    connection = CalendarConnection(company=acme, user=client, kind=ConnectionKind.TWO_WAY,
                                    google_email="alex@example.com", calendar_id="alex@example.com",
                                    calendar_summary="alex@example.com")
    db.session.add(connection)
    db.session.flush()
    record_problem(connection, Note(Code.GRANT_REVOKED))
    db.session.commit()
    return companies


def pages_of(company, role: Role) -> Iterator[tuple[str, str]]:
    """(name, path) of every page this role reaches in this company, the dialogs opened by `#hash` actions."""
    item_pages = []
    for model, base in ((Task, "tasks"), (Event, "events"), (Appointment, "appointments")):
        item = db.session.scalar(sa.select(model).where(model.company_id == company.id).order_by(model.id))
        item_pages += [(f"{base}-list", f"/{base}"), (f"{base}-new", f"/{base}/new"),
                       (f"{base}-detail", f"/{base}/{item.id}"), (f"{base}-edit", f"/{base}/{item.id}/edit")]
    yield from (("dashboard", "/dashboard"), ("calendar-month", "/calendar/"),
                ("calendar-week", "/calendar/?view=week"), *item_pages, ("trash", "/trash"),
                ("account", "/account/password"), ("not-found", "/no-such-page"))
    if company.integrations_visible_to(role):
        yield ("integrations", "/integrations/")
    if role is Role.ADMIN:
        yield from (("settings", "/settings/"), ("settings-connections", "/settings/connections"),
                    ("settings-operations", "/settings/operations"), ("forbidden", "/settings/nope"))


def violations(page, label: str, report: list[str]) -> list[str]:
    """axe's violations on the page as it stands: serious ones returned, every one added to `report`."""
    found = []
    for violation in AXE.run(page).response["violations"]:
        nodes = ", ".join(node["target"][0] if isinstance(node["target"][0], str) else str(node["target"][0])
                          for node in violation["nodes"][:3])
        line = f"{label}: {violation['impact']} {violation['id']} ({len(violation['nodes'])}×: {nodes})"
        if violation["id"] == "color-contrast":
            line += " " + " | ".join(node["any"][0]["message"][40:120] for node in violation["nodes"][:3])
        report.append(line)
        if violation["impact"] in SERIOUS:
            found.append(line)
    return found


SMALL_TARGETS = """() => [...document.querySelectorAll(
        'a.btn, button, input:not([type=hidden]), select, textarea, a.cal-entry, #flyout-menu a, summary, header a')]
    .filter(e => e.checkVisibility({visibilityProperty: true}))
    .map(e => {
        // a box's label and a menu entry's row take the tap: measure what a finger meets
        const target = e.closest('.form-check') || (e.matches('.stretched-link') ? e.closest('li') : e);
        const box = target.getBoundingClientRect();
        return {what: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || e.name || '')
                .trim().slice(0, 30), width: Math.round(box.width), height: Math.round(box.height)};
    })
    .filter(t => t.width < 44 || t.height < 44)"""


def axe_clean(page, label: str) -> None:
    """No serious or critical violation at 390 and 1280 px in the page's present state (a dialog open, a warning
    shown); the viewport is given back as it was."""
    kept = page.viewport_size
    serious = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        serious += violations(page, f"{label} @{width}", [])
    page.set_viewport_size(kept)
    assert not serious, serious


def scan(page, label: str, report: list[str]) -> list[str]:
    """axe at both widths; at the phone's, also no sideways scrolling and touch targets of 44 × 44 px or more."""
    serious = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        serious += violations(page, f"{label} @{width}", report)
        if width < 576:
            sizes = overflow(page)
            if sizes["scroll"] > sizes["inner"]:
                serious.append(f"{label} @{width}: scrolls sideways {sizes}")
            serious += [f"{label} @{width}: touch target under 44 px {target}"
                        for target in page.evaluate(SMALL_TARGETS)]
    return serious


def open_page(browser, company):
    context = browser.new_context(base_url=company.portal_url, reduced_motion="reduce")  # axe reads settled colours
    context.set_default_timeout(20_000)
    return context.new_page()


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard")


COLOURS = """() => {
    const colour = (selector, property) => getComputedStyle(document.querySelector(selector))[property];
    return {header: colour('.portal-header', 'backgroundColor'), header_text: colour('#company-name', 'color'),
            button: colour('.btn-brand', 'backgroundColor'), button_text: colour('.btn-brand', 'color'),
            link: colour('main a:not(.btn)', 'color'), page: colour('body', 'backgroundColor')};
}"""


def as_hex(css: str) -> str:
    """`rgb(r, g, b)` as #rrggbb."""
    return "#" + "".join(f"{int(part):02x}" for part in css[css.index("(") + 1:-1].split(",")[:3])


def expect_readable_brand(page, company) -> None:
    """The company's colour is the one on screen, and every text on it or in it reads at 4.5:1 (AA)."""
    colours = {name: as_hex(value) for name, value in page.evaluate(COLOURS).items()}
    assert colours["header"] == colours["button"] == company.brand_color.lower(), colours
    for text, background in (("header_text", "header"), ("button_text", "button"), ("link", "page")):
        ratio = contrast(colours[text], colours[background])
        assert ratio >= TEXT_CONTRAST, f"{company.name}: {text} {colours[text]} on {colours[background]}: {ratio:.2f}"


@pytest.mark.parametrize("host", [spec.host for spec in DEMO_COMPANIES])
def test_no_serious_violation_on_any_page_for_any_role(browser, live_server, demo, host):
    company = next(c for c, spec in zip(demo, DEMO_COMPANIES, strict=True) if spec.host == host)
    report, serious = [], []
    anonymous = open_page(browser, company)
    for name, path in (("sign-in", "/login"), ("forgot-password", "/password/forgot"),
                       ("reset-link-spent", "/password/reset/not-a-token"), ("not-found-anonymous", "/nope")):
        anonymous.goto(path)
        serious += scan(anonymous, f"anonymous {name}", report)
    anonymous.goto("/login")
    anonymous.fill("#email", next(u.email for u in company.users if u.role is Role.ADMIN))
    anonymous.fill("#password", "not the password")
    anonymous.click("#login-form button[type=submit]")
    serious += scan(anonymous, "anonymous sign-in-error", report)
    for _ in range(6):  # past the per-account sign-in limit (5 a minute): the throttled page
        anonymous.goto("/login")
        anonymous.fill("#email", "nobody@example.com")
        anonymous.fill("#password", "not the password")
        anonymous.click("#login-form button[type=submit]")
    serious += scan(anonymous, "anonymous throttled", report)
    broker = f"http://broker.localhost:{urlsplit(company.portal_url).port}/broker/google/callback?state=forged"
    anonymous.goto(broker)  # the broker's neutral error page (Back after consent, a forged state)
    serious += scan(anonymous, "anonymous broker-error", report)
    anonymous.context.close()

    for role in ROLES:
        user = next(u for u in company.users if u.role is role)
        page = open_page(browser, company)
        sign_in(page, user.email)
        page.goto("/tasks")  # a brand button ("New task") and links to items
        expect_readable_brand(page, company)
        for name, path in pages_of(company, role):
            page.goto(path)
            serious += scan(page, f"{role.value} {name}", report)
            if name == "integrations":
                for dialog in page.locator("[data-bs-toggle=modal]").all():
                    page.set_viewport_size({"width": 1280, "height": 800})
                    dialog.click()
                    page.locator(".modal.show").wait_for()
                    serious += scan(page, f"{role.value} {name} dialog {dialog.get_attribute('id')}", report)
                    page.keyboard.press("Escape")
                    page.locator(".modal.show").wait_for(state="hidden")
        page.context.close()
    print("\n".join(["axe findings:", *report]) if report else "axe: no findings")
    assert not serious, "\n".join(serious + ["", "all findings:", *report])
