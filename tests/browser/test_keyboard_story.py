"""Issue #26, point 2: the seed's story with the keyboard alone, in Chromium, against the Google emulator's pages.

A client signs in (Tab, typing, Enter), skips to the content, opens the menu (a focus-trapping off-canvas
dialog: Escape closes it and gives focus back to the menu button), goes to Integrations, signs in with Google
(the emulator's account chooser and consent screen: Tab, Space on each box, Enter on Continue), keeps the
primary calendar in the dropdown (arrow keys), presses Push Existing Data and watches the progress (the live
region ends with the completion message, the bar is named by its text), then opens the Delete dialog: focus
lands on its Cancel, Tab and Shift+Tab never leave it, "Remove them from Google Calendar" is chosen with the
arrow keys, Escape closes it and gives focus back to Delete; opened again, Enter on its Delete removes the events
from Google and the card offers Sign in with Google again.

Only Tab, Shift+Tab, Enter, Space, Escape, the arrow keys and typing into a focused field drive the story: no
click, check, fill or select_option. Wherever focus lands it must show (`:focus-visible`, on screen, and once its
transition has ended an outline or a box shadow wide and opaque enough to see), and on every page of the story a
full Tab cycle must reach every visible control, and every element that shows a pointer cursor must lead to a
control it reached: nothing is reachable only by mouse.

The last test opens the menu from the keyboard: focus lands, visibly, on its current entry (portal.js).
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.extensions import db
from app.google import REQUIRED_SCOPES
from app.models import CalendarConnection, Role
from tests.browser.test_accessibility import axe_clean
from testsupport.factories import PASSWORD, make_items

WAIT = 20_000  # ms: the longest any single expectation may wait
TRAP_PRESSES = 15  # Tab presses (and as many Shift+Tab) that must stay inside an open dialog


# ---------------------------------------------------------------- what has focus, and whether it shows

# A short description of an element, for failure messages: tag#id.class "text".
DESCRIBE = """(el) => {
  if (!el || el === document.body || el === document.documentElement) return "<body>";
  const id = el.id ? "#" + el.id : "";
  const cls = typeof el.className === "string" && el.className.trim()
    ? "." + el.className.trim().split(/\\s+/).slice(0, 3).join(".") : "";
  const text = (el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.textContent || el.value || "")
    .replace(/\\s+/g, " ").trim().slice(0, 40);
  return `${el.tagName.toLowerCase()}${id}${cls}${text ? ` "${text}"` : ""}`;
}"""

# Whether the focused element shows its focus, once its transitions have ended (Bootstrap fades a ring in over
# .15 s; judged at its start, any ring would be a transparent hairline): it matches :focus-visible, is on screen,
# and has an outline at least 1 px wide or a box shadow at least 2 px wide, neither fainter than 20 % opacity.
FOCUS_SHOWN = """async (el) => {
  if (!el || el === document.body || el === document.documentElement) return {ok: false, why: "nothing has focus"};
  const fading = el.getAnimations().filter((a) => a.effect?.getComputedTiming().iterations !== Infinity);
  await Promise.race([Promise.all(fading.map((a) => a.finished.catch(() => null))),
                      new Promise((done) => setTimeout(done, 1000))]);
  const s = getComputedStyle(el);
  const alpha = (colour) => {
    if (!colour || colour === "transparent") return 0;
    const m = colour.match(/rgba?\\(([^)]*)\\)/);
    if (!m) return 1;
    const parts = m[1].split(/[\\s,\\/]+/).filter(Boolean);
    return parts.length > 3 ? parseFloat(parts[3]) : 1;
  };
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1 && alpha(s.outlineColor) >= 0.2;
  // box-shadow: comma-separated shadows (commas inside rgb() do not separate); one that shows is enough.
  const shadows = s.boxShadow === "none" ? [] : s.boxShadow.split(/,(?![^(]*\\))/);
  const shadow = shadows.some((one) => {
    const colour = (one.match(/rgba?\\([^)]*\\)/) || ["rgb(0, 0, 0)"])[0];
    const lengths = (one.replace(/rgba?\\([^)]*\\)/, "").match(/-?[\\d.]+px/g) || []).map(parseFloat);
    return alpha(colour) >= 0.2 && lengths.some((length) => Math.abs(length) >= 2);
  });
  const box = el.getBoundingClientRect();
  // On screen, and not clipped to a pixel the way a visually hidden element is.
  const onScreen = box.width >= 4 && box.height >= 4 && box.bottom > 0 && box.right > 0
    && box.top < innerHeight && box.left < innerWidth && s.clip === "auto" && s.clipPath === "none"
    && el.checkVisibility({opacityProperty: true, visibilityProperty: true});
  const focusVisible = el.matches(":focus-visible");
  return {ok: focusVisible && onScreen && (outline || shadow), focusVisible, onScreen, outline, shadow,
          style: `outline: ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; box-shadow: ${s.boxShadow}`};
}"""


def focused(page: Page) -> str:
    return page.evaluate(f"({DESCRIBE})(document.activeElement)")


def focus_matches(page: Page, selector: str) -> bool:
    return page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector)


def focus_inside(page: Page, selector: str) -> bool:
    return page.evaluate("(s) => !!document.querySelector(s)?.contains(document.activeElement)", selector)


def expect_focus_inside(page: Page, selector: str, why: str) -> None:
    """Focus moves into `selector` (a dialog moves it once its opening transition has ended)."""
    try:
        page.wait_for_function("(s) => !!document.querySelector(s)?.contains(document.activeElement)", arg=selector,
                               timeout=3_000)
    except PlaywrightTimeout:
        pytest.fail(f"{why}, but focus stayed on {focused(page)}")


def assert_focus_visible(page: Page, where: str = "") -> None:
    state = page.evaluate(f"({FOCUS_SHOWN})(document.activeElement)")
    if not state["ok"]:
        pytest.fail(f"focus not visible on {focused(page)}{' (' + where + ')' if where else ''}: {state}")


def press(page: Page, key: str, where: str = "") -> str:
    """Press one key; the element that has focus then must show it. Returns what has focus."""
    page.keyboard.press(key)
    assert_focus_visible(page, f"after {key}{', ' + where if where else ''}")
    return focused(page)


def tab_to(page: Page, selector: str, max_presses: int = 60, key: str = "Tab") -> None:
    """Press Tab (or `key`) until the focused element matches `selector`, each focus visible on the way."""
    seen = []
    for _ in range(max_presses):
        page.keyboard.press(key)
        seen.append(focused(page))
        if seen[-1] == "<body>" and (len(seen) < 2 or seen[-2] != "<body>"):
            continue  # Tab past the last control leaves the document once, then comes back to its first one
        assert_focus_visible(page, f"tabbing to {selector}, after {' → '.join(seen[-4:])}")
        if focus_matches(page, selector):
            return
    pytest.fail(f"{selector} not reached with {max_presses} × {key}; focus went: {' → '.join(seen)}")


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


# ---------------------------------------------------------------- nothing reachable only by mouse

# The visible controls a keyboard must reach (one per radio group), and the visible elements that show a pointer
# cursor whose control (themselves, the link or button they sit in, a label's field) was not reached.
UNREACHED = """() => {
  const shown = (el) => el.checkVisibility({visibilityProperty: true}) && !el.closest("[inert]");
  const controls = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])")]
    .filter((el) => shown(el) && !el.disabled && !el.closest("fieldset:disabled"));
  const reached = (el) => {
    if (el.dataset.keyboardReached) return true;
    if (el.type === "radio" && el.name) {  // Tab stops once per radio group; the arrow keys move inside it
      const group = el.form ? el.form.elements[el.name] : document.getElementsByName(el.name);
      return [...(group.length === undefined ? [group] : group)].some((r) => r.dataset.keyboardReached);
    }
    return false;
  };
  const describe = DESCRIBE;
  const missed = controls.filter((el) => !reached(el)).map(describe);
  const pointerOnly = [...document.querySelectorAll("body *")].filter((el) => {
    if (!shown(el) || getComputedStyle(el).cursor !== "pointer") return false;
    let target = el.closest("a[href], button, summary, select, input, textarea, label, [tabindex]");
    if (target && target.tagName === "LABEL") target = target.control;
    if (!target) return true;  // a pointer over nothing a keyboard can reach
    return !target.disabled && !reached(target);
  }).map(describe);
  return {missed, pointerOnly: [...new Set(pointerOnly)]};
}""".replace("DESCRIBE;", DESCRIBE + ";")


def assert_everything_reachable(page: Page, where: str, max_presses: int = 80) -> None:
    """A full Tab cycle through the page (each focus visible) reaches every visible control, and whatever shows a
    pointer cursor leads to one of them. The cycle ends on the first control that Tab reaches a second time."""
    page.evaluate("() => document.querySelectorAll('[data-keyboard-reached]')"
                  ".forEach((el) => delete el.dataset.keyboardReached)")
    seen = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if seen[-1] == "<body>":  # past the last control, focus leaves the document once
            if len(seen) > 1 and seen[-2] == "<body>":
                pytest.fail(f"on {where}, Tab twice focused nothing: {' → '.join(seen)}")
            continue
        assert_focus_visible(page, f"Tab cycle on {where}")
        if page.evaluate("() => document.activeElement.dataset.keyboardReached === '1'"):
            break
        page.evaluate("() => { document.activeElement.dataset.keyboardReached = '1'; }")
    else:
        pytest.fail(f"on {where}, {max_presses} Tabs never came round: {' → '.join(seen)}")
    result = page.evaluate(UNREACHED)
    assert not result["missed"], f"on {where}, never reached with Tab: {result['missed']} (Tab went {seen})"
    assert not result["pointerOnly"], f"on {where}, only for the mouse: {result['pointerOnly']}"


# ---------------------------------------------------------------- dialogs


def assert_focus_trapped(page: Page, dialog: str) -> None:
    """Tab and Shift+Tab, TRAP_PRESSES times each, never put focus on anything outside the open dialog. Bootstrap's
    trap is a soft one: past the document's last control focus goes to the browser's own controls (here: nothing
    in the page has it), and the next press brings it back into the dialog, never to the page behind."""
    for key in ("Tab", "Shift+Tab"):
        seen = []
        for _ in range(TRAP_PRESSES):
            page.keyboard.press(key)
            seen.append(focused(page))
            if seen[-1] == "<body>" and (len(seen) < 2 or seen[-2] != "<body>"):
                continue
            assert_focus_visible(page, f"{key} inside {dialog}, after {' → '.join(seen[-4:])}")
            assert focus_inside(page, dialog), f"{key} left {dialog}: {' → '.join(seen)}"


def close_with_escape_and_expect_focus_back(page: Page, dialog: str, opener: str) -> None:
    page.keyboard.press("Escape")
    expect(page.locator(dialog)).to_be_hidden()
    expect(page.locator(opener)).to_be_focused()
    assert_focus_visible(page, f"back on {opener} after Escape closed {dialog}")


# ---------------------------------------------------------------- the story


def live_events(google, calendar_id: str) -> list[dict]:
    return [e for e in google.events(calendar_id) if e.get("status") != "cancelled"]


def connection_of(user) -> CalendarConnection | None:
    db.session.expire_all()  # the live server commits in its own sessions
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def test_the_seed_story_with_the_keyboard_alone(page, users, google, worker_process):
    client = users[Role.CLIENT]
    items = make_items(client, tasks=3, events=3, appointments=2)

    # Sign in. The first Tab on the page reaches the skip link, and it shows.
    page.goto("/login")
    tab_to(page, ".skip-link", max_presses=1)
    expect(page.locator(".skip-link")).to_be_in_viewport()
    assert_everything_reachable(page, "the sign-in page")
    type_into(page, "#email", client.email)
    type_into(page, "#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")

    # The skip link takes focus to the content.
    tab_to(page, ".skip-link", max_presses=1)
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # The menu: Enter opens it (focus goes in and stays in), Escape closes it and gives focus back.
    tab_to(page, "#menu-button")
    page.keyboard.press("Enter")
    flyout = page.locator("#flyout")
    expect(flyout).to_be_visible()
    expect(flyout).to_have_attribute("aria-modal", "true")
    expect_focus_inside(page, "#flyout", "the menu opened")  # on the panel itself: see the last test
    assert_focus_trapped(page, "#flyout")
    close_with_escape_and_expect_focus_back(page, "#flyout", "#menu-button")
    page.keyboard.press("Enter")
    expect_focus_inside(page, "#flyout", "the menu opened again")  # once it has slid in
    tab_to(page, '#flyout-menu a[href$="/integrations/"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/integrations/")
    expect(page.locator("h1")).to_have_text("Integrations")

    # Sign in with Google: the emulator's account chooser and consent screen, by keyboard too.
    assert_everything_reachable(page, "Integrations, not connected")
    tab_to(page, "#two-way-sign-in")
    page.keyboard.press("Enter")
    expect(page.locator("#chooser-title")).to_have_text("Choose an account")
    assert_everything_reachable(page, "Google's account chooser")
    tab_to(page, 'button[data-email="alex@example.com"]')
    page.keyboard.press("Enter")
    expect(page.locator("#consent-account")).to_contain_text("alex@example.com")
    assert_everything_reachable(page, "Google's consent screen")
    for scope in REQUIRED_SCOPES:
        box = f'input[name=scope][value="{scope}"]'
        tab_to(page, box)
        press(page, "Space", f"ticking {scope}")
        expect(page.locator(box)).to_be_checked()
    tab_to(page, "#continue")
    page.keyboard.press("Enter")
    page.wait_for_url("**/integrations/")

    # Back on Integrations: the dropdown works with the arrow keys; keep the primary calendar.
    expect(page.locator("#two-way-email")).to_have_text("alex@example.com")
    calendar = page.locator("#two-way-calendar")
    expect(calendar).to_have_value("alex@example.com")
    assert_everything_reachable(page, "Integrations, choosing the calendar")
    axe_clean(page, "the consent flow's portal side: choosing the calendar")
    tab_to(page, "#two-way-calendar")
    press(page, "ArrowDown", "in the calendar dropdown")
    expect(calendar).not_to_have_value("alex@example.com")
    press(page, "ArrowUp", "in the calendar dropdown")
    expect(calendar).to_have_value("alex@example.com")
    expect(page.locator("#two-way-new-calendar-name")).to_be_hidden()

    # Push Existing Data, Google slowed a little so the progress is on screen before the job ends.
    tab_to(page, "#two-way-push")
    google.set_latency(0, batch_inner_ms=150)
    try:
        page.keyboard.press("Enter")
        page.wait_for_url("**/integrations/")
        expect(page.locator(".alert-info")).to_contain_text("Synchronization started")
        expect(page.locator("#sync-progress, #sync-finished")).to_be_visible()
        bar = page.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-labelledby", "sync-progress-text")
        expect(page.locator("#sync-finished[data-status=succeeded]")).to_be_visible(timeout=WAIT)
    finally:
        google.set_latency(0, batch_inner_ms=0)
    message = "Synchronization complete: 8 created, 0 updated."
    expect(page.locator("#sync-progress-text")).to_have_text(message)
    expect(bar).to_have_accessible_name(message)
    announce = page.locator("#sync-announce")
    expect(announce).to_have_attribute("role", "status")
    expect(announce).to_have_text(message)  # what a screen reader last heard: the run's ending
    expect(page.locator("#two-way-sync-now")).to_be_visible()  # the actions that waited are back
    assert len(live_events(google, "alex@example.com")) == len(items)
    assert_everything_reachable(page, "Integrations, after the push")
    axe_clean(page, "the active card")
    page.goto("/integrations/?change=two-way")  # Change calendar: the same form on the active card
    expect(page.locator("#two-way-change-calendar")).to_be_visible()
    axe_clean(page, "changing the calendar")
    page.goto("/integrations/")

    # Delete: focus goes into the dialog and stays there; Escape closes it and gives focus back to Delete.
    dialog = "#delete-dialog-two-way"
    tab_to(page, "#delete-two-way")
    page.keyboard.press("Enter")
    expect(page.locator(dialog)).to_be_visible()
    expect(page.locator(dialog)).to_have_attribute("aria-modal", "true")
    expect_focus_inside(page, dialog, "the Delete dialog opened")
    # Where a ring shows (not the dialog box itself): on its least destructive control (integrations.js).
    assert_focus_visible(page, "the Delete dialog just opened")
    expect(page.locator("#cancel-delete-two-way")).to_be_focused()
    assert_focus_trapped(page, dialog)
    axe_clean(page, "the Delete dialog")
    tab_to(page, f"{dialog} input[name=events]")  # Tab stops once in the radio group, on the checked choice
    expect(page.locator("#delete-two-way-keep")).to_be_focused()
    expect(page.locator("#delete-two-way-keep")).to_be_checked()  # keeping the events is the default
    press(page, "ArrowDown", "in the Delete dialog's choice")
    expect(page.locator("#delete-two-way-remove")).to_be_focused()
    expect(page.locator("#delete-two-way-remove")).to_be_checked()
    close_with_escape_and_expect_focus_back(page, dialog, "#delete-two-way")
    assert connection_of(client) is not None  # Escape deleted nothing

    # Again, and this time Delete, removing the events from Google.
    page.keyboard.press("Enter")
    expect_focus_inside(page, dialog, "the Delete dialog opened again")
    assert_focus_visible(page, "the Delete dialog opened again")
    expect(page.locator("#cancel-delete-two-way")).to_be_focused()
    tab_to(page, f"{dialog} input[name=events]")
    # Bootstrap does not reset the form on Escape, so the choice is still there; should it not be, choose it again.
    if not focus_matches(page, "#delete-two-way-remove"):
        press(page, "ArrowDown", "in the Delete dialog's choice")
    press(page, "Space", "on Remove them from Google Calendar")
    expect(page.locator("#delete-two-way-remove")).to_be_checked()
    tab_to(page, "#confirm-delete-two-way")
    page.keyboard.press("Enter")
    page.wait_for_url("**/integrations/")
    expect(page.locator(".alert-info")).to_contain_text("Removing your portal events from Google")

    # The page reloads once the removal has finished: the card offers Sign in with Google again, by keyboard.
    sign_in = page.locator("#two-way-sign-in")
    expect(sign_in).to_have_text("Sign in with Google", timeout=WAIT)
    expect(sign_in).to_be_enabled()
    tab_to(page, "#two-way-sign-in")
    assert connection_of(client) is None
    assert live_events(google, "alex@example.com") == []


def test_the_menu_shows_where_focus_is_when_it_opens(page, users):
    page.goto("/login")
    type_into(page, "#email", users[Role.CLIENT].email)
    type_into(page, "#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")
    tab_to(page, "#menu-button")
    page.keyboard.press("Enter")
    expect_focus_inside(page, "#flyout", "the menu opened")
    assert_focus_visible(page, "the menu just opened")
