"""Forgot your password? A link by mail, in the company's brand, to the company's own portal: an hour long,
used once, ending every session. The page tells nobody which addresses have an account."""
from __future__ import annotations

import re

from app.commands import ring_logo_png
from app.extensions import db
from app.models import Role
from tests.conftest import csrf_token, login, run_jobs
from testsupport.factories import PASSWORD


def ask_for_a_link(client, email: str, host: str = "localhost"):
    base = f"http://{host}"
    html = client.get("/password/forgot", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return client.post("/password/forgot", base_url=base, data={"email": email, "csrf_token": token},
                       follow_redirects=True)


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"(https?://\S+/password/reset/\S+)", text).group(1)


def test_a_reset_link_arrives_in_the_companys_brand_and_works_once(app, company, users, mailbox):
    acme, person = company[0], users[Role.CLIENT]
    acme.portal_url, acme.brand_color = "http://acme.test", "#0f766e"
    acme.logo, acme.logo_mimetype = ring_logo_png("#0f766e"), "image/png"
    db.session.commit()
    client = app.test_client()
    page = ask_for_a_link(client, person.email, "acme.test").get_data(as_text=True)
    assert "we have sent it a link" in page and "Company code" not in page  # the host names the company
    run_jobs(app)
    [message] = mailbox.take()
    assert message["To"] == person.email and "Acme" in message["From"] and acme.name in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "#0f766e" in html and 'src="cid:logo"' in html and "Client Portal" not in html
    link = link_in(message)
    assert link.startswith("http://acme.test/password/reset/")  # the company's own host in the link

    path = link.removeprefix("http://acme.test")
    form = client.get(path, base_url="http://acme.test")
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', form.get_data(as_text=True)).group(1)
    done = client.post(path, base_url="http://acme.test", data={"csrf_token": token, "new_password": "a new secret!",
                                                                 "confirm": "a new secret!"})
    assert done.status_code == 302
    db.session.refresh(person)
    assert person.check_password("a new secret!")
    again = client.get(path, base_url="http://acme.test")
    assert again.status_code == 400 and "used already" in again.get_data(as_text=True)  # once only


def test_nobody_learns_which_addresses_have_an_account(app, users, mailbox):
    client = app.test_client()
    known = ask_for_a_link(client, users[Role.STAFF].email).get_data(as_text=True)
    unknown = ask_for_a_link(client, "nobody@nowhere.test").get_data(as_text=True)
    sentence = "If an account here uses that address, we have sent it a link"
    assert sentence in known and sentence in unknown
    run_jobs(app)
    assert [m["To"] for m in mailbox.take()] == [users[Role.STAFF].email]


def test_a_new_password_ends_every_session(app, users, login_as, mailbox):
    person = users[Role.CLIENT]
    signed_in = login_as(person)
    ask_for_a_link(app.test_client(), person.email)
    run_jobs(app)
    path = re.sub(r"^https?://[^/]+", "", link_in(mailbox.take()[0]))
    client = app.test_client()
    token = csrf_token(client, path)
    assert client.post(path, data={"csrf_token": token, "new_password": "x" * 12, "confirm": "x" * 12}).status_code \
        == 302
    assert signed_in.get("/dashboard").status_code == 302  # the old session is over
    login(app.test_client(), person, "x" * 12)


def test_a_forged_or_foreign_link_is_refused_in_words(app, company, users, mailbox):
    assert app.test_client().get("/password/reset/not-a-token").status_code == 400
    company[0].portal_url = "http://acme.test"
    db.session.commit()
    ask_for_a_link(app.test_client(), users[Role.CLIENT].email, "acme.test")
    run_jobs(app)
    path = re.sub(r"^https?://[^/]+", "", link_in(mailbox.take()[0]))
    elsewhere = app.test_client().get(path, base_url="http://globex.test")  # not the company's portal
    assert elsewhere.status_code == 400 and "invalid" in elsewhere.get_data(as_text=True)
    assert users[Role.CLIENT].check_password(PASSWORD)
