"""Log lines stamped with the sync run (and RQ job) they belong to, as Redash stamps its job_id.

The worker's app itself is built by the worker class (`jobs.worker`); the jobs never build one.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask
from flask.logging import default_handler
from rq import get_current_job

LOG_FORMAT = "[%(asctime)s] %(levelname)s run=%(run_id)s job=%(job_id)s %(name)s: %(message)s"

_current_run_id: ContextVar[int | None] = ContextVar("sync_run_id", default=None)


class RunIdFilter(logging.Filter):
    """Adds `run_id` and `job_id` to every record, so an operator can follow one run through the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _current_run_id.get() or "-"
        job = get_current_job()
        record.job_id = job.id if job else "-"
        return True


def install_run_logging(app: Flask) -> None:
    """In a worker process: the app's log lines (and its modules', which propagate) carry the run id."""
    handler = logging.StreamHandler()
    handler.addFilter(RunIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    app.logger.removeHandler(default_handler)
    app.logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)


@contextmanager
def run_logging(run_id: int) -> Iterator[None]:
    """Log lines written inside the block carry `run_id`."""
    token = _current_run_id.set(run_id)
    try:
        yield
    finally:
        _current_run_id.reset(token)
