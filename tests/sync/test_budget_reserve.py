"""Bulk work leaves a reserve of the project's quota window to people's edits (#27 point 2): with the window
filled by Push Existing Data, another user's edit still finds room at once."""
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Role, RunKind, RunStatus, SyncRun
from app.queues import get_redis
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from tests.sync.conftest import CALENDAR, live_events, run_one_job
from testsupport.factories import make_items


def test_bulk_work_counts_the_project_window_without_its_reserve_and_an_edit_takes_the_whole_window(app):
    from app.google import RateLimited
    from app.google.budget import Limits, RequestBudget

    limits = Limits(per_user=100, per_project=20, window_seconds=1, bulk_reserve=0.25)  # bulk: 15 of 20
    namespace = app.config["REDIS_NAMESPACE"]

    def budget(google_user: str) -> RequestBudget:
        return RequestBudget(get_redis(), f"{namespace}:user:{google_user}", f"{namespace}:project", limits, 0)

    pushing, editing = budget("alex"), budget("sam")
    with pushing.leaving_reserve():
        assert pushing.room(20) == (15, 0.0)  # a chunk is sized by what bulk work may take
        pushing.take(15)
        free, wait = pushing.room(1)
        assert free == 0 and wait > 0.5  # bulk work's share is used up: the slice would wait in the queue
        with pytest.raises(RateLimited):
            pushing.take(1, max_wait_seconds=0.2)
    started = time.monotonic()
    editing.take(5)  # the reserve: at once
    assert time.monotonic() - started < 0.2
    assert pushing.room(1)[0] == 0  # outside the block the whole window counts, and it is full now
    assert pushing.limits.largest_cost == 15  # a batch bulk work could never be granted is split


def test_another_users_edit_reaches_google_at_once_while_push_existing_data_fills_the_project_window(
        users, user, login_as, google, app):
    # The project allows 40 calls in 10 s (Google, the emulator, and our budget alike); bulk work takes 30.
    google.set_quota(0, 40, window_seconds=10)
    app.config.update(GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE=40, GOOGLE_QUOTA_WINDOW_SECONDS=10,
                      GOOGLE_QUOTA_MARGIN_SECONDS=0.3, GOOGLE_QUOTA_BULK_RESERVE=0.25)
    staff = users[Role.STAFF]
    (edited,) = make_items(staff, tasks=1)
    staff_client = login_as(staff)
    sign_in_with_google(staff_client, email="sam@example.com")
    post_form(staff_client, "/integrations/two-way/push", {"calendar_id": "sam@example.com"}, page="/integrations/")
    run_jobs(app)
    make_items(user, tasks=60)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert run_one_job() == "start_run"  # the first slice pushes what bulk work may take, then waits in the queue
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING,
                                                     SyncRun.user_id == user.id))
    assert run.status == RunStatus.RUNNING and 0 < run.done < 60
    edited.title = "Edited while another user's push fills the window"
    db.session.commit()
    started = time.monotonic()
    assert run_one_job() == "push_changes"
    assert time.monotonic() - started < 2  # without the reserve: until the bulk grants leave the window (~10 s)
    assert live_events(google, "sam@example.com")[0]["summary"] == "Edited while another user's push fills the window"
    assert google.counters()["rate_limited"] == 0
