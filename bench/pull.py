"""Incremental pull on a large calendar: requests and seconds for one sync of a few Google-side changes,
processing time without HTTP, and no echo (a pull after our own push applies nothing and pushes nothing).

    .venv/bin/python -m bench.pull --n 10000 --changes 10 --latency 20
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import sqlalchemy as sa

from bench.common import Stack, emit, google_user_events, http_figures, run_seconds, writes


def change_in_google(stack: Stack, count: int, label: str) -> None:
    """Rename `count` pushed events, spread over the calendar, as the Google user."""
    from app.models import EventLink

    ids = stack.db.session.scalars(sa.select(EventLink.google_event_id).order_by(EventLink.id)).all()
    events = google_user_events(stack)
    for event_id in ids[::max(1, len(ids) // count)][:count]:
        events.patch(calendarId=stack.connection().calendar_id, eventId=event_id,
                     body={"summary": f"{label} {event_id[:6]}"}).execute()


def side_effects(stack: Stack) -> dict:
    """What a pull must not leave behind when nothing changed in the portal: outbox rows, queued jobs."""
    from app.models import PendingPush

    return {"pending_pushes": stack.count(PendingPush), "queued_jobs": stack.queued_jobs()}


def pull_in_worker(stack: Stack) -> tuple:
    """Schedule one pull (as the webhook does) and run it in the worker; returns (run, worker, counters)."""
    from jobs.sync import schedule_pull

    stack.emulator.reset_counters()
    schedule_pull(stack.connection_id)
    worker = stack.run_worker()
    return stack.runs("pull")[-1], worker, stack.emulator.counters()


def emit_pull(case: str, run, worker, counters: dict, stack: Stack) -> None:
    emit(case, http_requests=http_figures(counters)["http_requests"],
         list_requests=counters["methods"].get("calendar.events.list", 0), listed=run.total,
         applied=run.created + run.updated + run.deleted, seconds=run_seconds(run), worker_seconds=worker.seconds,
         writes_to_google=writes(counters), **side_effects(stack))


@contextmanager
def timed(owner, name: str, totals: dict):
    """Accumulate the wall time spent in owner.name (bench instrumentation, restored on exit)."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)
    try:
        yield totals
    finally:
        setattr(owner, name, original)


def pull_in_process(stack: Stack) -> dict:
    """The same job in this process, timing HTTP (CalendarClient.execute) and _apply_page separately."""
    import jobs.sync
    from app.google.client import CalendarClient
    from app.sync import pull

    totals: dict = {}
    with timed(CalendarClient, "execute", totals), timed(pull, "_apply_page", totals):
        started = time.perf_counter()
        jobs.sync.pull_changes(stack.connection_id)
        total = time.perf_counter() - started
    return {"seconds": total, "http_seconds": totals.get("execute", 0.0),
            "processing_ms": 1000 * (total - totals.get("execute", 0.0)),
            "apply_page_ms": 1000 * totals.get("_apply_page", 0.0)}


def bench_pull(n: int, changes: int, latency_ms: int) -> None:
    with Stack(latency_ms=0) as stack:
        stack.seed_items(n)
        push_run, _, counters = stack.push_existing()  # the job ends with the first (full) pull
        first = stack.runs("pull")[-1]
        after_push = writes(counters) - push_run.created - push_run.updated
        left = side_effects(stack)
        # writes_after_push: a second round (writes beyond one per item, and pushes left queued); 0 with Meet on
        emit(f"pull full-after-push events={n}", list_requests=counters["methods"].get("calendar.events.list", 0),
             listed=first.total, applied=first.created + first.updated + first.deleted, seconds=run_seconds(first),
             writes_to_google=after_push, writes_after_push=after_push + left["pending_pushes"],
             meet=stack.connection().company.google_meet, **left)
        stack.emulator.set_latency(latency_ms)

        change_in_google(stack, changes, "Changed in Google")
        emit_pull(f"pull incremental events={n} changes={changes} latency={latency_ms}ms", *pull_in_worker(stack),
                  stack)

        for state in ("cold", "warm"):  # the first pull in a process also pays imports and SQL compilation
            change_in_google(stack, changes, f"Changed again ({state})")
            emit(f"pull incremental events={n} changes={changes} in-process {state}", **pull_in_process(stack))

        stack.edit_items(changes)  # the portal's own edits, pushed, then seen again by the next pull
        stack.wait_for_coalesced_push()
        stack.run_worker()
        emit_pull(f"pull echo-after-push events={n} portal_edits={changes}", *pull_in_worker(stack), stack)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="events in the calendar")
    parser.add_argument("--changes", type=int, default=10, help="events changed in Google")
    parser.add_argument("--latency", type=int, default=20, help="ms the emulator waits per HTTP request")
    args = parser.parse_args(argv)
    bench_pull(args.n, args.changes, args.latency)


if __name__ == "__main__":
    main()
