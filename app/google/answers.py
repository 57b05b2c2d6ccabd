"""Google's answers counted by status and reason, for operators (`/metrics`, `app.metrics`).

Counted in Redis, which every web process and worker already shares, so the figure is the fleet's whatever
process sent the call (RQ runs each job in a forked work horse: a per-process counter would die with it).
Counting never gets in a call's way: without Redis the answer simply goes uncounted.
"""
from __future__ import annotations

from collections import Counter

from redis.exceptions import RedisError

from ..queues import get_redis, redis_key

UNREACHABLE = "unreachable"  # no HTTP answer at all: a timeout, a refused connection


def answers_key() -> str:
    return redis_key("metrics", "google-answers")


def count_answers(answers: Counter) -> None:
    """`answers`: (status, reason) → how many; status "200" for a success, reason "" when Google gave none."""
    if not answers:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for (status, reason), n in answers.items():
            pipe.hincrby(answers_key(), f"{status}:{reason}", n)
        pipe.execute()
    except RedisError:
        pass


def counted_answers() -> dict[tuple[str, str], int]:
    raw = get_redis().hgetall(answers_key())
    return {tuple(field.decode().split(":", 1)): int(n) for field, n in raw.items()}
