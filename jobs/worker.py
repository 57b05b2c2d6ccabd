"""The RQ worker classes production runs (`rq worker --worker-class jobs.worker.SyncWorker`), and the one the
benches run in a single process (`jobs.worker.SyncSimpleWorker`).

A job runs in the worker's app context: the worker builds the app once per process (RQ forks a work horse
for every job: the horse builds its own, so no database connection crosses a fork) and pushes its context
around each job, so the job functions never build an app themselves. Their modules are imported here once,
in the worker process: Flask, SQLAlchemy and Google's client library are then already loaded in every
horse, and a job starts in milliseconds instead of seconds.
"""
from __future__ import annotations

from flask import Flask, has_app_context
from rq import SimpleWorker, Worker

import jobs.admin  # noqa: F401  (preloaded for the forked work horses)
import jobs.mail  # noqa: F401
import jobs.periodic  # noqa: F401  (it imports jobs.sync)
from app import create_app

from .runtime import install_run_logging

_app: Flask | None = None


def worker_app() -> Flask:
    """This process's app (a forked horse builds its own at its first job)."""
    global _app
    if _app is None:
        _app = create_app()
        install_run_logging(_app)
    return _app


class InAppContext:
    """Runs each job inside the app's context (unless one is pushed already, as in-process tests do)."""

    def perform_job(self, *args, **kwargs) -> bool:
        if has_app_context():
            return super().perform_job(*args, **kwargs)
        with worker_app().app_context():
            return super().perform_job(*args, **kwargs)


class SyncWorker(InAppContext, Worker):
    """rq's Worker (a forked horse per job), with the app's context around each job."""


class SyncSimpleWorker(InAppContext, SimpleWorker):
    """rq's SimpleWorker (every job in the worker's own process), with the app's context around each job."""
