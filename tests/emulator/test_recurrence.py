"""Recurring events: RRULE/EXDATE/RDATE expansion, instance ids, exceptions, singleEvents sync."""
import json

import pytest
from googleapiclient.errors import HttpError

WEEKLY = {"summary": "Weekly", "start": {"dateTime": "2030-01-07T10:00:00", "timeZone": "Europe/Paris"},
          "end": {"dateTime": "2030-01-07T11:00:00", "timeZone": "Europe/Paris"},
          "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/Paris:20300121T100000"]}
WIN = dict(timeMin="2030-01-01T00:00:00Z", timeMax="2030-03-01T00:00:00Z")


def expand(svc, **kw):
    return svc.events().list(calendarId="primary", singleEvents=True, orderBy="startTime", **dict(WIN, **kw)
                             ).execute()["items"]


def test_expansion_ids_and_exdate(svc):
    m = svc.events().insert(calendarId="primary", body=WEEKLY).execute()
    inst = expand(svc)
    assert [i["id"] for i in inst] == [f"{m['id']}_20300107T090000Z", f"{m['id']}_20300114T090000Z",
                                       f"{m['id']}_20300128T090000Z", f"{m['id']}_20300204T090000Z",
                                       f"{m['id']}_20300211T090000Z"]
    first = inst[0]
    assert first["recurringEventId"] == m["id"] and "recurrence" not in first
    assert first["originalStartTime"] == {"dateTime": "2030-01-07T10:00:00+01:00", "timeZone": "Europe/Paris"}
    assert first["start"]["dateTime"] == "2030-01-07T10:00:00+01:00"
    masters = svc.events().list(calendarId="primary", **WIN).execute()["items"]
    assert [e["id"] for e in masters] == [m["id"]] and masters[0]["recurrence"] == WEEKLY["recurrence"]


def test_moved_and_cancelled_instances(svc):
    m = svc.events().insert(calendarId="primary", body=WEEKLY).execute()
    moved_id, gone_id = f"{m['id']}_20300114T090000Z", f"{m['id']}_20300128T090000Z"
    got = svc.events().get(calendarId="primary", eventId=moved_id).execute()
    assert got["recurringEventId"] == m["id"]
    moved = svc.events().patch(calendarId="primary", eventId=moved_id, body={
        "start": {"dateTime": "2030-01-15T15:00:00+01:00"}, "end": {"dateTime": "2030-01-15T16:00:00+01:00"},
        "summary": "Moved"}).execute()
    assert moved["id"] == moved_id and moved["originalStartTime"]["dateTime"] == "2030-01-14T10:00:00+01:00"
    svc.events().delete(calendarId="primary", eventId=gone_id).execute()
    inst = expand(svc)
    ids = [i["id"] for i in inst]
    assert gone_id not in ids and moved_id in ids and len(inst) == 4
    assert [i for i in inst if i["id"] == moved_id][0]["start"]["dateTime"] == "2030-01-15T15:00:00+01:00"
    with_deleted = expand(svc, showDeleted=True)
    assert {i["id"]: i["status"] for i in with_deleted}[gone_id] == "cancelled"
    # singleEvents=false: master plus the exceptions (cancelled ones included)
    raw = svc.events().list(calendarId="primary", **WIN).execute()["items"]
    assert {e["id"] for e in raw} == {m["id"], moved_id, gone_id}
    # events.instances
    inst2 = svc.events().instances(calendarId="primary", eventId=m["id"]).execute()["items"]
    assert [i["id"] for i in inst2] == ids
    with pytest.raises(HttpError) as ei:
        svc.events().delete(calendarId="primary", eventId=gone_id).execute()
    assert ei.value.resp.status == 410


def test_all_day_recurrence_and_rdate(svc):
    m = svc.events().insert(calendarId="primary", body={
        "summary": "Daily", "start": {"date": "2030-02-01"}, "end": {"date": "2030-02-02"},
        "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20300203", "RDATE;VALUE=DATE:20300210"]}).execute()
    ids = [i["id"] for i in expand(svc)]
    assert ids == [f"{m['id']}_{d}" for d in ("20300201", "20300202", "20300203", "20300210")]


