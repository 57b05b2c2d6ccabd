"""The company profile drives the white-label header; bad input gets a clear message, never a 500."""
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
    "gif": (b"GIF89a" + b"\x00" * 64, "image/gif"),
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
    assert "Company profile saved." in html
    assert '<span class="navbar-brand mb-0 h1" id="company-name">Acme Advisors</span>' in html
    assert 'data-brand="#aa3300"' in html
    logo = admin.get(f"/company/{company[0].id}/logo")
    assert logo.data == PNG and logo.mimetype == "image/png"

    [row] = audit_rows("settings.profile")
    assert row.actor_id == users[Role.ADMIN].id and row.company_id == company[0].id
    assert row.before == {"name": "Acme", "brand_color": "#2563eb", "logo": None}
    assert row.after == {"name": "Acme Advisors", "brand_color": "#aa3300", "logo": f"image/png, {len(PNG)} bytes"}
    assert "Company profile changed" in html and "Acme Advisors" in html


@pytest.mark.parametrize("kind", IMAGES)
def test_each_supported_image_type_is_accepted_by_its_content(company, admin, kind):
    data, mimetype = IMAGES[kind]
    # The name says nothing true: the type comes from the bytes.
    assert post_profile(admin, logo=(io.BytesIO(data), "upload.bin")).status_code == 302
    assert company[0].logo_mimetype == mimetype


def test_a_non_image_named_png_is_refused_with_a_message(company, admin):
    response = post_profile(admin, logo=(io.BytesIO(b"<svg onload=alert(1)></svg>"), "logo.png"))
    assert response.status_code == 400
    assert "The logo must be a PNG, JPEG, GIF or WebP image." in response.get_data(as_text=True)
    assert company[0].logo is None and company[0].name == "Acme"
    assert audit_rows("settings.profile") == []


def test_an_oversize_logo_is_refused_with_a_message(company, admin):
    response = post_profile(admin, logo=(io.BytesIO(PNG + b"\x00" * 512 * 1024), "big.png"))
    assert response.status_code == 400
    assert "The logo is too large: the limit is 512 KB." in response.get_data(as_text=True)
    assert company[0].logo is None


def test_an_upload_beyond_the_request_limit_gets_413_with_a_message(company, admin):
    response = post_profile(admin, logo=(io.BytesIO(PNG + b"\x00" * 3 * 1024 * 1024), "huge.png"))
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#gggggg", "", "javascript:alert(1)"])
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
