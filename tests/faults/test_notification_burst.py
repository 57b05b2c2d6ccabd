"""A burst of Google's notifications for one connection (#27): 300 in about 10 s, each announcing a change made in
Google, with real workers. The pulls start at most every PULL_SPACING_SECONDS (one running, one waiting), never
one per notification, and every change reaches the portal."""
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import CalendarConnection, RunKind, SyncRun, Task
from tests.google_flow import google_user_calendar
from testsupport.factories import make_items

from .conftest import CALENDAR, connect_and_push, settled

SPACING = 3.0
NOTIFICATIONS = 300


def test_a_burst_of_notifications_is_a_few_spaced_pulls(client_user, login_as, app, google, stack, figure):
    app.config["PULL_SPACING_SECONDS"] = SPACING  # this process answers the webhook: it schedules the pulls
    items = make_items(client_user, tasks=20)
    stack(workers=2)
    connect_and_push(client_user, login_as, app, items)
    settled(timeout=120)
    connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == client_user.id))
    events = google_user_calendar(google, app)
    ids = {event["summary"]: event["id"] for event in google.events(CALENDAR)}
    pulls_before = pull_count()
    webhook = app.test_client()
    started = time.monotonic()
    for n in range(NOTIFICATIONS):
        if n % 15 == 0:  # a change in Google now and then, each announced by the notifications that follow
            item = items[n // 15]
            events.patch(calendarId=CALENDAR, eventId=ids[item.title], body={"summary": f"Renamed {n}"}).execute()
        answer = webhook.post("/broker/google/notifications", headers={
            "X-Goog-Channel-ID": connection.channel_id, "X-Goog-Channel-Token": connection.channel_token,
            "X-Goog-Resource-State": "exists"})
        assert answer.status_code == 204
        time.sleep(0.03)
    burst = time.monotonic() - started
    done_at = settled(timeout=60, also=lambda: renamed() == NOTIFICATIONS // 15)
    pulls = pull_count() - pulls_before
    line = figure(faults=f"notification-burst-{NOTIFICATIONS}-in-{burst:.0f}s", items=len(items), duplicates=0,
                  missing=NOTIFICATIONS // 15 - renamed(), recovery_s=f"{done_at - started:.1f}", pulls=pulls)
    assert renamed() == NOTIFICATIONS // 15, line  # every change reached the portal
    assert 1 <= pulls <= burst / SPACING + 2, line  # at most one start per spacing, plus the one waiting at the end


def pull_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun).where(SyncRun.kind == RunKind.PULL))


def renamed() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Task).where(Task.title.like("Renamed %")))
