"""A company's own OAuth client (optional): chosen at sign-in and at every token refresh; secret encrypted."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.crypto import encrypt
from app.extensions import db
from app.google import client_for
from app.models import CalendarConnection, Role, utcnow
from tests.google_flow import path_of, start_and_consent

OWN_ID, OWN_SECRET, OWN_NAME = "acme-own-client", "acme-own-secret", "Acme Connect"


def signed_in(client, user, client_name: str) -> CalendarConnection:
    callback = client.get(path_of(start_and_consent(client, client_name=client_name)))
    assert client.get(path_of(callback.headers["Location"])).status_code == 302
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def test_a_company_with_its_own_client_signs_in_and_refreshes_through_it(app, google, company, users, login_as,
                                                                        other_company):
    google.register_client(OWN_ID, OWN_SECRET, [app.config["GOOGLE_REDIRECT_URI"]], name=OWN_NAME)
    result = app.test_cli_runner().invoke(args=["set-google-client", company[0].slug, "--client-id", OWN_ID,
                                                "--client-secret", OWN_SECRET])
    assert result.exit_code == 0, result.output
    db.session.refresh(company[0])
    assert company[0].google_client_id == OWN_ID and OWN_SECRET not in company[0].google_client_secret_enc

    user = users[Role.CLIENT]
    connection = signed_in(login_as(user), user, client_name=OWN_NAME)  # Google shows the company's own name
    assert connection.google_email == "alex@example.com"
    connection.access_token_enc, connection.token_expires_at = encrypt("expired"), utcnow() - timedelta(hours=1)
    db.session.commit()
    assert client_for(connection).calendars()  # refreshed with the company's own client

    other = other_company[1][Role.CLIENT]
    assert signed_in(login_as(other), other, client_name="My Portal App")  # everyone else: the shared one


def test_set_google_client_back_to_the_shared_one(app, company):
    company[0].google_client_id, company[0].google_client_secret_enc = OWN_ID, encrypt(OWN_SECRET)
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["set-google-client", company[0].slug, "--shared"]).exit_code == 0
    db.session.refresh(company[0])
    assert company[0].google_client_id is None and company[0].google_client_secret_enc is None
    assert runner.invoke(args=["set-google-client", "no-such-company", "--shared"]).exit_code != 0
    assert runner.invoke(args=["set-google-client", company[0].slug]).exit_code != 0  # neither given