def test_recurring_needs_time_zone_and_valid_rule(svc):
    with pytest.raises(HttpError) as ei:
        svc.events().insert(calendarId="primary", body={
            "start": {"dateTime": "2030-01-07T10:00:00Z"}, "end": {"dateTime": "2030-01-07T11:00:00Z"},
            "recurrence": ["RRULE:FREQ=WEEKLY"]}).execute()
    assert "Missing time zone definition for start time." in json.loads(ei.value.content)["error"]["message"]
    with pytest.raises(HttpError) as ei:
        svc.events().insert(calendarId="primary", body=dict(WEEKLY, recurrence=["RRULE:FREQ=SOMETIMES"])).execute()
    assert ei.value.resp.status == 400


def test_infinite_rule_is_capped(svc):
    svc.events().insert(calendarId="primary", body=dict(WEEKLY, recurrence=["RRULE:FREQ=DAILY"])).execute()
    items, token = [], None
    while True:
        r = svc.events().list(calendarId="primary", singleEvents=True, maxResults=2500, pageToken=token).execute()
        items += r["items"]
        token = r.get("nextPageToken")
        if not token:
            break
    assert 700 <= len(items) <= 730


def test_single_events_sync_reports_changed_instances(svc):
    m = svc.events().insert(calendarId="primary", body=WEEKLY).execute()
    r = svc.events().list(calendarId="primary", singleEvents=True).execute()
    assert len(r["items"]) == 5
    sync = r["nextSyncToken"]
    iid = f"{m['id']}_20300204T090000Z"
    svc.events().delete(calendarId="primary", eventId=iid).execute()
    r = svc.events().list(calendarId="primary", singleEvents=True, syncToken=sync).execute()
    assert [(i["id"], i["status"]) for i in r["items"]] == [(iid, "cancelled")]
    sync = r["nextSyncToken"]
    # shortening the series reports the instances that disappear as cancelled
    svc.events().patch(calendarId="primary", eventId=m["id"],
                       body={"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"], "summary": "Short"}).execute()
    r = svc.events().list(calendarId="primary", singleEvents=True, syncToken=sync).execute()
    status = {i["id"]: i["status"] for i in r["items"]}
    assert status[f"{m['id']}_20300107T090000Z"] == "confirmed"
    assert status[f"{m['id']}_20300128T090000Z"] == "cancelled"
    assert status[f"{m['id']}_20300211T090000Z"] == "cancelled"
    sync = r["nextSyncToken"]
    svc.events().delete(calendarId="primary", eventId=m["id"]).execute()
    r = svc.events().list(calendarId="primary", singleEvents=True, syncToken=sync).execute()
    assert r["items"] and all(i["status"] == "cancelled" for i in r["items"])
    assert m["id"] in {i["id"] for i in r["items"]}


def test_single_events_sync_lists_a_changed_exception_once(svc):
    m = svc.events().insert(calendarId="primary", body=WEEKLY).execute()
    iid = f"{m['id']}_20300114T090000Z"
    svc.events().patch(calendarId="primary", eventId=iid, body={"summary": "Moved"}).execute()
    sync = svc.events().list(calendarId="primary", singleEvents=True).execute()["nextSyncToken"]
    # master and exception both change: the exception comes from the master's expansion and on its own
    svc.events().patch(calendarId="primary", eventId=m["id"], body={"description": "new"}).execute()
    svc.events().patch(calendarId="primary", eventId=iid, body={"summary": "Moved again"}).execute()
    r = svc.events().list(calendarId="primary", singleEvents=True, syncToken=sync).execute()
    ids = [i["id"] for i in r["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert {i["id"]: i.get("summary") for i in r["items"]}[iid] == "Moved again"
    svc.events().delete(calendarId="primary", eventId=m["id"]).execute()
    r = svc.events().list(calendarId="primary", singleEvents=True, syncToken=r["nextSyncToken"]).execute()
    ids = [i["id"] for i in r["items"]]
    assert len(ids) == len(set(ids)) and iid in ids
    assert all(i["status"] == "cancelled" for i in r["items"])
