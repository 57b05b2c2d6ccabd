"""Company Settings → Background jobs: a company's admin sees their own company's background work in words,
with references for support, and nothing of other companies or of the platform (queues, workers)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Role, RunKind, RunStatus, SyncRun
from app.queues import QUEUES, get_queue
from testsupport.factories import make_connection
from testsupport.helpers import wait_until


def fail_for_connection(connection_id: int) -> None:
    """A job that fails, named like the sync jobs (its first parameter names a connection)."""
    raise RuntimeError(f"Google refused connection {connection_id}")


def a_run(connection, status: RunStatus, **fields) -> SyncRun:
    run = SyncRun(company_id=connection.company_id, user_id=connection.user_id, connection_id=connection.id,
                  kind=RunKind.PUSH_EXISTING, status=status, **fields)
    db.session.add(run)
    db.session.commit()
    return run


def test_admin_sees_only_own_companys_work_in_words(app, users, other_company, login_as, worker_process):
    ours, theirs = make_connection(users[Role.CLIENT]), make_connection(other_company[1][Role.CLIENT])
    interactive, periodic, bulk = (get_queue(name) for name in QUEUES)
    bulk.enqueue(fail_for_connection, ours.id)  # every queue is read: ours fails on bulk, theirs on interactive
    interactive.enqueue(fail_for_connection, theirs.id)
    for connection in (ours, theirs):
        periodic.enqueue_in(timedelta(hours=1), fail_for_connection, connection.id)
    wait_until(lambda: bulk.failed_job_registry.count + interactive.failed_job_registry.count == 2,
               timeout=60)  # the worker process starts first
    waiting = a_run(ours, RunStatus.QUEUED)
    crashed = a_run(ours, RunStatus.FAILED, outcome="unexpected", outcome_params={"by_itself": False},
                    detail="AttributeError: 'NoneType' object has no attribute 'isoformat'")
    a_run(theirs, RunStatus.FAILED, outcome="grant_revoked")

    page = login_as(users[Role.ADMIN]).get("/settings/operations").get_data(as_text=True)
    for platform in (*(get_queue(name).name for name in QUEUES), 'id="workers"', "No worker is running"):
        assert platform not in page, platform  # the operators' figures, not a tenant's
    unfinished = page.split('id="unfinished-runs"')[1].split("</section>")[0]
    assert "Push Existing Data" in unfinished and f"run {waiting.id}" in unfinished
    failed = page.split('id="failed-runs"')[1].split("</section>")[0]
    assert "An unexpected error stopped this before it ended. Please try again" in failed
    assert f"run {crashed.id}" in failed and "revoked" not in failed  # not the other company's
    stopped = page.split('id="failed-jobs"')[1].split("</table>")[0]
    assert stopped.count("<tr>") == 2 and "Background work" in stopped  # the header and ours
    for technical in ("RuntimeError", "AttributeError", "NoneType", "fail_for_connection", f"connection {theirs.id}"):
        assert technical not in page, technical
    scheduled = page.split('id="scheduled-jobs"')[1].split("</table>")[0]
    assert scheduled.count("<tr>") == 2 and users[Role.CLIENT].name in scheduled


def test_a_job_abandoned_without_an_end_time_does_not_break_the_page(app, users, login_as):
    """RQ gives aware times; a failed job that never ended (its worker died) has none: it still sorts."""
    ours = make_connection(users[Role.CLIENT])
    registry = get_queue(QUEUES[0]).failed_job_registry
    for _ in range(2):
        job = get_queue(QUEUES[0]).enqueue(fail_for_connection, ours.id)
        job.ended_at = None
        job.save()
        registry.add(job, ttl=600)
    ended = get_queue(QUEUES[0]).enqueue(fail_for_connection, ours.id)
    ended.ended_at = datetime.now(UTC)  # as RQ stamps the jobs that did end
    ended.save()
    registry.add(ended, ttl=600)
    response = login_as(users[Role.ADMIN]).get("/settings/operations")
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_only_admins_open_it(users, login_as):
    for role in (Role.MANAGER, Role.STAFF, Role.CLIENT):
        assert login_as(users[role]).get("/settings/operations").status_code == 403
    assert 'id="operations-link"' in login_as(users[Role.ADMIN]).get("/settings/").get_data(as_text=True)
