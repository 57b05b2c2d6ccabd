"""The host a request arrives on selects whose portal it is: people sign in on their own company's host."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.commands import DEMO_PASSWORD
from app.extensions import db
from app.models import Company, Role, Task, User
from testsupport.factories import PASSWORD


def sign_in_on(app, host: str, user, password: str = PASSWORD) -> int:
    client, base_url = app.test_client(), f"http://{host}"
    html = client.get("/login", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return client.post("/login", base_url=base_url,
                       data={"email": user.email, "password": password, "csrf_token": token}).status_code


@pytest.fixture
def acme_on_its_own_host(company):
    company[0].portal_url = "http://acme.test:5000"
    db.session.commit()
    return company[1][Role.CLIENT]


def test_a_company_host_serves_that_company_alone(app, acme_on_its_own_host, other_company):
    assert sign_in_on(app, "acme.test:5000", acme_on_its_own_host) == 302
    assert sign_in_on(app, "ACME.test:5000", acme_on_its_own_host) == 302  # host names ignore case
    assert sign_in_on(app, "acme.test:5000", other_company[1][Role.CLIENT]) == 400


def test_people_of_a_company_with_its_own_host_sign_in_only_there(app, acme_on_its_own_host, other_company):
    assert sign_in_on(app, "localhost", acme_on_its_own_host) == 400
    assert sign_in_on(app, "globex.test:5000", acme_on_its_own_host) == 400
    assert sign_in_on(app, "localhost", other_company[1][Role.CLIENT]) == 302  # no host of its own: shared


def test_the_demo_seeds_two_branded_companies_on_their_own_hosts(app):
    runner = app.test_cli_runner()
    for _ in range(2):  # safe to run again: nothing doubles
        result = runner.invoke(args=["seed-demo", "--port", "5000"])
        assert result.exit_code == 0, result.output
    assert "http://acme.localhost:5000" in result.output and "admin@globex.test" in result.output
    acme, globex = db.session.scalars(sa.select(Company).order_by(Company.id)).all()
    assert (acme.slug, acme.portal_url, globex.portal_url) == (
        "demo", "http://acme.localhost:5000", "http://globex.localhost:5000")
    assert acme.brand_color != globex.brand_color and acme.logo != globex.logo
    assert all(c.logo.startswith(b"\x89PNG") and c.logo_mimetype == "image/png" for c in (acme, globex))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 10
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task).where(Task.company_id == globex.id)) == 10

    def person(email: str) -> User:
        return db.session.scalar(sa.select(User).where(User.email == email))

    assert sign_in_on(app, "acme.localhost:5000", person("admin@demo.test"), DEMO_PASSWORD) == 302
    assert sign_in_on(app, "globex.localhost:5000", person("client@globex.test"), DEMO_PASSWORD) == 302
    assert sign_in_on(app, "globex.localhost:5000", person("admin@demo.test"), DEMO_PASSWORD) == 400
