"""What a job runs in: the caller's app context (in-process tests) or one app per worker process, and
log lines stamped with the sync run (and RQ job) they belong to, as Redash stamps its job_id."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, current_app, has_app_context
from flask.logging import default_handler
from rq import get_current_job

from app import create_app

LOG_FORMAT = "[%(asctime)s] %(levelname)s run=%(run_id)s job=%(job_id)s %(name)s: %(message)s"

_current_run_id: ContextVar[int | None] = ContextVar("sync_run_id", default=None)
_worker_app: Flask | None = None


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


@contextmanager
def app_context() -> Iterator[Flask]:
    if has_app_context():
        yield current_app._get_current_object()
        return
    global _worker_app
    if _worker_app is None:
        _worker_app = create_app()
        install_run_logging(_worker_app)
    with _worker_app.app_context():
        yield _worker_app
