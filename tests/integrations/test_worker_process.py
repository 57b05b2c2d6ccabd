"""The same job, run by a separate `rq worker` process configured only through the environment."""
import sqlalchemy as sa

from app.extensions import db
from app.models import Role, SyncRun
from tests.conftest import post_form
from tests.google_flow import sign_in_with_google
from testsupport.factories import make_items
from testsupport.helpers import wait_until


def test_push_existing_data_runs_in_a_separate_worker_process(google, users, login_as, worker_process):
    user = users[Role.CLIENT]
    make_items(user, tasks=2, events=2, appointments=1)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"}, page="/integrations/")

    def finished_run():
        db.session.expire_all()
        run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "push_existing"))
        return run if run and run.finished else None

    run = wait_until(finished_run, timeout=30)
    assert run.status == "succeeded", worker_process.log_path.read_text()[-2000:]
    assert run.created == 5
    assert len([e for e in google.events("alex@example.com") if e.get("status") != "cancelled"]) == 5
