"""Push Existing Data for N items through the real worker, batched, and (with --per-event) the same N pushed
one HTTP request per event, the way the peers do it, with the ratio.

    .venv/bin/python -m bench.push --n 1000 10000 --latency 20 --per-event
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from bench.common import Stack, emit, http_figures, run_seconds

CHUNK = 500


def iter_items(user) -> Iterator:
    """Every item the user takes part in, loaded CHUNK at a time with what the event body needs."""
    from app.extensions import db
    from app.models import ITEM_MODELS, Appointment, Task

    eager = {Task: (selectinload(Task.assignees),),
             Appointment: (selectinload(Appointment.staff), selectinload(Appointment.contact))}
    for model in ITEM_MODELS.values():
        ids = db.session.scalars(model.of_participant(user).with_only_columns(model.id)).all()
        for start in range(0, len(ids), CHUNK):
            yield from db.session.scalars(sa.select(model).where(model.id.in_(ids[start:start + CHUNK]))
                                          .options(*eager.get(model, ())))


def push_per_event(stack: Stack) -> tuple[float, dict]:
    """Bench-only loop: one events.insert request per item into a second Google account's calendar."""
    from app.google.client import CalendarClient
    from app.sync.mapping import event_body, event_id_for

    connection = stack.connect("per-event@example.com", save=False)  # never saved: nothing else syncs it
    connection.id = stack.connection_id
    client = CalendarClient(connection)
    events = client.service.events()
    stack.emulator.reset_counters()
    started = time.perf_counter()
    for item in iter_items(stack.user):
        event_id = event_id_for(connection, item.kind, item.id)
        client.execute(events.insert(calendarId=connection.calendar_id, sendUpdates="none",
                                     body={**event_body(connection, item), "id": event_id}))
    return time.perf_counter() - started, stack.emulator.counters()


def bench_push(n: int, latency_ms: int, per_event: bool) -> dict:
    """One line for the batched push (and one for per-event); returns the batched figures."""
    with Stack(latency_ms=latency_ms) as stack:
        stack.seed_items(n)
        run, worker, counters = stack.push_existing()
        http = http_figures(counters)
        inner = http["calls"] - (http["http_requests"] - http["batches"])
        seconds = run_seconds(run)
        batched = {"http_requests": http["batches"], "calls": inner, "seconds": seconds, "items/s": n / seconds,
                   "created": run.created, "worker_peak_rss_mb": worker.peak_rss_mb,
                   "worker_seconds": worker.seconds,
                   "extra_requests_watch_and_pull": http["http_requests"] - http["batches"],
                   "target_requests": f"<={1.05 * -(-n // 50):.0f}"}
        emit(f"push N={n} latency={latency_ms}ms batched", **batched)
        if per_event:
            per_seconds, per_counters = push_per_event(stack)
            per_http = http_figures(per_counters)
            emit(f"push N={n} latency={latency_ms}ms per-event", http_requests=per_http["http_requests"],
                 calls=per_http["calls"], seconds=per_seconds, **{"items/s": n / per_seconds},
                 requests_ratio=per_http["http_requests"] / max(1, http["batches"]),
                 speedup_batched=per_seconds / seconds)
        return batched


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency", type=int, default=20, help="ms the emulator waits per HTTP request")
    parser.add_argument("--per-event", action="store_true", help="also push the same N one request per event")
    args = parser.parse_args(argv)
    for n in args.n:
        bench_push(n, args.latency, args.per_event)


if __name__ == "__main__":
    main()
