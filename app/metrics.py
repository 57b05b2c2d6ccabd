"""`/metrics`: what an operator of the fleet watches, in Prometheus's text format, behind a token.

Every figure is read when Prometheus scrapes, from what all processes share (PostgreSQL, Redis and RQ's own
records), so it is the same whichever gunicorn process answers and needs no multiprocess directory; the one
counter (Google's answers) is kept in Redis by whatever process got the answer (`app.google.answers`).
RQ's queues are read here too rather than by a separate exporter: one scrape, in our queue names, with the
age of each queue's oldest job, which is the figure that says whether the workers keep up.

Not public: without `METRICS_TOKEN` set the endpoint does not exist; with it, Prometheus sends
`Authorization: Bearer <token>` (its `authorization` scrape setting).
"""
from __future__ import annotations

import hmac
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from redis.exceptions import RedisError
from rq.job import Job

from .extensions import db
from .google.answers import counted_answers
from .google.budget import project_window_used
from .google.outage import project_outage_open
from .models import CalendarConnection, ConnectionStatus, RunStatus, SyncRun, utcnow
from .queues import QUEUES, get_queue
from .sync.kinds import RUN_KINDS

bp = Blueprint("metrics", __name__)
RUNS_WINDOW = timedelta(hours=24)  # runs by kind and status: those queued in the last day, and all unfinished
EXPECTED_RUN = timedelta(minutes=10)  # longer than this, a run that is not bulk work is "overdue"
EXPECTED_BULK_SLICE = timedelta(hours=1)  # a bulk run between slices is fine; one not touched for this long is not


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return Response("A bearer token is needed.\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class FleetCollector:
    """Builds every family at scrape time (a prometheus_client custom collector)."""

    def collect(self):
        try:  # what lives in Redis: without it these are left out and pcs_redis_up says why
            shared = [*queue_families(), *google_families()]
        except RedisError:
            shared = []
        yield GaugeMetricFamily("pcs_redis_up", "Whether Redis (queues, budgets, counters) answered this scrape",
                                value=1 if shared else 0)
        yield from shared
        yield from run_families()
        yield connection_family()
        yield notification_lag_family()


def queue_families():
    depth = GaugeMetricFamily("pcs_queue_jobs", "Jobs waiting in each RQ queue (scheduled ones not included)",
                              labels=["queue"])
    age = GaugeMetricFamily("pcs_queue_oldest_job_age_seconds", "How long the oldest waiting job has waited",
                            labels=["queue"])
    scheduled = GaugeMetricFamily("pcs_queue_scheduled_jobs", "Jobs scheduled for later (slices waiting for quota)",
                                  labels=["queue"])
    now = utcnow()
    for name in QUEUES:
        queue = get_queue(name)
        ids = queue.get_job_ids(0, 0)
        oldest = Job.fetch(ids[0], connection=queue.connection) if ids else None
        depth.add_metric([name], queue.count)
        age.add_metric([name], (now - oldest.enqueued_at.replace(tzinfo=None)).total_seconds()
                       if oldest and oldest.enqueued_at else 0)
        scheduled.add_metric([name], queue.scheduled_job_registry.count)
    yield from (depth, age, scheduled)


def run_families():
    runs = GaugeMetricFamily("pcs_runs", f"Sync runs queued in the last {RUNS_WINDOW.total_seconds() / 3600:g} hours "
                             "and every unfinished one, by kind and status", labels=["kind", "status"])
    since = utcnow() - RUNS_WINDOW
    rows = db.session.execute(sa.select(SyncRun.kind, SyncRun.status, sa.func.count()).where(
        sa.or_(SyncRun.queued_at >= since, SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])))
        .group_by(SyncRun.kind, SyncRun.status))
    for kind, status, n in rows:
        runs.add_metric([str(kind), str(status)], n)
    overdue = GaugeMetricFamily("pcs_runs_overdue", "Runs running longer than expected (10 minutes; bulk work: "
                                "started over an hour ago and not finished), by kind", labels=["kind"])
    now = utcnow()
    late = {}
    for bulk, expected in ((True, EXPECTED_BULK_SLICE), (False, EXPECTED_RUN)):  # one grouped query each
        kinds = [kind for kind, spec in RUN_KINDS.items() if spec.bulk is bulk]
        late.update(db.session.execute(sa.select(SyncRun.kind, sa.func.count()).where(
            SyncRun.kind.in_(kinds), SyncRun.status == RunStatus.RUNNING, SyncRun.started_at < now - expected)
            .group_by(SyncRun.kind)).all())
    for kind in RUN_KINDS:
        overdue.add_metric([str(kind)], late.get(kind, 0))
    yield from (runs, overdue)


def connection_family():
    states = GaugeMetricFamily("pcs_connections", "Google connections by state: trusted_channel (polled every few "
                               "hours), polling (no trusted channel: polled every few minutes), paused (Google's "
                               "use limit), needs_user (reconnect, a permission or a calendar)", labels=["state"])
    now, active = utcnow(), CalendarConnection.syncable()
    counted = sa.func.count().filter  # every state in one pass over the table
    syncing, trusted, paused, needs_user = db.session.execute(sa.select(
        counted(active), counted(sa.and_(active, CalendarConnection.channel_healthy(now))),
        counted(sa.and_(active, CalendarConnection.writes_paused_until > now)),
        counted(CalendarConnection.status != ConnectionStatus.ACTIVE))).one()
    for state, n in (("trusted_channel", trusted), ("polling", syncing - trusted), ("paused", paused),
                     ("needs_user", needs_user)):  # polling: the rest, so a NULL in a channel column counts there
        states.add_metric([state], n)
    return states


def notification_lag_family():
    """The oldest notification not yet followed by a sync: how far behind Google's news the pulls are."""
    waiting = db.session.scalar(sa.select(sa.func.min(CalendarConnection.last_notified_at)).where(
        CalendarConnection.syncable(), CalendarConnection.last_notified_at.is_not(None),
        sa.or_(CalendarConnection.last_synced_at.is_(None),
               CalendarConnection.last_synced_at < CalendarConnection.last_notified_at)))
    lag = GaugeMetricFamily("pcs_notification_to_pull_lag_seconds",
                            "Age of the oldest push notification whose connection has not synced since")
    lag.add_metric([], (utcnow() - waiting).total_seconds() if waiting else 0)
    return lag


def google_families():
    answers = CounterMetricFamily("pcs_google_answers", "Google's answers to Calendar calls (batch members one by "
                                  "one), by HTTP status and Google's reason", labels=["status", "reason"])
    for (status, reason), n in sorted(counted_answers().items()):
        answers.add_metric([status, reason], n)
    yield answers
    used = GaugeMetricFamily("pcs_request_budget_used_ratio", "Share of the project's per-minute Google quota used "
                             "in the current window (1 = every call now waits)")
    used.add_metric([], project_window_used())
    yield used
    down = GaugeMetricFamily("pcs_google_outage", "1 while the project's outage breaker is open: Google answered 5xx "
                             "or nothing six times in a row, and only a probe call goes out every 15 s")
    down.add_metric([], int(project_outage_open()))
    yield down
