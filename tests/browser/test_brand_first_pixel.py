"""In Chromium, each company's own host is its portal from the first pixel (issue 23): two companies on their
own host names, one broker. Before anyone signs in, the sign-in page wears the company's name, logo and colours
and asks for no company code; so do a wrong password, a 404 and the throttled sign-in page. The broker's page
after Back (a spent OAuth state) is styled from the broker's own host, names no tenant but the one the state
names, and leads back to that company's own portal. Screenshots at 390 and 1280 px in test-output/."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.google import REQUIRED_SCOPES
from tests.browser.screens import check_widths
from tests.browser.test_integrations_story import consent_on_google
from tests.browser.test_white_label_domains import app_config, tenant_page, tenants  # noqa: F401  (fixtures)
from tests.conftest import browser_login

WRONG = "not the password"


def expect_company_brand(page, company) -> None:
    expect(page.locator("#company-name")).to_have_text(company.name)
    expect(page.locator("img.portal-logo")).to_be_visible()
    colours = page.evaluate("""() => { const style = getComputedStyle(document.documentElement);
        return [style.getPropertyValue('--brand').trim(), style.getPropertyValue('--brand-text').trim()]; }""")
    assert colours[0] == company.brand_color and colours[1] in ("#ffffff", "#111827"), colours
    assert company.name in page.title()
    expect(page.locator('link[rel="icon"]')).to_have_attribute("href", "/brand/logo")


@pytest.mark.parametrize("host", ["acme", "globex"])
def test_the_sign_in_and_error_pages_wear_the_companys_brand(browser, live_server, tenants, host):  # noqa: F811
    company, user, _ = tenants[host]
    page = tenant_page(browser, company)
    page.goto("/login")
    expect_company_brand(page, company)
    expect(page.locator("#sign-in-title")).to_have_text(f"Sign in to {company.name}")
    expect(page.locator("#company")).to_have_count(0)  # the host says whose portal this is
    check_widths(page, f"{host}-sign-in")

    page.fill("#email", user.email)
    page.fill("#password", WRONG)
    page.click("#login-form button[type=submit]")
    expect(page.locator(".invalid-feedback")).to_contain_text("Wrong email or password.")
    expect_company_brand(page, company)

    answer = page.goto("/no-such-page")
    assert answer.status == 404
    expect(page.locator("#error-message")).to_be_visible()
    expect_company_brand(page, company)
    check_widths(page, f"{host}-404")

    for _ in range(6):  # past the per-account limit (5 a minute)
        page.goto("/login")
        page.fill("#email", user.email)
        page.fill("#password", WRONG)
        page.click("#login-form button[type=submit]")
    expect(page.locator("#error-message")).to_contain_text("Too many sign-in attempts")
    expect_company_brand(page, company)
    check_widths(page, f"{host}-throttled")
    page.context.close()


def test_the_brokers_page_after_back_is_styled_and_leads_back_to_the_right_company(
        browser, live_server, google, tenants, server_port):  # noqa: F811
    for host, (company, user, _) in tenants.items():
        page = tenant_page(browser, company)
        styles, callbacks = [], []
        page.on("response", lambda response, styles=styles: styles.append((response.url, response.status))
                if response.url.endswith(".css") else None)
        page.on("request", lambda request, found=callbacks: found.append(request.url)
                if "/broker/google/callback" in request.url else None)
        browser_login(page, user)
        page.goto("/integrations/")
        page.click("#two-way-sign-in")
        consent_on_google(page, "alex@example.com", tick=REQUIRED_SCOPES)
        assert urlsplit(page.url).netloc == f"{host}.localhost:{server_port}"
        answer = page.goto(callbacks[0])  # where Back leads: the broker's callback again, its state spent
        assert answer.status == 400 and urlsplit(page.url).netloc == f"broker.localhost:{server_port}"
        expect(page.locator("#error-message")).to_contain_text("already been completed")
        broker_styles = [(url, status) for url, status in styles if "broker.localhost" in url]
        assert broker_styles and all(status == 200 for _, status in broker_styles), broker_styles
        back = page.locator("#back-to-portal")
        expect(back).to_have_text(f"Back to {company.name}")
        expect(back).to_have_attribute("href", f"{company.portal_url}/integrations/")
        other = next(c for h, (c, _, _) in tenants.items() if h != host)
        assert other.name not in page.content()
        check_widths(page, f"broker-after-back-{host}")
        back.click()
        assert urlsplit(page.url).netloc == f"{host}.localhost:{server_port}"
        page.context.close()

    neutral = browser.new_page()
    neutral.goto(f"http://broker.localhost:{server_port}/broker/google/callback?state=forged")
    expect(neutral.locator("#no-way-back")).to_be_visible()
    for company, _, _ in tenants.values():
        assert company.name not in neutral.content()
    neutral.close()
