"""The pages before sign-in, and the last ones (errors, maintenance), wear the brand of the host's company; the
shared portal address stays neutral and keeps the company-code field for companies without a host."""
from __future__ import annotations

from app.commands import ring_logo_png
from app.extensions import db


def own_host(company, colour: str = "#7c3aed") -> str:
    company.portal_url, company.brand_color = "http://globex.test", colour
    company.logo, company.logo_mimetype = ring_logo_png(colour), "image/png"
    db.session.commit()
    return "http://globex.test"


def test_the_shared_portal_is_neutral_and_asks_for_the_company_code(client, company):
    page = client.get("/login").get_data(as_text=True)
    assert "Client Portal" in page and 'name="company"' in page and company[0].name not in page


def test_a_companys_host_wears_its_brand_before_anyone_signs_in(client, other_company):
    base = own_host(other_company[0])
    page = client.get("/login", base_url=base).get_data(as_text=True)
    assert f"Sign in to {other_company[0].name}" in page and 'name="company"' not in page
    assert 'data-brand="#7c3aed"' in page and 'data-brand-text="#ffffff"' in page and "/brand/logo" in page
    assert f"<title>Sign in · {other_company[0].name}</title>" in page
    assert client.get("/password/forgot", base_url=base).get_data(as_text=True).count(other_company[0].name) >= 2


def test_maintenance_is_the_companys_own_page(app, client, other_company):
    base = own_host(other_company[0])
    app.config["MAINTENANCE_MODE"] = True
    answer = client.get("/login", base_url=base)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "300"
    page = answer.get_data(as_text=True)
    assert "The portal is being updated" in page and other_company[0].name in page
    assert client.get("/brand/logo", base_url=base).status_code == 200  # the page's own picture still loads
