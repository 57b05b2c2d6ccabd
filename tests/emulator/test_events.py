"""events.insert/get/patch/update/delete and field rules, through google-api-python-client."""
import json

import pytest
from googleapiclient.errors import HttpError

from .conftest import ALEX, APP_CREATED, EVENTS, LIST_RO, SAM

T1 = {"dateTime": "2030-01-07T10:00:00+01:00"}
T2 = {"dateTime": "2030-01-07T11:00:00+01:00"}


def err(e: HttpError):
    body = json.loads(e.content)
    return e.resp.status, body["error"]["errors"][0]["reason"], body


def test_calendar_list_has_primary_writer_and_reader(svc):
    items = svc.calendarList().list().execute()["items"]
    by_role = {i["accessRole"]: i for i in items}
    assert set(by_role) == {"owner", "writer", "reader"}
    assert by_role["owner"]["id"] == ALEX and by_role["owner"]["primary"] is True
    assert "primary" not in by_role["reader"]
    assert by_role["writer"]["summary"] == "Team Holidays"
    assert by_role["reader"]["summary"] == "Company Holidays"
    assert all(i["kind"] == "calendar#calendarListEntry" and i["timeZone"] for i in items)


def test_insert_get_server_fields(svc):
    ev = svc.events().insert(calendarId="primary", body={"summary": "A", "start": T1, "end": T2}).execute()
    assert ev["status"] == "confirmed" and ev["kind"] == "calendar#event"
    assert ev["etag"].startswith('"') and ev["etag"].endswith('"') and ev["etag"][1:-1].isdigit()
    assert ev["iCalUID"] == ev["id"] + "@google.com"
    assert ev["creator"] == {"email": ALEX, "self": True} and ev["organizer"]["email"] == ALEX
    assert ev["created"].endswith("Z") and ev["updated"].endswith("Z")
    assert ev["reminders"] == {"useDefault": True} and ev["sequence"] == 0
    got = svc.events().get(calendarId=ALEX, eventId=ev["id"]).execute()
    assert got == ev


def test_client_ids_invalid_and_duplicate(svc):
    body = {"summary": "x", "start": T1, "end": T2}
    with pytest.raises(HttpError) as ei:
        svc.events().insert(calendarId="primary", body=dict(body, id="Bad_ID!")).execute()
    st, reason, b = err(ei.value)
    assert (st, reason) == (400, "invalid") and b["error"]["message"] == "Invalid resource id value."
    with pytest.raises(HttpError):
        svc.events().insert(calendarId="primary", body=dict(body, id="abcw")).execute()  # 'w' and too short
    ok = svc.events().insert(calendarId="primary", body=dict(body, id="portal0001abc")).execute()
    assert ok["id"] == "portal0001abc"
    svc.events().delete(calendarId="primary", eventId="portal0001abc").execute()
    with pytest.raises(HttpError) as ei:  # even a cancelled event keeps its id
        svc.events().insert(calendarId="primary", body=dict(body, id="portal0001abc")).execute()
    st, reason, b = err(ei.value)
    assert (st, reason) == (409, "duplicate")
    assert b["error"]["message"] == "The requested identifier already exists."


def test_etag_changes_and_if_match_412(svc):
    ev = svc.events().insert(calendarId="primary", body={"summary": "A", "start": T1, "end": T2}).execute()
    p = svc.events().patch(calendarId="primary", eventId=ev["id"], body={"summary": "B"}).execute()
    assert p["etag"] != ev["etag"] and p["updated"] >= ev["updated"]
    req = svc.events().patch(calendarId="primary", eventId=ev["id"], body={"summary": "C"})
    req.headers["If-Match"] = ev["etag"]
    with pytest.raises(HttpError) as ei:
        req.execute()
    st, reason, b = err(ei.value)
    assert (st, reason) == (412, "conditionNotMet")
    req = svc.events().patch(calendarId="primary", eventId=ev["id"], body={"summary": "C"})
    req.headers["If-Match"] = p["etag"]
    assert req.execute()["summary"] == "C"


def test_patch_merges_update_replaces(svc):
    ev = svc.events().insert(calendarId="primary", body={
        "summary": "A", "description": "d", "start": T1, "end": T2,
        "extendedProperties": {"private": {"a": "1", "b": "2"}}}).execute()
    p = svc.events().patch(calendarId="primary", eventId=ev["id"],
                           body={"extendedProperties": {"private": {"b": None, "c": "3"}}}).execute()
    assert p["extendedProperties"]["private"] == {"a": "1", "c": "3"} and p["description"] == "d"
    u = svc.events().update(calendarId="primary", eventId=ev["id"],
                            body={"summary": "U", "start": T1, "end": T2}).execute()
    assert "description" not in u and "extendedProperties" not in u and u["summary"] == "U"
    assert u["created"] == ev["created"] and u["iCalUID"] == ev["iCalUID"]


