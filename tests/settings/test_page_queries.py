"""Settings and every page's header stay cheap: no query per audit author, no logo bytes per page."""
from __future__ import annotations

import io
import re

from app.audit import record
from app.extensions import db
from app.models import Role, User
from tests.conftest import counted_statements
from tests.settings.test_profile import PNG, post_profile
from testsupport.factories import password_hash


def test_the_audit_list_loads_its_authors_with_the_rows(company, users, admin):
    acme = company[0]
    for n in range(6):
        author = User(company=acme, email=f"admin{n}@acme.test", name=f"Admin {n}", role=Role.ADMIN,
                      timezone="Europe/London", password_hash=password_hash())
        db.session.add(author)
        db.session.flush()
        record(author, "settings.profile", target=f"company:{acme.id}", before={"name": "A"}, after={"name": "B"})
    db.session.commit()
    with counted_statements() as statements:
        html = admin.get("/settings/").get_data(as_text=True)
    assert all(f"Admin {n}" in html for n in range(6))
    assert len(statements) <= 8, statements


def test_page_headers_do_not_read_the_logo_bytes(company, admin):
    assert post_profile(admin, logo=(io.BytesIO(PNG), "logo.png")).status_code == 302
    with counted_statements() as statements:
        html = admin.get("/dashboard").get_data(as_text=True)
    assert "/brand/logo" in html
    assert not [s for s in statements if re.search(r"company\.logo\b(?!_)", s)], statements
