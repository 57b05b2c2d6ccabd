"""Scale of the planner (#27): the sweep writes a batch of connections with one UPDATE, whatever its size (on
PostgreSQL one statement, not an executemany of one per connection: 100,000 connections in seconds)."""
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import CalendarConnection, utcnow

from .test_fleet import fleet_of, scheduled_jobs


def test_the_sweep_writes_each_batch_of_connections_with_one_update_and_keeps_what_it_planned(
        app, users, monkeypatch):
    from app.sync import polling
    from jobs.periodic import sweep_connections

    monkeypatch.setattr(polling, "BATCH", 2)  # five connections: three batches
    fleet = fleet_of(users, admin="trusted", manager="trusted", staff="none", client="none", prospect="missed")
    updates = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE CALENDAR_CONNECTION"):
            updates.append(executemany)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        now = utcnow()
        sweep_connections(now)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(updates) == 3
    if db.engine.dialect.name == "postgresql":
        assert not any(updates)
    db.session.expire_all()
    planned = {c.id: db.session.get(CalendarConnection, c.id) for c in fleet.values()}
    assert all(c.next_poll_at and c.next_watch_at for c in planned.values())
    assert len({c.next_poll_at for c in planned.values()}) == len(planned)  # each its own time, not one for all
    # A poll due in this sweep's window was enqueued, and its provisional successor stored beyond the window.
    for (func, connection_id), n in scheduled_jobs().items():
        if func == "poll_connection":
            assert n == 1 and planned[connection_id].next_poll_at > now + timedelta(minutes=5)


def test_planned_times_are_stored_as_given_to_the_microsecond(app, users):
    from app.sync.polling import _store

    fleet = fleet_of(users, admin="trusted", manager="none")
    now = utcnow()
    given = {fleet["admin"].id: (now.replace(microsecond=0), now + timedelta(days=6, microseconds=1)),
             fleet["manager"].id: (now + timedelta(minutes=7, microseconds=999_999), now.replace(microsecond=0))}
    _store([(connection_id, poll_at, watch_at) for connection_id, (poll_at, watch_at) in given.items()])
    db.session.commit()
    db.session.expire_all()
    rows = [db.session.get(CalendarConnection, c) for c in given]
    assert {row.id: (row.next_poll_at, row.next_watch_at) for row in rows} == given
