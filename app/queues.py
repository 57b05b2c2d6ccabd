"""Redis and the RQ queues, hung off the app so nothing connects at import time.

Three queues, which every worker lists in this priority order (`rq worker pcs-interactive pcs-periodic
pcs-bulk`): an RQ worker always takes the next job from the first non-empty queue, so a person's edit,
a webhook pull or "Sync now" never waits behind the safety-net polls of 10,000 connections or behind
another user's Push Existing Data, which runs in slices and so gives the worker back every few seconds.
"""
from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

INTERACTIVE = "interactive"  # what a person waits for: edits pushed, Google's notifications pulled, Sync now
PERIODIC = "periodic"  # the safety net: per-connection polls and watch-channel renewals, spread over time
BULK = "bulk"  # Push Existing Data, in slices that re-enqueue themselves
QUEUES = (INTERACTIVE, PERIODIC, BULK)  # priority order


def init_app(app: Flask) -> None:
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])


def get_redis() -> Redis:
    return current_app.extensions["redis"]


def queue_name(name: str, namespace: str | None = None) -> str:
    return f"{namespace or current_app.config['REDIS_NAMESPACE']}-{name}"


def worker_queue_names(namespace: str | None = None) -> list[str]:
    """The queue names a worker listens to, highest priority first (for `rq worker` command lines)."""
    return [queue_name(name, namespace) for name in QUEUES]


def get_queue(name: str = INTERACTIVE) -> Queue:
    return Queue(queue_name(name), connection=get_redis())


def all_queues() -> list[Queue]:
    return [get_queue(name) for name in QUEUES]


def redis_key(*parts) -> str:
    return ":".join([current_app.config["REDIS_NAMESPACE"], *map(str, parts)])
