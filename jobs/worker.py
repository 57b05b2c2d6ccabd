"""The RQ worker class production runs (`rq worker --worker-class jobs.worker.SyncWorker`).

RQ forks a work horse for every job and the horse imports the job's module. Imported here once, in the
worker process, Flask, SQLAlchemy and Google's client library are already loaded in every horse: a job
starts in milliseconds instead of seconds, which is most of a resumed run's delay after a worker dies.
Nothing is connected or built at import (no app, no Redis, no database), so nothing is shared across forks.
"""
from rq import Worker

import jobs.periodic  # noqa: F401  (preloaded for the forked work horses; it imports jobs.sync)


class SyncWorker(Worker):
    """rq's Worker, with the sync jobs' modules imported before the first fork."""
