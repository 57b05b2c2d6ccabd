"""How a job gets onto a queue: every RQ enqueue of the project goes through here.

The job functions are given by their callers (`jobs.sync`, `jobs.periodic`), the modules that define them,
so this module imports none of them. Every job carries explicit timeouts; a time to run at is UTC, as every
time the database holds.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.queues import INTERACTIVE, get_queue, get_redis, redis_key

JOB_OPTIONS = {"job_timeout": 3600, "result_ttl": 600, "failure_ttl": 7 * 86400}  # failed jobs stay a week
RETRY_SECONDS = 15  # a busy connection's job runs again this much later

JobFunction = Callable[..., object]


def enqueue(func: JobFunction, *args: object, queue: str = INTERACTIVE, job_id: str | None = None,
            delay: float = 0, at: datetime | None = None, description: str | None = None) -> Job:
    """`func(*args)` on `queue`: now, `delay` seconds from now, or at `at` (UTC)."""
    target = get_queue(queue)
    options = {**JOB_OPTIONS, "job_id": job_id, "description": description}
    if at is not None:
        return target.enqueue_at(_aware(at), func, *args, **options)
    if delay:
        return target.enqueue_in(timedelta(seconds=delay), func, *args, **options)
    return target.enqueue(func, *args, **options)


def run_job_id(run_id: int) -> str:
    """The RQ job id of a run's job: operators find the run from RQ's views, and RQ's from the run."""
    return f"{current_app.config['REDIS_NAMESPACE']}-run-{run_id}"


def retry_later(func: JobFunction, *args: object, after: float = RETRY_SECONDS) -> Job:
    """The connection is busy: this job again `after` seconds later, on the queue it came from, instead of
    failing it."""
    current = get_current_job()
    queue = Queue(current.origin, connection=get_redis()) if current else get_queue()
    return queue.enqueue_in(timedelta(seconds=after), func, *args, **JOB_OPTIONS)


def wait_for_google(func: JobFunction, connection_id: int, after: float) -> None:
    """Google is down: `func(connection_id)` again `after` seconds later, unless such a job already waits for
    this connection. One waiting job per connection and function stands for every edit or notification that
    asked meanwhile (each job drains all there is), so a long outage does not pile up jobs that wake for nothing.
    A mark names the waiting job; a job that no longer waits (it ran, or was lost) stands for nothing."""
    mark, current = redis_key("google-wait", func.__name__, connection_id), get_current_job()
    waiting = get_redis().get(mark)
    if waiting is not None and (current is None or waiting.decode() != current.id) and _waits(waiting.decode()):
        return
    job = retry_later(func, connection_id, after=after)
    get_redis().set(mark, job.id, ex=int(after) + 120)


def _waits(job_id: str) -> bool:
    try:
        return Job.fetch(job_id, connection=get_redis()).get_status() in (JobStatus.SCHEDULED, JobStatus.QUEUED)
    except NoSuchJobError:
        return False


def enqueue_many_at(func: JobFunction, due: Iterable[tuple[int, datetime]], queue: str) -> int:
    """`func(connection_id)` for each (connection_id, when) in one Redis round trip (no MULTI: each job is whole
    by itself): the sweep enqueues 10,000 jobs in seconds. Returns how many."""
    target, count = get_queue(queue), 0
    with get_redis().pipeline(transaction=False) as pipe:
        for connection_id, when in due:
            target.enqueue_at(_aware(when), func, connection_id, pipeline=pipe, **JOB_OPTIONS)
            count += 1
        pipe.execute()
    return count


def _aware(moment: datetime) -> datetime:
    """RQ reads a naive time as the machine's local time; ours are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
