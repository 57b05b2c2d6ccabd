"""The batched path really groups calls: request counts, not timings (bench/ measures the timings)."""
from math import ceil

from app.extensions import db
from app.google.client import BATCH_LIMIT
from tests.conftest import run_jobs
from testsupport.factories import make_items


def test_push_existing_data_sends_batches_not_one_request_per_event(connect, user, google):
    make_items(user, tasks=40, events=40, appointments=40)
    google.reset_counters()
    connect()
    counters = google.counters()
    assert counters["methods"].get("calendar.events.insert") == 120, counters
    # Per-event pushing would make 120 requests and no batch; a batch per kind's remainder is allowed.
    assert 1 <= counters["batch_requests"] <= ceil(120 / BATCH_LIMIT) + 1, counters


def test_a_burst_of_edits_is_one_coalesced_push(connect, user, google, app):
    items = make_items(user, events=100)
    connect()
    google.reset_counters()
    for item in items:  # 100 separate saves, as from the item form
        item.title += " (edited)"
        db.session.commit()
    assert run_jobs(app) <= 3
    counters = google.counters()
    assert counters["methods"].get("calendar.events.patch") == 100, counters
    assert 1 <= counters["batch_requests"] <= ceil(100 / BATCH_LIMIT) + 1, counters
    assert counters["total"] - counters["methods"]["calendar.events.patch"] <= 2, counters  # no per-item reads


def test_with_a_coalescing_delay_a_burst_waits_as_one_scheduled_push(connect, user, google, app):
    from app.queues import get_queue
    from jobs.sync import push_changes

    items = make_items(user, tasks=60)
    connection = connect()
    app.config["PUSH_COALESCE_SECONDS"] = 2  # as in production: edits keep joining until the push starts
    google.reset_counters()
    for item in items:
        item.title += " (edited)"
        db.session.commit()
    queue = get_queue()
    assert (queue.count, queue.scheduled_job_registry.count) == (0, 1)
    push_changes(connection.id)  # what the worker's scheduler starts two seconds later
    counters = google.counters()
    assert counters["methods"].get("calendar.events.patch") == 60
    assert counters["batch_requests"] == ceil(60 / BATCH_LIMIT)
