"""Sessions live on the server and belong to the host (company portal) they were opened on."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import Role
from tests.conftest import login, post_form
from testsupport.factories import PASSWORD


def signed_in(client, host: str = "localhost") -> bool:
    return client.get("/dashboard", base_url=f"http://{host}").status_code == 200


def replay(app, cookie: str, host: str = "localhost"):
    """A new browser holding a copy of `cookie` (a stolen or kept session cookie) for `host`."""
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain=host)
    return thief


def test_signing_out_ends_the_session_on_the_server(app, users, login_as):
    client = login_as(users[Role.CLIENT])
    kept = client.get_cookie("session").value
    assert signed_in(replay(app, kept))  # the copy works while the session lives
    post_form(client, "/logout", {})
    assert not signed_in(client)
    assert not signed_in(replay(app, kept))  # replayed after sign-out: nobody


def test_a_session_of_one_companys_host_is_nobody_on_anothers(app, company, other_company):
    company[0].portal_url, other_company[0].portal_url = "http://acme.test", "http://globex.test"
    db.session.commit()
    client = app.test_client()
    html = client.get("/login", base_url="http://acme.test").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    client.post("/login", base_url="http://acme.test", data={
        "email": company[1][Role.CLIENT].email, "password": PASSWORD, "csrf_token": token})
    assert signed_in(client, "acme.test")
    cookie = client.get_cookie("session", domain="acme.test").value
    on_globex = replay(app, cookie, "globex.test")
    response = on_globex.get("/dashboard", base_url="http://globex.test")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert signed_in(replay(app, cookie, "acme.test"), "acme.test")


def test_sign_out_everywhere_ends_every_session_of_that_person_only(app, users, login_as):
    phone, laptop = login_as(users[Role.CLIENT]), login_as(users[Role.CLIENT])
    colleague = login_as(users[Role.STAFF])
    response = post_form(laptop, "/logout/everywhere", {}, page="/account/password")
    assert response.status_code == 302
    assert not signed_in(phone) and not signed_in(laptop)
    assert signed_in(colleague)


def test_a_new_password_signs_out_every_other_device(app, users, login_as):
    user = users[Role.CLIENT]
    phone, laptop = login_as(user), login_as(user)
    response = post_form(laptop, "/account/password", {"current_password": "not it", "new_password": "x" * 12,
                                                       "confirm": "x" * 12}, page="/account/password")
    assert response.status_code == 400 and "This is not your current password." in response.get_data(as_text=True)
    assert signed_in(phone)
    response = post_form(laptop, "/account/password", {"current_password": PASSWORD,
                                                       "new_password": "a brand new secret",
                                                       "confirm": "a brand new secret"}, page="/account/password")
    assert response.status_code == 302
    assert signed_in(laptop) and not signed_in(phone)
    db.session.refresh(user)
    assert user.check_password("a brand new secret")
    login(app.test_client(), user, "a brand new secret")
