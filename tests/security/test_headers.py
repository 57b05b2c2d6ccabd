"""Security headers on every page, whatever its status; HSTS only where production guarantees HTTPS."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app import create_app
from app.extensions import db
from app.models import Role
from config import ProductionConfig
from tests.security.conftest import build, rules

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_secure(response, url: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{url}: {name}"
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";"))
    assert directives.get("default-src") == "'self'", url
    assert directives.get("frame-ancestors") == "'none'", url
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    assert "script-src" not in directives and "style-src" not in directives, f"{url}: falls back to 'self'"


def test_every_get_route_carries_the_security_headers(app, users, login_as, client):
    admin = login_as(users[Role.ADMIN])
    for rule in rules(app, "GET"):
        url = build(app, rule)
        for who in (admin, client):
            response = who.get(url)
            assert response.status_code < 500, url
            assert_secure(response, url)
    assert "Strict-Transport-Security" not in client.get("/login").headers  # development and tests: plain HTTP


def test_errors_and_static_files_carry_them_too(client):
    for url in ("/no-such-page", "/static/portal.js", "/login?x=%00"):
        assert_secure(client.get(url), url)


@pytest.fixture
def production_app(app_config, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-real-production-secret")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "real-client-secret")
    production = create_app(ProductionConfig, **app_config)
    with production.app_context():
        db.create_all()
        yield production
        db.session.remove()  # its requests ran in this context: end their transaction, or drop_all waits on it
        db.drop_all()


def test_production_adds_hsts(production_app):
    response = production_app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert_secure(response, "/login")
