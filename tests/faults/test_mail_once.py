"""Exactly one mail per incident with production's processes: two supervised RQ workers and `rq cron` (whose
send_notices runs every half minute), plus bursts of the same job queued at once, so two workers hold the
same incidents at the same moment. One incident comes the whole way (Google revokes the grant, a worker's
pull meets it); the others are opened where the engine opens them, for people of several companies."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from app.extensions import db
from app.models import Incident, MailState
from app.sync.connections import record_problem
from app.sync.notes import Code, Note
from jobs.mail import send_notices
from jobs.queueing import enqueue
from jobs.sync import schedule_pull
from testsupport.factories import make_company, make_connection
from testsupport.helpers import wait_until

from .conftest import CALENDAR, connect_and_push, settled

COMPANIES = 8  # of five people each
BURSTS = 3
JOBS_PER_BURST = 6


def all_sent() -> bool:
    """Every person's incident is open (the revoked grant's too, once a worker's pull met it) and mailed."""
    db.session.expire_all()
    states = db.session.scalars(sa.select(Incident.mail_state)).all()
    return len(states) == COMPANIES * 5 + 1 and all(state is MailState.SENT for state in states)


def test_each_incident_is_mailed_once_by_two_workers_and_the_cron(
        client_user, login_as, app, google, stack, mailbox, figure):
    stack(workers=2)
    _, connection = connect_and_push(client_user, login_as, app, [])
    settled(60)
    for n in range(COMPANIES):
        _, people = make_company(f"Company {n}")
        for person in people.values():
            record_problem(make_connection(person), Note(Code.PERMISSION_MISSING))
    db.session.commit()
    google.revoke_user_tokens(CALENDAR)
    schedule_pull(connection.id)
    for _ in range(BURSTS):
        for _ in range(JOBS_PER_BURST):
            enqueue(send_notices)
    wait_until(all_sent, timeout=90, interval=0.5)
    settled(60)
    expected = {incident.user.email for incident in db.session.scalars(sa.select(Incident))}
    received = Counter(message["To"] for message in mailbox.take())
    duplicates = sum(n - 1 for n in received.values())
    missing = len(expected - set(received))
    print(figure(faults=f"2 workers + cron + {BURSTS * JOBS_PER_BURST} send jobs at once", items=len(expected),
                 duplicates=duplicates, missing=missing, recovery_s=0))
    assert client_user.email in expected
    assert (duplicates, missing) == (0, 0), received
