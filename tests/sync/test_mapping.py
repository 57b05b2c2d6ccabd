"""Fast unit tests of the pure mapping between portal items and Google events (no app, no database).

Time zones, all-day ends, DST edges, hash stability, and what is not taken from Google.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.models import Appointment, CalendarConnection, Event, Task, User
from app.sync.mapping import (
    NO_DUE_DATE,
    NotPushable,
    apply_event_to_item,
    content_hash,
    differing_fields,
    event_body,
    event_id_for,
    event_span,
    item_times,
    parse_google_time,
    portal_ref,
    snapshot,
)

CONNECTION = CalendarConnection(id=7, company_id=3, user_id=11, calendar_id="alex@example.com")
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
         "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati", "America/Adak"]


def task(**fields) -> Task:
    return Task(id=1, company_id=3, title="Send documents", notes="", assignees=[User(timezone="Europe/Paris")],
                **fields)


def event(**fields) -> Event:
    defaults = {"id": 2, "company_id": 3, "title": "Planning", "description": "", "location": "", "all_day": False,
                "timezone": "Europe/London"}
    return Event(**{**defaults, **fields})


# -- ids and references -----------------------------------------------------------------------

def test_event_ids_are_deterministic_base32hex_and_name_the_target():
    first = event_id_for(CONNECTION, "task", 1)
    assert first == event_id_for(CalendarConnection(id=99, company_id=3, user_id=11, calendar_id="alex@example.com"),
                                 "task", 1)  # the same target, whatever the row id: retries are idempotent
    assert set(first) <= set("0123456789abcdefghijklmnopqrstuv") and 5 <= len(first) <= 1024
    others = {event_id_for(CONNECTION, "event", 1), event_id_for(CONNECTION, "task", 2),
              event_id_for(CalendarConnection(id=7, company_id=3, user_id=11, calendar_id="other"), "task", 1)}
    assert first not in others and len(others) == 3


def test_portal_ref_reads_only_well_formed_references():
    body = event_body(CONNECTION, task(due_date=date(2030, 1, 2)))
    assert portal_ref(body) == ("task", 1, 7)
    for private in ({}, {"portalRef": "task:x", "portalConnection": "7"},
                    {"portalRef": "user:1", "portalConnection": "7"}, {"portalRef": "task:1", "portalConnection": ""}):
        assert portal_ref({"extendedProperties": {"private": private}}) is None
    assert portal_ref({"status": "cancelled"}) is None  # what Google shows of a deleted event


# -- all-day and timed ------------------------------------------------------------------------

def test_all_day_items_get_googles_exclusive_end():
    start, end = item_times(event(all_day=True, start_date=date(2030, 12, 30), end_date=date(2031, 1, 1)))
    assert (start, end) == ({"date": "2030-12-30"}, {"date": "2031-01-02"})
    assert item_times(task(due_date=date(2030, 2, 28))) == ({"date": "2030-02-28"}, {"date": "2030-03-01"})


def test_timed_items_are_utc_instants_with_their_zone():
    start, end = item_times(event(start_at=datetime(2030, 7, 1, 8), end_at=datetime(2030, 7, 1, 9),
                                  timezone="America/New_York"))
    assert start == {"dateTime": "2030-07-01T08:00:00Z", "timeZone": "America/New_York"}
    assert end["dateTime"] == "2030-07-01T09:00:00Z"
    due = item_times(task(due_at=datetime(2030, 7, 1, 8)))
    assert due[0]["timeZone"] == "Europe/Paris" and due[1]["dateTime"] == "2030-07-01T08:30:00Z"


def test_an_undated_task_is_deliberately_not_pushed():
    with pytest.raises(NotPushable, match="no due date"):
        event_body(CONNECTION, task())
    assert str(NotPushable(NO_DUE_DATE)).startswith("it has no due date")
    assert snapshot(task())["start"] is None  # the history can still describe it


@pytest.mark.parametrize(("local", "zone", "utc"), [
    ("2027-03-28T01:30:00", "Europe/London", datetime(2027, 3, 28, 1, 30)),  # in the spring gap: read as GMT
    ("2027-10-31T01:30:00", "Europe/London", datetime(2027, 10, 31, 0, 30)),  # ambiguous: the first (BST)
    ("2027-01-15T09:00:00", "America/New_York", datetime(2027, 1, 15, 14, 0)),
    ("2027-01-15T09:00:00-05:00", "Asia/Tokyo", datetime(2027, 1, 15, 14, 0)),  # an offset wins over the zone
    ("2027-06-01T12:00:00Z", None, datetime(2027, 6, 1, 12, 0)),
    ("2027-06-01T12:00:00", "Not/AZone", datetime(2027, 6, 1, 12, 0)),  # unknown zone: UTC, never a crash
])
def test_google_times_become_naive_utc(local, zone, utc):
    value = {"dateTime": local} | ({"timeZone": zone} if zone else {})
    assert parse_google_time(value) == (False, utc)


def test_event_span_turns_googles_exclusive_end_back_into_the_last_day():
    assert event_span({"start": {"date": "2030-01-01"}, "end": {"date": "2030-01-04"}}) == (
        True, date(2030, 1, 1), date(2030, 1, 3))
    assert event_span({"start": {"date": "2030-01-01"}, "end": {"date": "2030-01-01"}})[2] == date(2030, 1, 1)


# -- the content hash -----------------------------------------------------------------------

def test_the_content_hash_is_stable_across_releases():
    """Stored per link: if these bytes changed, every link would look edited after an upgrade.
    (The value is the one the release before this test computed.)"""
    body = {"summary": "Planning", "description": "Agenda", "location": "HQ",
            "start": {"dateTime": "2030-07-01T08:00:00Z", "timeZone": "Europe/London"},
            "end": {"date": "2030-07-02"}}
    assert content_hash(body) == "d261b708dfbec93928644c579969de7eb6254b8de7f631617dcb98d67972fac2"


def test_the_hash_ignores_what_we_do_not_sync_and_how_google_writes_an_instant():
    ours = event_body(CONNECTION, event(start_at=datetime(2030, 7, 1, 8), end_at=datetime(2030, 7, 1, 9)))
    google = {**ours, "etag": '"1"', "htmlLink": "x", "updated": "2030-01-01T00:00:00Z", "status": "confirmed",
              "start": {"dateTime": "2030-07-01T09:00:00+01:00", "timeZone": "Europe/London"},
              "end": {"dateTime": "2030-07-01T04:00:00-05:00"}}
    assert content_hash(google) == content_hash(ours) and differing_fields(google, ours) == []
    assert differing_fields({**google, "summary": "x", "location": "y"}, ours) == ["title", "location"]


# -- what is taken from Google ------------------------------------------------------------------

@pytest.mark.parametrize("title", ["", "   ", "x" * 201, "x" * 3000])
def test_a_title_the_portal_cannot_hold_is_not_taken(title):
    item = task(due_date=date(2030, 1, 1))
    body = {**event_body(CONNECTION, item), "summary": title}
    assert "title" not in apply_event_to_item(body, item) and item.title == "Send documents"
    assert differing_fields(body, event_body(CONNECTION, item)) == ["title"]  # so the caller writes it back


def test_over_long_text_is_not_cut_short():
    item = event(start_at=datetime(2030, 7, 1, 8), end_at=datetime(2030, 7, 1, 9), location="HQ")
    body = {**event_body(CONNECTION, item), "location": "L" * 256, "description": "D" * 5001}
    assert apply_event_to_item(body, item) == {} and item.location == "HQ" and item.description == ""


def test_an_appointment_keeps_its_times_when_made_all_day_in_google():
    item = Appointment(id=3, company_id=3, title="Consultation", start_at=datetime(2030, 7, 1, 8),
                       end_at=datetime(2030, 7, 1, 9), timezone="UTC", location="", meeting_link="https://meet/x",
                       staff=User(name="S", email="s@x"), contact=User(name="C", email="c@x"))
    body = {**event_body(CONNECTION, item), "start": {"date": "2030-07-01"}, "end": {"date": "2030-07-02"}}
    assert apply_event_to_item(body, item) == {} and item.start_at == datetime(2030, 7, 1, 8)
    assert event_body(CONNECTION, item)["location"] == "https://meet/x"  # the link stands in for a place


# -- properties ---------------------------------------------------------------------------------

days = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 30))


@given(first=days, length=st.integers(min_value=0, max_value=60))
def test_all_day_spans_survive_the_round_trip(first, length):
    last = min(first + timedelta(days=length), date(2100, 12, 31))
    item = event(all_day=True, start_date=first, end_date=last)
    start, end = item_times(item)
    assert event_span({"start": start, "end": end}) == (True, first, last)


@given(instant=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)),
       minutes=st.integers(min_value=1, max_value=24 * 60), zone=st.sampled_from(ZONES))
def test_timed_spans_survive_the_round_trip_and_any_offset_google_uses(instant, minutes, zone):
    instant = instant.replace(microsecond=0)
    item = event(start_at=instant, end_at=instant + timedelta(minutes=minutes), timezone=zone)
    body = event_body(CONNECTION, item)
    assert event_span(body) == (False, item.start_at, item.end_at)
    local = instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    google = {**body, "start": {"dateTime": local.isoformat(), "timeZone": zone}}
    assert content_hash(google) == content_hash(body)


@given(title=st.text(min_size=1, max_size=200).map(str.strip).filter(bool),
       notes=st.text(max_size=300))
def test_google_text_the_portal_can_hold_is_taken_exactly(title, notes):
    item = task(due_date=date(2030, 1, 1))
    body = {**event_body(CONNECTION, item), "summary": title, "description": notes}
    apply_event_to_item(body, item)
    assert content_hash(event_body(CONNECTION, item)) == content_hash(body)
