"""Mail jobs: compose in the company's brand (`app.mailing`) and send through SMTP, outside any web request.

A sync that needs its person gets ONE message per incident (and at most one reminder after three days), never
one per run or retry. The message's state is on its incident and moves pending → sending → sent: a job claims
it with a conditional update before it connects to SMTP, so two workers or a retried job never send it
twice; an SMTP server that is down or busy is tried again with growing pauses; one that refuses the message
for good has the refusal recorded in words for the admin. A job that died between SMTP's answer and its own
"sent" leaves the message "sending": it is sent again after SENDING_STALE, with the same Message-ID, so a
mail program shows it once. Admins who asked for it get a daily summary, only when something changed.
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.integrations.words import notice_words
from app.mailing import branded_message
from app.models import Company, Incident, MailProblem, MailState, Role, User, utcnow
from app.passwords import reset_link
from app.sync.notes import Code
from app.tenancy import portal_base

log = logging.getLogger(__name__)
FIRST_PAUSE, LONGEST_PAUSE = timedelta(minutes=1), timedelta(hours=1)
SENDING_STALE = timedelta(minutes=10)  # a claim older than this died with its job
REMINDER_AFTER = timedelta(days=3)
BATCH = 100
NOTICES_SECONDS = 30
DIGEST_CRON = "0 7 * * *"  # daily, 07:00 UTC
WAITING = (MailState.PENDING, MailState.RETRYING)


def send_password_reset(user_id: int) -> None:
    """The link to choose a new password, to the person's address, in their company's brand."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    branded_message(user.company, user.email, f"Choose a new password for {user.company.name}", "password_reset",
                    user=user, link=reset_link(user)).send()


def send_notices() -> int:
    """Cron, every NOTICES_SECONDS: the mail of each incident that is due, and the reminders; how many went."""
    now = utcnow()
    db.session.execute(sa.update(Incident).where(Incident.mail_state == MailState.SENDING,
                                                 Incident.mail_claimed_at < now - SENDING_STALE)
                       .values(mail_state=MailState.RETRYING, mail_due_at=now))
    db.session.commit()
    due = db.session.scalars(sa.select(Incident.id).where(
        Incident.resolved_at.is_(None), Incident.mail_state.in_(WAITING),
        sa.or_(Incident.mail_due_at.is_(None), Incident.mail_due_at <= now)).order_by(Incident.id).limit(BATCH)).all()
    reminders = db.session.scalars(sa.select(Incident.id).where(
        Incident.resolved_at.is_(None), Incident.mail_state == MailState.SENT, Incident.reminder_sent_at.is_(None),
        Incident.opened_at <= now - REMINDER_AFTER).limit(BATCH)).all()
    return sum(map(_send_first, due)) + sum(map(_send_reminder, reminders))


