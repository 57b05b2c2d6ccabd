"""A Google grant is shared: one per OAuth client and Google account, whoever in whichever company connected it.
Revoking any of its tokens revokes it for all (Google's rule, and the emulator's), so a person leaving never
revokes a grant another connection still holds; the last one to leave does."""
from __future__ import annotations

import sqlalchemy as sa

from app.crypto import decrypt
from app.extensions import db
from app.models import CalendarConnection, ConnectionStatus, Role
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from tests.sync.conftest import CALENDAR, live_events
from tests.sync.test_grants_and_channels import refresh_works
from testsupport.factories import make_items


def connected(person, login_as, app, email: str = CALENDAR):
    client = login_as(person)
    sign_in_with_google(client, email=email)
    post_form(client, "/integrations/two-way/push", {"calendar_id": email}, page="/integrations/")
    run_jobs(app)
    return client, db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == person.id))


def still_syncs(person, google, app) -> bool:
    """The person's portal edit reaches their Google calendar, and their card is not asking to reconnect."""
    (task,) = make_items(person, tasks=1)
    task.title = f"Edited by {person.email} after the other left"
    db.session.commit()
    run_jobs(app)
    connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == person.id))
    return (task.title in {e["summary"] for e in live_events(google)}
            and connection.status is ConnectionStatus.ACTIVE and connection.problem is None)


def test_one_companys_delete_keeps_another_companys_sync_on_the_same_google_account(
        google, users, other_company, login_as, app):
    acme_person, globex_person = users[Role.CLIENT], other_company[1][Role.CLIENT]
    acme, _ = connected(acme_person, login_as, app)
    globex, globex_connection = connected(globex_person, login_as, app)
    post_form(acme, "/integrations/two-way/delete", {"events": "keep"}, page="/integrations/")
    assert still_syncs(globex_person, google, app)
    last_token = decrypt(globex_connection.refresh_token_enc)
    assert refresh_works(google, app, last_token)
    post_form(globex, "/integrations/two-way/delete", {"events": "keep"}, page="/integrations/")
    assert not refresh_works(google, app, last_token)  # the last one to leave revokes the grant


def test_signing_in_with_another_account_keeps_the_first_accounts_grant_for_others(
        google, users, other_company, login_as, app):
    acme_person, globex_person = users[Role.CLIENT], other_company[1][Role.CLIENT]
    acme, _ = connected(acme_person, login_as, app)
    connected(globex_person, login_as, app)
    sign_in_with_google(acme, email="sam@example.com")  # Acme's person switches account
    assert still_syncs(globex_person, google, app)