def test_delete_cancelled_get_and_410(svc):
    ev = svc.events().insert(calendarId="primary", body={"summary": "A", "start": T1, "end": T2}).execute()
    assert svc.events().delete(calendarId="primary", eventId=ev["id"]).execute() == ""
    got = svc.events().get(calendarId="primary", eventId=ev["id"]).execute()
    assert got["status"] == "cancelled"
    with pytest.raises(HttpError) as ei:
        svc.events().delete(calendarId="primary", eventId=ev["id"]).execute()
    assert err(ei.value)[:2] == (410, "deleted")
    with pytest.raises(HttpError) as ei:
        svc.events().get(calendarId="primary", eventId="nosuchevent1").execute()
    assert err(ei.value)[:2] == (404, "notFound")


def test_all_day_and_time_rules(svc):
    ev = svc.events().insert(calendarId="primary", body={
        "summary": "Holiday", "start": {"date": "2030-03-01"}, "end": {"date": "2030-03-02"}}).execute()
    assert ev["start"] == {"date": "2030-03-01"} and ev["end"] == {"date": "2030-03-02"}
    items = svc.events().list(calendarId="primary", timeMin="2030-03-02T00:00:00Z",
                              timeMax="2030-03-03T00:00:00Z").execute()["items"]
    assert items == []  # end date is exclusive
    items = svc.events().list(calendarId="primary", timeMin="2030-03-01T12:00:00Z",
                              timeMax="2030-03-01T13:00:00Z").execute()["items"]
    assert [i["id"] for i in items] == [ev["id"]]
    for bad in ({"start": {"date": "2030-03-02"}, "end": {"date": "2030-03-01"}},
                {"start": T2, "end": T1}):
        with pytest.raises(HttpError) as ei:
            svc.events().insert(calendarId="primary", body=dict(bad, summary="x")).execute()
        assert err(ei.value)[:2] == (400, "timeRangeEmpty")
    with pytest.raises(HttpError) as ei:
        svc.events().insert(calendarId="primary", body={"start": {"dateTime": "2030-01-01T10:00:00"},
                                                        "end": {"dateTime": "2030-01-01T11:00:00"}}).execute()
    assert ei.value.resp.status == 400 and "time zone" in err(ei.value)[2]["error"]["message"]
    with pytest.raises(HttpError) as ei:
        svc.events().insert(calendarId="primary", body={"start": T1}).execute()
    assert err(ei.value)[:2] == (400, "required")


def test_time_zone_local_datetime(svc):
    ev = svc.events().insert(calendarId="primary", body={
        "start": {"dateTime": "2030-07-01T09:00:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2030-07-01T10:00:00", "timeZone": "Europe/Paris"}}).execute()
    assert ev["start"] == {"dateTime": "2030-07-01T09:00:00+02:00", "timeZone": "Europe/Paris"}
    hit = svc.events().list(calendarId="primary", timeMin="2030-07-01T07:30:00Z",
                            timeMax="2030-07-01T07:45:00Z").execute()["items"]
    assert [i["id"] for i in hit] == [ev["id"]]


def test_reminders_rules(svc):
    base = {"start": T1, "end": T2}
    ok = svc.events().insert(calendarId="primary", body=dict(base, reminders={
        "useDefault": False, "overrides": [{"method": "popup", "minutes": 30}]})).execute()
    assert ok["reminders"]["overrides"][0]["minutes"] == 30
    cases = [({"useDefault": True, "overrides": [{"method": "popup", "minutes": 1}]},
              "cannotUseDefaultRemindersAndSpecifyOverride"),
             ({"useDefault": False, "overrides": [{"method": "popup", "minutes": i} for i in range(6)]},
              "eventRemindersCountExceedsLimit"),
             ({"useDefault": False, "overrides": [{"method": "sms", "minutes": 1}]}, "invalid"),
             ({"useDefault": False, "overrides": [{"method": "email", "minutes": 40321}]}, "invalid")]
    for rem, reason in cases:
        with pytest.raises(HttpError) as ei:
            svc.events().insert(calendarId="primary", body=dict(base, reminders=rem)).execute()
        assert err(ei.value)[:2] == (400, reason)


def test_extended_properties_filter_and_limits(svc):
    mk = lambda p: svc.events().insert(calendarId="primary", body={  # noqa: E731
        "start": T1, "end": T2, "extendedProperties": {"private": p}}).execute()
    a = mk({"portal": "1", "kind": "booking"})
    mk({"portal": "1", "kind": "other"})
    mk({"portal": "2"})
    long = mk({"k" * 45: "dropped", "v": "x" * 2000})
    assert long["extendedProperties"]["private"] == {"v": "x" * 1024}
    items = svc.events().list(calendarId="primary", privateExtendedProperty=["portal=1", "kind=booking"]
                              ).execute()["items"]
    assert [i["id"] for i in items] == [a["id"]]
    assert len(svc.events().list(calendarId="primary", privateExtendedProperty="portal=1").execute()["items"]) == 2