def _claimed(query: sa.Update) -> bool:
    claimed = db.session.execute(query.execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(claimed)


def _send_first(incident_id: int) -> bool:
    if not _claimed(sa.update(Incident).where(Incident.id == incident_id, Incident.resolved_at.is_(None),
                                              Incident.mail_state.in_(WAITING))
                    .values(mail_state=MailState.SENDING, mail_claimed_at=utcnow())):
        return False  # another worker has it
    incident = db.session.get(Incident, incident_id)
    if not _wants_mail(incident.user):
        incident.mail_state = MailState.OFF  # turned off by its person (the banner still shows), or nothing to do
        db.session.commit()
        return False
    return _deliver(incident, reminder=False)


def _send_reminder(incident_id: int) -> bool:
    if not _claimed(sa.update(Incident).where(Incident.id == incident_id, Incident.reminder_sent_at.is_(None))
                    .values(reminder_sent_at=utcnow())):
        return False
    incident = db.session.get(Incident, incident_id)
    return _wants_mail(incident.user) and _deliver(incident, reminder=True)


def _wants_mail(user: User) -> bool:
    """The person has not turned these mails off, and their role still has Integrations to act in."""
    return user.email_notices and user.company.integrations_visible_to(user.role)


def _deliver(incident: Incident, reminder: bool) -> bool:
    """Send the incident's message; record how it went (a `MailProblem` for the admin when it cannot go)."""
    user, company = incident.user, incident.user.company
    if not _plausible_address(user.email):
        return _failed(incident, reminder, MailState.REFUSED, MailProblem.ADDRESS_INVALID)
    words, action = notice_words(Code(incident.code))
    message = branded_message(company, user.email, ("Reminder: " if reminder else "") +
                              f"Your {company.name} calendar sync needs you", "incident", user=user, words=words,
                              action=action, link=f"{portal_base(company)}integrations/", reminder=reminder)
    message.extra_headers["Message-ID"] = message_id(incident, reminder)
    try:
        message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        log.warning("mail for incident %s refused: %s", incident.id, exc)
        if _permanent(exc):
            return _failed(incident, reminder, MailState.REFUSED, MailProblem.REFUSED)
        return _failed(incident, reminder, MailState.RETRYING, MailProblem.DEFERRED)
    except (smtplib.SMTPException, OSError):
        log.warning("mail for incident %s: the SMTP server is unreachable", incident.id, exc_info=True)
        return _failed(incident, reminder, MailState.RETRYING, MailProblem.UNREACHABLE)
    if not reminder:
        incident.mail_state, incident.mail_sent_at, incident.mail_problem = MailState.SENT, utcnow(), None
    db.session.commit()
    return True


def message_id(incident: Incident, reminder: bool) -> str:
    """The same for every attempt at one message, so a mail program shows a message sent twice (a job that
    died between SMTP's "accepted" and its own "sent") once."""
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "portal.localhost"
    return f"<incident-{incident.id}.{incident.opened_at:%Y%m%d%H%M%S}{'.reminder' if reminder else ''}@{domain}>"


def _plausible_address(address: str) -> bool:
    """One address, with a local part and a domain and nothing a header could be broken with."""
    local, at, domain = (address or "").rpartition("@")
    return bool(at and local and "." in domain) and not any(c.isspace() or c in "<>,;\"" for c in address)


def _permanent(error: smtplib.SMTPException) -> bool:
    """An SMTP 5xx answer: trying again will not change it."""
    codes = [code for code, _ in error.recipients.values()] if isinstance(error, smtplib.SMTPRecipientsRefused) \
        else [getattr(error, "smtp_code", 0)]
    return all(code >= 500 for code in codes)


def _failed(incident: Incident, reminder: bool, state: MailState, problem: MailProblem) -> bool:
    if reminder:  # a reminder is tried once: the first message went
        log.warning("reminder for incident %s not sent: %s", incident.id, problem.value)
        db.session.commit()
        return False
    incident.mail_attempts += 1
    incident.mail_state, incident.mail_problem = state, problem
    incident.mail_due_at = utcnow() + min(FIRST_PAUSE * 2 ** (incident.mail_attempts - 1), LONGEST_PAUSE)
    db.session.commit()
    return False


def send_digests() -> int:
    """Cron, daily: each admin who asked for it gets the company's connections that need attention, only if
    that list changed since the last summary (nothing when nothing changed). The summary is claimed before it
    is sent (its fingerprint moves first), so two schedulers send it once. Returns how many were sent."""
    admins = db.session.scalars(sa.select(User.id).where(User.role == Role.ADMIN, User.daily_digest.is_(True))).all()
    return sum(map(_send_digest, admins))


def _send_digest(admin_id: int) -> bool:
    admin = db.session.get(User, admin_id)
    company: Company = admin.company
    open_now = db.session.scalars(sa.select(Incident).where(
        Incident.company_id == company.id, Incident.resolved_at.is_(None)).order_by(Incident.id)).all()
    fingerprint = hashlib.sha256(",".join(str(i.id) for i in open_now).encode()).hexdigest()
    before = admin.digest_fingerprint
    if fingerprint == before or (not open_now and before is None):
        return False  # nothing changed (or never anything to say)
    if not _claimed(sa.update(User).where(User.id == admin_id, User.digest_fingerprint.is_not_distinct_from(before))
                    .values(digest_fingerprint=fingerprint)):
        return False
    lines = [(i.user.name, notice_words(Code(i.code))[0]) for i in open_now]
    try:
        branded_message(company, admin.email, f"{company.name}: calendar connections that need attention", "digest",
                        user=admin, lines=lines, link=f"{portal_base(company)}settings/connections").send()
    except (smtplib.SMTPException, OSError):
        log.warning("daily summary for admin %s not sent; tried again tomorrow", admin_id, exc_info=True)
        _claimed(sa.update(User).where(User.id == admin_id).values(digest_fingerprint=before))
        return False
    return True
