"""Redis and RQ queues, hung off the app so nothing connects at import time."""
from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

SYNC_QUEUE = "sync"


def init_app(app: Flask) -> None:
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])


def get_redis() -> Redis:
    return current_app.extensions["redis"]


def queue_name(name: str) -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}-{name}"


def get_queue(name: str = SYNC_QUEUE) -> Queue:
    return Queue(queue_name(name), connection=get_redis())


def redis_key(*parts) -> str:
    return ":".join([current_app.config["REDIS_NAMESPACE"], *map(str, parts)])
