"""In-process checks of shared emulator helpers (no HTTP): after-commit hooks and the time-window rule."""
import datetime as dt

from google_emulator.events import CalendarService
from google_emulator.storage import Store
from google_emulator.timeutil import UTC, overlaps


def test_keyed_after_commit_hooks_run_once_per_transaction(tmp_path):
    store = Store(str(tmp_path / "emu.sqlite3"))
    ran = []
    with store.tx():
        for _ in range(3):
            store.after_commit(lambda: ran.append("a"), key=("changed", "a"))
            store.after_commit(lambda: ran.append("b"), key=("changed", "b"))
            store.after_commit(lambda: ran.append("plain"))
        with store.tx():  # nested: same transaction, same keys
            store.after_commit(lambda: ran.append("a"), key=("changed", "a"))
        assert ran == []
    assert ran == ["a", "b", "plain", "plain", "plain"]
    ran.clear()
    try:
        with store.tx():
            store.after_commit(lambda: ran.append("a"), key=("changed", "a"))
            raise RuntimeError
    except RuntimeError:
        pass
    with store.tx():  # keys do not leak from a rolled-back or committed transaction
        store.after_commit(lambda: ran.append("a"), key=("changed", "a"))
    store.after_commit(lambda: ran.append("now"), key=("changed", "a"))  # outside a transaction: runs at once
    assert ran == ["a", "now"]


def test_bulk_event_write_notifies_the_calendar_once(tmp_path):
    calls = []
    svc = CalendarService(Store(str(tmp_path / "emu.sqlite3")), "http://emu.test", on_change=calls.append)
    email = svc.ensure_account("kim@example.com", default_calendars=False)
    cal = svc.resolve(email, "primary")
    m = svc.insert_event(cal, email, {"summary": "Daily", "recurrence": ["RRULE:FREQ=DAILY;COUNT=30"],
                                      "start": {"dateTime": "2030-01-07T10:00:00", "timeZone": "UTC"},
                                      "end": {"dateTime": "2030-01-07T11:00:00", "timeZone": "UTC"}})
    assert calls == [email]
    calls.clear()
    # shortening the series writes the master plus 29 cancelled instances in one transaction
    svc.modify_event(cal, email, m["id"], {"recurrence": ["RRULE:FREQ=DAILY;COUNT=1"]}, replace=False)
    assert len([e for e in svc.dump(email) if e["status"] == "cancelled"]) == 29
    assert calls == [email]


def test_overlaps_window_rule():
    t = lambda h: dt.datetime(2030, 1, 1, h, tzinfo=UTC)  # noqa: E731
    assert overlaps(t(9), t(11), t(10), t(12))
    assert not overlaps(t(9), t(10), t(10), t(12))  # ends exactly at tmin
    assert overlaps(t(9), t(10), t(10), t(12), closed=True)  # ...kept by events.instances
    assert overlaps(t(10), t(10), t(10), t(12))  # zero-length at tmin
    assert not overlaps(t(12), t(13), t(10), t(12))  # starts at tmax
    assert overlaps(t(1), t(2), None, None) and overlaps(t(1), t(2), None, t(3))
