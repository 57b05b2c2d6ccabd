"""The host a request arrives on selects whose portal it is: people sign in on their own company's host."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Role
from tests.conftest import PASSWORD


def sign_in_on(app, host: str, user) -> int:
    client, base_url = app.test_client(), f"http://{host}"
    html = client.get("/login", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return client.post("/login", base_url=base_url,
                       data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code


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