def test_conference_data(svc):
    body = {"start": T1, "end": T2, "conferenceData": {"createRequest": {
        "requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}}
    plain = svc.events().insert(calendarId="primary", body=body).execute()
    assert "conferenceData" not in plain and "hangoutLink" not in plain
    ev = svc.events().insert(calendarId="primary", body=body, conferenceDataVersion=1).execute()
    cd = ev["conferenceData"]
    assert cd["createRequest"]["status"]["statusCode"] == "success"
    assert cd["entryPoints"][0]["entryPointType"] == "video"
    assert ev["hangoutLink"] == cd["entryPoints"][0]["uri"] and ev["hangoutLink"].startswith("https://meet.google.com/")
    again = svc.events().patch(calendarId="primary", eventId=ev["id"], body=body, conferenceDataVersion=1,
                               sendUpdates="all").execute()
    assert again["hangoutLink"] == ev["hangoutLink"]


def test_reader_calendar_is_read_only(svc):
    reader = [c for c in svc.calendarList().list().execute()["items"] if c["accessRole"] == "reader"][0]
    svc.events().list(calendarId=reader["id"]).execute()
    with pytest.raises(HttpError) as ei:
        svc.events().insert(calendarId=reader["id"], body={"start": T1, "end": T2}).execute()
    assert ei.value.resp.status == 403


def test_scope_denial_exact_body(make_service):
    s = make_service(scopes=[LIST_RO])
    s.calendarList().list().execute()
    with pytest.raises(HttpError) as ei:
        s.events().list(calendarId="primary").execute()
    st, reason, body = err(ei.value)
    assert (st, reason) == (403, "insufficientPermissions")
    assert body["error"]["message"] == "Request had insufficient authentication scopes."
    assert body["error"]["errors"][0]["domain"] == "global"
    assert body["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    e = make_service(scopes=[EVENTS])
    with pytest.raises(HttpError) as ei:
        e.calendarList().list().execute()
    assert err(ei.value)[:2] == (403, "insufficientPermissions")


def test_app_created_calendar(make_service):
    s = make_service(scopes=[APP_CREATED])
    cal = s.calendars().insert(body={"summary": "Portal bookings", "timeZone": "Europe/Paris"}).execute()
    assert cal["id"].endswith("@group.calendar.google.com") and cal["timeZone"] == "Europe/Paris"
    ev = s.events().insert(calendarId=cal["id"], body={"start": T1, "end": T2}).execute()
    assert ev["organizer"]["email"] == cal["id"]
    with pytest.raises(HttpError) as ei:  # not an app-created calendar
        s.events().list(calendarId="primary").execute()
    assert ei.value.resp.status == 403
    full = make_service(scopes=[LIST_RO])
    entry = [c for c in full.calendarList().list().execute()["items"] if c["id"] == cal["id"]][0]
    assert entry["accessRole"] == "owner"


def test_unauthenticated_and_bad_token_raw_wire(emu):
    """Raw wire check of the 401 bodies (the client library would try to refresh first)."""
    import requests
    url = emu.api_endpoint + "calendars/primary/events"
    r = requests.get(url, headers={"Authorization": "Bearer ya29.bogus"})
    body = r.json()["error"]
    assert r.status_code == 401 and body["errors"][0]["reason"] == "authError"
    assert body["message"] == "Invalid Credentials" and body["errors"][0]["location"] == "Authorization"
    r = requests.get(url)
    assert r.status_code == 401 and r.json()["error"]["message"] == "Login Required."


def test_other_users_calendar_not_found(make_service):
    with pytest.raises(HttpError) as ei:
        make_service().events().list(calendarId=SAM).execute()
    assert err(ei.value)[:2] == (404, "notFound")


def test_if_match_on_delete_and_if_none_match_on_get(svc):
    ev = svc.events().insert(calendarId="primary", body={"start": T1, "end": T2}).execute()
    svc.events().patch(calendarId="primary", eventId=ev["id"], body={"summary": "x"}).execute()
    req = svc.events().delete(calendarId="primary", eventId=ev["id"])
    req.headers["If-Match"] = ev["etag"]
    with pytest.raises(HttpError) as ei:
        req.execute()
    assert err(ei.value)[:2] == (412, "conditionNotMet")
    cur = svc.events().get(calendarId="primary", eventId=ev["id"]).execute()
    req = svc.events().get(calendarId="primary", eventId=ev["id"])
    req.headers["If-None-Match"] = cur["etag"]
    with pytest.raises(HttpError) as ei:
        req.execute()
    assert ei.value.resp.status == 304


def test_calendar_list_sync_token(svc):
    r = svc.calendarList().list().execute()
    again = svc.calendarList().list(syncToken=r["nextSyncToken"]).execute()
    assert "nextSyncToken" in again
    with pytest.raises(HttpError) as ei:
        svc.calendarList().list(syncToken="bogus").execute()
    assert ei.value.resp.status == 410
