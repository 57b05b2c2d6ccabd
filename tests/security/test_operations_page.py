"""The operator page: queues, workers, scheduled and failed jobs from RQ itself, for admins only, and
listing only jobs of the admin's own company (the deployment serves many)."""
from __future__ import annotations

from datetime import timedelta

from rq.worker import WorkerStatus

from app.models import Role
from app.queues import QUEUES, get_queue
from testsupport.factories import make_connection
from testsupport.helpers import wait_until


def fail_for_connection(connection_id: int) -> None:
    """A job that fails, named like the sync jobs (its first parameter names a connection)."""
    raise RuntimeError(f"Google refused connection {connection_id}")


def test_admin_sees_queues_workers_and_only_own_companys_jobs(app, users, other_company, login_as, worker_process):
    ours, theirs = make_connection(users[Role.CLIENT]), make_connection(other_company[1][Role.CLIENT])
    queues = [get_queue(name) for name in QUEUES]
    interactive, periodic, bulk = queues
    bulk.enqueue(fail_for_connection, ours.id)  # every queue is read: ours fails on bulk, theirs on interactive
    interactive.enqueue(fail_for_connection, theirs.id)
    for connection in (ours, theirs):
        periodic.enqueue_in(timedelta(hours=1), fail_for_connection, connection.id)
    wait_until(lambda: bulk.failed_job_registry.count + interactive.failed_job_registry.count == 2,
               timeout=60)  # the worker process starts first

    page = login_as(users[Role.ADMIN]).get("/settings/operations").get_data(as_text=True)
    assert all(queue.name in page for queue in queues)
    workers = page.split('id="workers"')[1].split("</table>")[0]
    assert any(f"<td>{state.value}</td>" in workers for state in WorkerStatus), workers
    failed = page.split('id="failed-jobs"')[1].split("</table>")[0]
    assert f"RuntimeError: Google refused connection {ours.id}" in failed
    assert f"connection {theirs.id}" not in page
    scheduled = page.split('id="scheduled-jobs"')[1].split("</table>")[0]
    assert scheduled.count("fail_for_connection") == 1
    assert page.count("more of other companies or of the whole system") == 2


def test_only_admins_open_it(users, login_as):
    for role in (Role.MANAGER, Role.STAFF, Role.CLIENT):
        assert login_as(users[role]).get("/settings/operations").status_code == 403
    assert 'id="operations-link"' in login_as(users[Role.ADMIN]).get("/settings/").get_data(as_text=True)


def test_without_a_worker_it_says_so(users, login_as):
    assert "No worker is running" in login_as(users[Role.ADMIN]).get("/settings/operations").get_data(as_text=True)
