"""Company Settings → Branding drives every page of the company's portal; bad input gets a clear message,
never a 500, and changes nothing."""
from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.models import AuditLog, Role
from tests.conftest import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
IMAGES = {
    "png": (PNG, "image/png"),
    "jpeg": (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg"),
    "webp": (b"RIFF\x40\x00\x00\x00WEBPVP8 " + b"\x00" * 64, "image/webp"),
}


def post_profile(client, token=True, **fields):
    data = {"name": "Acme Advisors", "brand_color": "#aa3300", **fields}
    if token:
        data["csrf_token"] = csrf_token(client, "/settings/")
    return client.post("/settings/profile", data=data, content_type="multipart/form-data")


def audit_rows(action: str) -> list[AuditLog]:
    return list(db.session.scalars(db.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_saving_the_profile_rebrands_the_header_and_is_audited(company, users, admin):
    response = post_profile(admin, logo=(io.BytesIO(PNG), "logo.png"))
    assert response.status_code == 302
    html = admin.get("/settings/").get_data(as_text=True)
    assert "Branding saved." in html
    assert '<span class="navbar-brand mb-0 h1" id="company-name">Acme Advisors</span>' in html
    assert 'data-brand="#aa3300"' in html
    logo = admin.get("/brand/logo")
    assert logo.data == PNG and logo.mimetype == "image/png"

    [row] = audit_rows("settings.profile")
    assert row.actor_id == users[Role.ADMIN].id and row.company_id == company[0].id
    assert row.before == {"name": "Acme", "brand_color": "#2563eb", "logo": None}
    assert row.after == {"name": "Acme Advisors", "brand_color": "#aa3300", "logo": f"image/png, {len(PNG)} bytes"}
    assert 'data-brand-text="#ffffff"' in html  # white reads best on that colour
    assert "Company profile changed" in html and "Acme Advisors" in html


@pytest.mark.parametrize("kind", IMAGES)
def test_each_supported_image_type_is_accepted_by_its_content(company, admin, kind):
    data, mimetype = IMAGES[kind]
    # The name says nothing true: the type comes from the bytes.
    assert post_profile(admin, logo=(io.BytesIO(data), "upload.bin")).status_code == 302
    assert company[0].logo_mimetype == mimetype


@pytest.mark.parametrize("upload", [b"<svg onload=alert(1)></svg>", b'<?xml version="1.0"?><svg><script>x()</script>',
                                    b"GIF89a" + b"\x00" * 64])
def test_an_svg_or_other_format_named_png_is_refused_with_a_message(company, admin, upload):
    response = post_profile(admin, logo=(io.BytesIO(upload), "logo.png"))
    assert response.status_code == 400
    assert "The logo must be a PNG, JPEG or WebP image" in response.get_data(as_text=True)
    assert company[0].logo is None and company[0].name == "Acme"
    assert audit_rows("settings.profile") == []


def test_an_oversize_logo_is_refused_with_a_message(company, admin):
    response = post_profile(admin, logo=(io.BytesIO(PNG + b"\x00" * 512 * 1024), "big.png"))
    assert response.status_code == 400
    assert "The logo is too large: the limit is 512 KB." in response.get_data(as_text=True)
    assert company[0].logo is None


def test_a_20_megabyte_logo_gets_413_with_a_message_and_changes_nothing(company, admin):
    response = post_profile(admin, logo=(io.BytesIO(PNG + b"\x00" * 20 * 1024 * 1024), "huge.png"))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "File too large" in html and "the limit is 2 MB. Nothing was changed." in html
    assert company[0].logo is None and company[0].name == "Acme"


@pytest.mark.parametrize("colour", ["red", "red;}", "#12345", "#1234567", "#gggggg", "", "javascript:alert(1)"])
def test_an_invalid_brand_colour_is_refused_with_a_message(company, admin, colour):
    response = post_profile(admin, brand_color=colour)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The brand colour must look like #1a2b3c." in html or "Please choose a brand colour." in html
    assert company[0].brand_color == "#2563eb"


@pytest.mark.parametrize("name, message", [("", "Please enter the company name."),
                                           ("x" * 121, "Field cannot be longer than 120 characters.")])
def test_an_invalid_name_is_refused_with_a_message(company, admin, name, message):
    response = post_profile(admin, name=name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_profile_post_without_csrf_token_is_refused(company, admin):
    response = post_profile(admin, token=False, name="No token")
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert company[0].name == "Acme"


def test_removing_the_logo_is_audited(company, admin):
    post_profile(admin, logo=(io.BytesIO(PNG), "logo.png"))
    assert post_profile(admin, remove_logo="y").status_code == 302
    assert company[0].logo is None
    row = audit_rows("settings.profile")[-1]
    assert row.before == {"logo": f"image/png, {len(PNG)} bytes"} and row.after == {"logo": None}


def test_saving_an_unchanged_profile_writes_no_audit_row(company, admin):
    response = post_profile(admin, name="Acme", brand_color="#2563eb")
    assert response.status_code == 302
    assert "Nothing to save" in admin.get("/settings/").get_data(as_text=True)
    assert audit_rows("settings.profile") == []


@pytest.mark.parametrize("colour, words", [
    ("#ffff99", "too light to show on the page's light background"),  # pale yellow: black text reads, the page not
    ("#f6f7fb", "too light to show on the page's light background"),  # the page's own background
])
def test_a_colour_that_cannot_be_made_readable_is_refused_in_words(company, admin, colour, words):
    response = post_profile(admin, brand_color=colour)
    assert response.status_code == 400 and words in response.get_data(as_text=True).replace("&#39;", "'")
    assert company[0].brand_color == "#2563eb"


@pytest.mark.parametrize("colour, text", [("#0f766e", "#ffffff"), ("#facc15", None), ("#7c3aed", "#ffffff"),
                                          ("#b45309", "#ffffff")])
def test_the_text_on_the_brand_colour_is_whichever_reads_better(colour, text):
    from app.branding import DARK_TEXT, TEXT_CONTRAST, colour_problem, contrast, text_colour_on

    chosen = text_colour_on(colour)
    assert contrast(colour, chosen) >= TEXT_CONTRAST
    assert chosen == (text or DARK_TEXT)
    if colour != "#facc15":  # bright yellow: dark text reads on it, but it hardly shows on the page
        assert colour_problem(colour) is None


@pytest.mark.parametrize("address, words", [
    ("https://portal.acme.example/login", "only the address's scheme and host"),
    ("https://portal.acme.example/?x=1", "only the address's scheme and host"),
    ("https://me@portal.acme.example", "only the address's scheme and host"),
    ("ftp://portal.acme.example", "Enter a full address"),
    ("localhost", "Enter a full address"),
    ("https://taken.example", "Another company already uses that address."),
])
def test_a_bad_portal_address_is_refused_and_changes_nothing(company, other_company, admin, address, words):
    other_company[0].portal_url = "https://taken.example"
    db.session.commit()
    response = post_profile(admin, portal_url=address)
    assert response.status_code == 400 and words in response.get_data(as_text=True).replace("&#39;", "'")
    assert company[0].portal_url is None and company[0].name == "Acme"


def test_a_portal_address_is_kept_as_scheme_and_host_and_audited(company, admin):
    assert post_profile(admin, portal_url="HTTPS://Portal.Acme.Example/").status_code == 302
    assert company[0].portal_url == "https://portal.acme.example"
    assert audit_rows("settings.profile")[-1].after["portal_url"] == "https://portal.acme.example"


def test_production_wants_an_https_portal_address(app, company, admin):
    app.config["REQUIRE_HTTPS_PORTALS"] = True
    response = post_profile(admin, portal_url="http://portal.acme.example")
    assert response.status_code == 400 and "must start with https://" in response.get_data(as_text=True)
    assert company[0].portal_url is None


def test_the_platforms_own_addresses_cannot_be_a_companys(app, company, admin):
    for key in ("PORTAL_BASE_URL", "GOOGLE_REDIRECT_URI"):
        response = post_profile(admin, portal_url=app.config[key].split("/broker")[0])
        assert response.status_code == 400 and "the platform's own" in response.get_data(as_text=True).replace(
            "&#39;", "'")
    assert company[0].portal_url is None
