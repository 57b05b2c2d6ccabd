"""In Chromium, white label across domains (issue 14): two companies on their own host names share one broker.

Acme on acme.localhost and Globex on globex.localhost (Chromium resolves *.localhost to this machine), each
with its own logo and colour; the broker answers on broker.localhost, the ONE redirect URI registered with
Google. Each tenant's client signs in with Google, ticks the three boxes, picks a calendar and pushes
existing data, landing back on their own domain under their own brand; Google never learns who the tenant
is; a replayed callback or handoff and a handoff carried to the other tenant are refused in plain words.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.commands import ring_logo_png
from app.extensions import db
from app.google import REQUIRED_SCOPES
from app.models import Role
from tests.browser.test_integrations_story import WAIT, connection_of, consent_on_google, live_events
from tests.conftest import browser_login
from testsupport.factories import make_company, make_items

BRANDS = {"acme": ("Acme Advisory", "#0f766e"), "globex": ("Globex Partners", "#7c3aed")}


@pytest.fixture
def app_config(app_config, server_port):
    """The live server answers as every host; the broker's host is the registered redirect URI's."""
    return {**app_config, "GOOGLE_REDIRECT_URI": f"http://broker.localhost:{server_port}/broker/google/callback"}


@pytest.fixture
def tenants(app, server_port):
    """{host: (company, its client user, the titles of that user's items)}, each company on its own host."""
    found = {}
    for host, (name, colour) in BRANDS.items():
        company, users = make_company(name)
        company.portal_url = f"http://{host}.localhost:{server_port}"
        company.brand_color = colour
        company.logo, company.logo_mimetype = ring_logo_png(colour), "image/png"
        db.session.commit()
        items = make_items(users[Role.CLIENT], tasks=2, events=1, appointments=1)
        found[host] = (company, users[Role.CLIENT], sorted(item.title for item in items))
    return found


def tenant_page(browser, company):
    context = browser.new_context(base_url=company.portal_url)
    context.set_default_timeout(20_000)
    return context.new_page()


def expect_brand(page, company) -> None:
    expect(page.locator("#company-name")).to_have_text(company.name)
    expect(page.locator("img.portal-logo")).to_be_visible()
    colour = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()")
    assert colour == company.brand_color


def test_two_tenants_on_their_own_domains_share_one_broker(browser, live_server, google, worker_process, tenants,
                                                         server_port):
    google_base = google.base_url
    seen_by_google: list[str] = []  # every URL and Referer the browsers sent to Google
    handoffs, callbacks = {}, {}
    accounts = ("alex@example.com", "sam@example.com")
    for (host, (company, user, titles)), email in zip(tenants.items(), accounts, strict=True):
        page = tenant_page(browser, company)

        def watch(request, host=host):
            if request.url.startswith(google_base):
                seen_by_google.extend([request.url, request.headers.get("referer", "")])
            elif "/broker/google/callback" in request.url:
                callbacks[host] = request.url
            elif "/integrations/google/handoff" in request.url:
                handoffs[host] = request.url

        page.on("request", watch)
        browser_login(page, user)
        expect_brand(page, company)
        page.goto("/integrations/")
        page.click("#two-way-sign-in")
        consent_on_google(page, email, tick=REQUIRED_SCOPES)

        # Back on its own domain, under its own brand, signed in: choose the calendar and push.
        assert urlsplit(page.url).netloc == f"{host}.localhost:{server_port}"
        expect_brand(page, company)
        expect(page.locator("#two-way-email")).to_have_text(email)
        expect(page.locator("#two-way-calendar")).to_have_value(email)
        page.click("#two-way-push")
        expect(page.locator("#sync-finished[data-status=succeeded]")).to_be_visible(timeout=WAIT)
        assert urlsplit(page.url).netloc == f"{host}.localhost:{server_port}"
        assert sorted(e["summary"] for e in live_events(google, email)) == titles
        assert connection_of(user).google_email == email
        assert urlsplit(callbacks[host]).netloc == f"broker.localhost:{server_port}"

        # Replays are refused in plain words: Google's answer to the broker, then the handoff to the portal.
        for replay, words in ((callbacks[host], "already been completed"), (handoffs[host], "already been completed")):
            answer = page.goto(replay)
            assert answer.status == 400
            expect(page.locator("#error-message")).to_contain_text(words)
        page.context.close()

    # Globex's client carries Acme's handoff to the Globex domain: refused, Acme's grant untouched.
    globex, globex_client, _ = tenants["globex"]
    page = tenant_page(browser, globex)
    browser_login(page, globex_client)
    answer = page.goto(globex.portal_url + urlsplit(handoffs["acme"]).path + "?" + urlsplit(handoffs["acme"]).query)
    assert answer.status == 400
    expect(page.locator("#error-message")).to_contain_text("started by someone else")
    assert connection_of(tenants["acme"][1]).google_email == "alex@example.com"
    page.context.close()

    # Google saw the one redirect URI and "My Portal App", never a tenant's name, code or domain.
    assert seen_by_google
    leaks = [text for text in seen_by_google for company, _, _ in tenants.values()
             for secret in (company.name, company.slug, urlsplit(company.portal_url).hostname)
             if secret.lower() in text.lower()]
    assert not leaks, leaks
