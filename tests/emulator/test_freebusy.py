"""freebusy.query through google-api-python-client: busy intervals only, per-calendar errors inside a 200,
Google's limits and scope checks (issue #25)."""
import pytest
from googleapiclient.errors import HttpError

from .conftest import ALEX, AUTH, EVENTS, SAM
from .test_events import err

FREEBUSY = AUTH + "calendar.freebusy"
RANGE = {"timeMin": "2030-01-07T00:00:00Z", "timeMax": "2030-01-08T00:00:00Z"}


def at(hour: int, minute: int = 0) -> dict:
    return {"dateTime": f"2030-01-07T{hour:02d}:{minute:02d}:00Z"}


@pytest.fixture
def alex_day(make_service):
    """Alex's 7 January 2030: two overlapping meetings, one free-marked event, one cancelled, one weekly series
    starting the week before, and one that runs past midnight."""
    events = make_service(ALEX, scopes=(EVENTS,)).events()
    for body in ({"summary": "Board", "start": at(9), "end": at(10)},
                 {"summary": "Board overrun", "start": at(9, 30), "end": at(10, 30)},
                 {"summary": "Lunch (free)", "start": at(12), "end": at(13), "transparency": "transparent"},
                 {"summary": "Weekly", "start": {"dateTime": "2029-12-31T15:00:00Z", "timeZone": "UTC"},
                  "end": {"dateTime": "2029-12-31T16:00:00Z", "timeZone": "UTC"},
                  "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"]},
                 {"summary": "Late", "start": at(23), "end": {"dateTime": "2030-01-08T01:00:00Z"}}):
        events.insert(calendarId="primary", body=body).execute()
    gone = events.insert(calendarId="primary", body={"summary": "Gone", "start": at(17), "end": at(18)}).execute()
    events.delete(calendarId="primary", eventId=gone["id"]).execute()


def test_busy_intervals_are_merged_clipped_and_tell_nothing_else(make_service, alex_day):
    answer = make_service(ALEX, scopes=(FREEBUSY,)).freebusy().query(
        body={**RANGE, "items": [{"id": ALEX}]}).execute()
    assert answer["kind"] == "calendar#freeBusy"
    assert (answer["timeMin"], answer["timeMax"]) == ("2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z")
    assert answer["calendars"] == {ALEX: {"busy": [
        {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T10:30:00Z"},
        {"start": "2030-01-07T15:00:00Z", "end": "2030-01-07T16:00:00Z"},
        {"start": "2030-01-07T23:00:00Z", "end": "2030-01-08T00:00:00Z"}]}}


def test_the_answer_is_in_the_asked_time_zone_and_primary_is_an_alias(make_service, alex_day):
    answer = make_service(ALEX, scopes=(FREEBUSY,)).freebusy().query(
        body={**RANGE, "timeZone": "Europe/Berlin", "items": [{"id": "primary"}]}).execute()
    assert answer["calendars"]["primary"]["busy"][0] == {"start": "2030-01-07T10:00:00+01:00",
                                                         "end": "2030-01-07T11:30:00+01:00"}


def test_a_calendar_not_seen_answers_not_found_inside_a_200(make_service):
    answer = make_service(ALEX, scopes=(FREEBUSY,)).freebusy().query(
        body={**RANGE, "items": [{"id": SAM}, {"id": "nobody@example.com"}, {"id": ALEX}]}).execute()
    for unseen in (SAM, "nobody@example.com"):
        assert answer["calendars"][unseen] == {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
    assert answer["calendars"][ALEX] == {"busy": []}


def test_calendars_past_the_expansion_limit_answer_too_many(make_service):
    items = [{"id": ALEX}] + [{"id": f"c{n}@example.com"} for n in range(51)]
    answer = make_service(ALEX, scopes=(FREEBUSY,)).freebusy().query(body={**RANGE, "items": items}).execute()
    assert answer["calendars"]["c48@example.com"]["errors"][0]["reason"] == "notFound"  # the 50th: asked
    assert answer["calendars"]["c49@example.com"]["errors"] == [{"domain": "usageLimits",
                                                                 "reason": "tooManyCalendarsRequested"}]
    limited = make_service(ALEX, scopes=(FREEBUSY,)).freebusy().query(
        body={**RANGE, "calendarExpansionMax": 1, "items": items[:2]}).execute()
    assert limited["calendars"]["c0@example.com"]["errors"][0]["reason"] == "tooManyCalendarsRequested"


@pytest.mark.parametrize("body, reason", [
    ({"timeMin": "2030-01-08T00:00:00Z", "timeMax": "2030-01-07T00:00:00Z"}, "timeRangeEmpty"),
    ({"timeMin": "2030-01-01T00:00:00Z", "timeMax": "2030-06-01T00:00:00Z"}, "timeRangeTooLong"),
    ({"timeMax": "2030-01-07T00:00:00Z"}, "required"),
    ({**RANGE, "timeMin": "2030-01-07"}, "invalid"),
    ({**RANGE, "timeZone": "Mars/Olympus"}, "invalid"),
    ({**RANGE, "calendarExpansionMax": 51}, "invalid"),
    ({**RANGE, "items": [{"name": ALEX}]}, "invalid"),
])
def test_bad_queries_are_400_with_googles_reasons(make_service, body, reason):
    with pytest.raises(HttpError) as caught:
        make_service(ALEX, scopes=(FREEBUSY,)).freebusy().query(body=body).execute()
    assert err(caught.value)[:2] == (400, reason)


def test_the_scopes_that_allow_it_and_one_that_does_not(make_service):
    for scope in (FREEBUSY, AUTH + "calendar.events.freebusy", AUTH + "calendar.readonly", AUTH + "calendar"):
        make_service(ALEX, scopes=(scope,)).freebusy().query(body={**RANGE, "items": [{"id": ALEX}]}).execute()
    with pytest.raises(HttpError) as caught:
        make_service(ALEX, scopes=(EVENTS,)).freebusy().query(body={**RANGE, "items": [{"id": ALEX}]}).execute()
    assert err(caught.value)[:2] == (403, "insufficientPermissions")
