"""People are told when their sync needs them (issue #24): one banner on every page with the one action that
fixes it, and ONE mail per incident in the company's brand, through a real SMTP server (aiosmtpd), sent by
the cron's job on a real RQ worker. Two companies share one Google account here, as they do in production."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.commands import ring_logo_png
from app.extensions import db
from app.models import CalendarConnection, Incident, MailProblem, MailState, Role, utcnow
from jobs.mail import message_id, send_digests, send_notices
from jobs.queueing import enqueue
from tests.conftest import csrf_token, post_form, run_jobs
from tests.google_flow import google_user_service, sign_in_with_google
from tests.integrations.test_shared_grants import connected
from tests.sync.conftest import pull


def mail_job(app, job=send_notices) -> None:
    """What the cron does every half minute (or daily, for the digest): the job, on a real worker."""
    enqueue(job)
    run_jobs(app)


def banner(client, path: str = "/dashboard") -> str | None:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'<div[^>]*id="sync-notice".*?</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip() if found else None


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def incidents_of(user) -> list[Incident]:
    return db.session.scalars(sa.select(Incident).where(Incident.user_id == user.id).order_by(Incident.id)).all()


def test_a_revoked_grant_tells_each_person_once_in_their_own_companys_brand(
        google, users, other_company, login_as, app, mailbox):
    acme_person, globex_person = users[Role.CLIENT], other_company[1][Role.CLIENT]
    acme_client, _ = connected(acme_person, login_as, app)
    globex_client, _ = connected(globex_person, login_as, app)  # the same Google account, another company
    assert banner(acme_client) is None and mailbox.take() == []

    google.revoke_user_tokens("alex@example.com")
    pull(app)
    acme, globex = acme_person.company, globex_person.company
    acme.portal_url, acme.brand_color = "http://acme.test", "#0f766e"
    acme.logo, acme.logo_mimetype = ring_logo_png("#0f766e"), "image/png"
    globex.portal_url = "http://globex.test"
    db.session.commit()
    mail_job(app)
    messages = {message["To"]: message for message in mailbox.take()}
    assert set(messages) == {acme_person.email, globex_person.email}  # one each, to each
    to_acme = messages[acme_person.email]
    assert acme.name in to_acme["From"] and "Client Portal" not in to_acme["From"] + html_of(to_acme)
    assert "#0f766e" in html_of(to_acme) and 'src="cid:logo"' in html_of(to_acme)
    assert "Google access was revoked" in text_of(to_acme) and "Reconnect: http://acme.test/integrations/" \
        in text_of(to_acme)
    assert "http://globex.test/integrations/" in text_of(messages[globex_person.email])
    assert "acme.test" not in text_of(messages[globex_person.email]) + html_of(messages[globex_person.email])
    acme.portal_url = globex.portal_url = None  # the test's browsers stay on the test host
    db.session.commit()

    pull(app)  # the sync keeps failing: no second incident, no second mail
    mail_job(app)
    assert mailbox.take() == [] and len(incidents_of(acme_person)) == 1
    assert banner(acme_client).startswith("Your Google Calendar sync has stopped: Google access was revoked")
    assert "Reconnect" in banner(acme_client, "/calendar/") and "Reconnect" in banner(globex_client)

    sign_in_with_google(acme_client)  # Reconnect
    run_jobs(app)
    assert banner(acme_client) is None and banner(globex_client) is not None  # each their own
    assert all(incident.resolved_at for incident in incidents_of(acme_person))
    mail_job(app)
    assert mailbox.take() == []


def test_an_admins_disconnect_tells_its_person_once_and_their_own_does_not(
        google, users, login_as, app, mailbox):
    person, admin = users[Role.CLIENT], login_as(users[Role.ADMIN])
    client, connection = connected(person, login_as, app)
    admin.post(f"/settings/connections/{connection.id}/disconnect",
               data={"csrf_token": csrf_token(admin, "/settings/connections")})
    mail_job(app)
    mail_job(app)
    [message] = mailbox.take()
    assert message["To"] == person.email and "An administrator disconnected" in text_of(message)
    assert "Reconnect" in banner(client, "/calendar/")

    sign_in_with_google(client)  # Reconnect: signed in again, the calendar still to choose
    assert banner(client) is None
    post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"}, page="/integrations/")
    run_jobs(app)
    post_form(client, "/integrations/two-way/delete", {"events": "keep"}, page="/integrations/")  # their own
    mail_job(app)
    assert mailbox.take() == [] and banner(client) is None


def test_mail_waits_for_an_smtp_server_that_is_down_and_goes_once_it_is_back(
        google, users, login_as, app, smtp, mailbox):
    person = users[Role.CLIENT]
    connected(person, login_as, app)
    smtp.stop()
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app)
    [incident] = incidents_of(person)
    assert (incident.mail_state, incident.mail_problem) == (MailState.RETRYING, MailProblem.UNREACHABLE)
    admin = login_as(users[Role.ADMIN])
    page = admin.get("/settings/operations").get_data(as_text=True)
    assert "could not be reached" in page and person.email in page and "Trying again" in page

    smtp.start()  # back, on the same port
    mail_job(app)
    assert mailbox.take() == []  # not before its pause is over
    incident.mail_due_at = utcnow() - timedelta(seconds=1)  # the pause is over
    db.session.commit()
    mail_job(app)
    mail_job(app)
    [message] = mailbox.take()
    assert message["To"] == person.email and message["Message-ID"] == message_id(incident, reminder=False)
    db.session.refresh(incident)
    assert (incident.mail_state, incident.mail_problem) == (MailState.SENT, None)
    assert "could not be reached" not in admin.get("/settings/operations").get_data(as_text=True)


def test_a_refusal_for_good_and_an_impossible_address_are_shown_to_the_admin(
        google, users, login_as, app, mailbox):
    person, other = users[Role.CLIENT], users[Role.STAFF]
    connected(person, login_as, app)
    connected(other, login_as, app)
    other.email = "sam at example"  # an address mail cannot go to
    db.session.commit()
    mailbox.refuse = "550 5.1.1 Mailbox unavailable"
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app)
    mail_job(app)
    mailbox.refuse = None
    mail_job(app)
    assert mailbox.take() == []  # refused for good: not tried again
    [refused], [impossible] = incidents_of(person), incidents_of(other)
    assert (refused.mail_state, refused.mail_problem) == (MailState.REFUSED, MailProblem.REFUSED)
    assert (impossible.mail_state, impossible.mail_problem) == (MailState.REFUSED, MailProblem.ADDRESS_INVALID)
    response = login_as(users[Role.ADMIN]).get("/settings/operations")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "refused the message for good" in page
    assert "not one mail can be sent to" in page and "Not sent" in page


def test_a_job_that_died_while_sending_is_sent_again_with_the_same_message_id(
        google, users, login_as, app, mailbox):
    person = users[Role.CLIENT]
    connected(person, login_as, app)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    [incident] = incidents_of(person)
    incident.mail_state, incident.mail_claimed_at = MailState.SENDING, utcnow()  # a live claim: another job's
    db.session.commit()
    mail_job(app)
    assert mailbox.take() == []
    incident.mail_claimed_at = utcnow() - timedelta(minutes=11)  # that job died
    db.session.commit()
    mail_job(app)
    [message] = mailbox.take()
    assert message["Message-ID"] == message_id(incident, reminder=False)


def test_one_reminder_after_three_days_never_more(google, users, login_as, app, mailbox):
    person = users[Role.CLIENT]
    connected(person, login_as, app)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app)
    assert len(mailbox.take()) == 1
    [incident] = incidents_of(person)
    incident.opened_at = utcnow() - timedelta(days=3, minutes=1)
    db.session.commit()
    mail_job(app)
    mail_job(app)
    [reminder] = mailbox.take()
    assert reminder["Subject"].startswith("Reminder:") and "still needs you" in text_of(reminder)
    assert reminder["Message-ID"] == message_id(incident, reminder=True)


def test_a_person_who_turned_the_mail_off_gets_none_but_still_the_banner(google, users, login_as, app, mailbox):
    person = users[Role.CLIENT]
    client, _ = connected(person, login_as, app)
    page = client.get("/account/password").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="email_notices"', page) and "daily_digest" not in page
    response = post_form(client, "/account/mail", {}, page="/account/password")  # the box unticked
    assert response.status_code == 302
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app)
    assert mailbox.take() == [] and incidents_of(person)[0].mail_state is MailState.OFF
    assert "Reconnect" in banner(client)


def test_the_banner_may_be_dismissed_for_the_day(google, users, login_as, app):
    person = users[Role.CLIENT]
    client, _ = connected(person, login_as, app)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    [incident] = incidents_of(person)
    response = post_form(client, f"/notices/incident-{incident.id}/dismiss", {"back": "/calendar/"})
    assert response.status_code == 302 and response.headers["Location"] == "/calendar/"
    assert banner(client) is None and banner(login_as(person)) is not None  # only in the browser that said so
    assert post_form(client, "/notices/incident-1/dismiss", {"back": "https://evil.test/"}).headers["Location"] \
        == "/dashboard"


def test_a_long_use_limit_pause_shows_but_a_short_one_does_not(google, users, login_as, app):
    person = users[Role.CLIENT]
    client, connection = connected(person, login_as, app)
    connection.writes_paused_until = utcnow() + timedelta(minutes=50)
    db.session.commit()
    assert banner(client) is None
    connection.writes_paused_until = utcnow() + timedelta(hours=3)
    db.session.commit()
    assert "Google has limited changes to your calendar" in banner(client)


def test_a_hidden_role_sees_no_banner_and_gets_no_mail(google, users, login_as, app, mailbox):
    person = users[Role.STAFF]
    client, _ = connected(person, login_as, app)
    admin = login_as(users[Role.ADMIN])
    shown = {f"visible_{role}": "y" for role in ("manager", "client", "prospect")}  # staff hidden
    post_form(admin, "/settings/visibility", shown, page="/settings/")
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app)
    assert mailbox.take() == [] and banner(client) is None


def test_a_deleted_calendar_asks_to_choose_another_and_choosing_one_ends_it(google, users, login_as, app):
    person = users[Role.CLIENT]
    client, _ = connected(person, login_as, app)
    post_form(client, "/integrations/two-way/calendar", {"calendar_id": "__new__", "new_calendar_name": "Work"},
              page="/integrations/?change=two-way")
    run_jobs(app)
    connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == person.id))
    google_user_service(google, app).calendars().delete(calendarId=connection.calendar_id).execute()
    pull(app)
    assert banner(client).startswith("Your Google Calendar sync has stopped: the calendar it syncs with is gone")
    assert 'href="/integrations/?change=two-way"' in client.get("/dashboard").get_data(as_text=True)
    post_form(client, "/integrations/two-way/calendar", {"calendar_id": "alex@example.com"},
              page="/integrations/?change=two-way")
    run_jobs(app)
    assert banner(client) is None


def test_an_admins_daily_summary_comes_only_when_something_changed(google, users, login_as, app, mailbox):
    admin_user, person = users[Role.ADMIN], users[Role.CLIENT]
    admin = login_as(admin_user)
    assert 'name="daily_digest"' in admin.get("/account/password").get_data(as_text=True)
    post_form(admin, "/account/mail", {"email_notices": "y", "daily_digest": "y"}, page="/account/password")
    mail_job(app, send_digests)
    assert mailbox.take() == []  # nothing needs attention, and never did
    client, _ = connected(person, login_as, app)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app, send_digests)
    [digest] = [m for m in mailbox.take() if m["To"] == admin_user.email]
    assert f"{person.name}: Your Google Calendar sync has stopped" in text_of(digest)
    assert "/settings/connections" in text_of(digest)
    mail_job(app, send_digests)
    assert mailbox.take() == []  # unchanged
    sign_in_with_google(client)
    run_jobs(app)
    mail_job(app, send_digests)
    [all_well] = mailbox.take()
    assert "works again" in text_of(all_well)
    mail_job(app, send_digests)
    assert mailbox.take() == []


def test_a_very_long_company_name_still_sends(google, users, login_as, app, mailbox):
    person = users[Role.CLIENT]
    person.company.name = ("Northwind Traders and Partners " * 4)[:120]  # the column's whole width
    db.session.commit()
    connected(person, login_as, app)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    mail_job(app)
    [message] = mailbox.take()
    assert message["To"] == person.email and "Northwind Traders" in message["Subject"]
    assert login_as(users[Role.ADMIN]).get("/settings/operations").status_code == 200


def test_a_problem_recorded_twice_is_one_incident(google, users, login_as, app):
    """Two runs (a retried job, a second worker) that meet the same cause open one incident, not two."""
    from app.sync.connections import record_problem
    from app.sync.notes import Code, Note

    person = users[Role.CLIENT]
    _, connection = connected(person, login_as, app)
    for _ in range(2):
        record_problem(connection, Note(Code.GRANT_REVOKED))
        db.session.commit()
    assert len(incidents_of(person)) == 1
