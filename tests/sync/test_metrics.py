"""`/metrics` (issue #27): scraped after a real Push Existing Data, it shows the queues, the runs, Google's answers,
the connections and the budget with the values the push left; without the token it answers nothing."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.models import Role
from tests.conftest import login, post_form, run_jobs
from testsupport.factories import make_items

TOKEN = "scrape-me-" + "x" * 20


@pytest.fixture
def app_config(app_config):
    return {**app_config, "METRICS_TOKEN": TOKEN}


def scrape(app) -> dict[tuple, float]:
    """{(name, sorted labels): value} of one scrape."""
    answer = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for sample in family.samples}


def test_a_scrape_after_a_push_shows_queues_runs_and_googles_answers(app, connect, user, users, google):
    make_items(user, tasks=3, events=3, appointments=2)
    before = scrape(app)
    assert before[("pcs_redis_up", ())] == 1
    assert before[("pcs_connections", (("state", "needs_user"),))] == 0
    connect()  # sign in, Push Existing Data through the real worker code, its follow-up pull
    seen = scrape(app)
    for queue in ("interactive", "periodic", "bulk"):
        assert seen[("pcs_queue_jobs", (("queue", queue),))] == 0  # everything ran
        assert seen[("pcs_queue_oldest_job_age_seconds", (("queue", queue),))] == 0
    assert seen[("pcs_runs", (("kind", "push_existing"), ("status", "succeeded")))] == 1
    assert seen[("pcs_runs_overdue", (("kind", "push_existing"),))] == 0
    # Every call Google answered (the 8 inserts of the batch one by one, the calls around it), as Google counted.
    successes = seen[("pcs_google_answers_total", (("reason", ""), ("status", "200")))]
    assert successes == google.counters()["total"] >= 8
    assert not [key for key in seen if key[0] == "pcs_google_answers_total" and ("status", "200") not in key[1]]
    assert seen[("pcs_connections", (("state", "trusted_channel"),))] + \
        seen[("pcs_connections", (("state", "polling"),))] == 1
    assert 0 < seen[("pcs_request_budget_used_ratio", ())] < 1

    google.add_fault(match="calendar.events.list", status=503, count=1)
    client = login(app.test_client(), users[Role.CLIENT])
    assert post_form(client, "/integrations/two-way/sync", {}, page="/integrations/").status_code == 302
    run_jobs(app)
    after = scrape(app)
    assert after[("pcs_google_answers_total", (("reason", "backendError"), ("status", "503")))] >= 1
    assert after[("pcs_google_answers_total", (("reason", ""), ("status", "200")))] > successes
    assert after[("pcs_google_outage", ())] == 0  # one 503 is no outage

    google.add_fault(status=503, fraction=1.0)  # Google down: Sync now twice, each request failing
    for _ in range(2):
        assert post_form(client, "/integrations/two-way/sync", {}, page="/integrations/").status_code == 302
        run_jobs(app)
    assert scrape(app)[("pcs_google_outage", ())] == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_without_the_token_nothing_is_told(app, headers):
    answer = app.test_client().get("/metrics", headers=headers)
    assert answer.status_code == 401 and b"pcs_" not in answer.get_data()


def test_without_a_token_configured_there_is_no_endpoint(app):
    app.config["METRICS_TOKEN"] = None
    assert app.test_client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
