"""events.list paging, sync tokens, forbidden combinations, time windows, ordering."""
import json

import pytest
from googleapiclient.errors import HttpError


def err(e):
    b = json.loads(e.content)
    return e.resp.status, b["error"]["errors"][0]["reason"]


def ins(svc, i, day=1, cal="primary", **extra):
    body = {"summary": f"E{i}", "start": {"dateTime": f"2030-05-{day:02d}T{8 + i % 10:02d}:00:00Z"},
            "end": {"dateTime": f"2030-05-{day:02d}T{9 + i % 10:02d}:00:00Z"}}
    body.update(extra)
    return svc.events().insert(calendarId=cal, body=body).execute()


def full_sync(svc, **kw):
    items, token, pages = [], None, 0
    while True:
        r = svc.events().list(calendarId="primary", pageToken=token, **kw).execute()
        pages += 1
        items += r["items"]
        assert not ("nextPageToken" in r and "nextSyncToken" in r)
        token = r.get("nextPageToken")
        if not token:
            return items, r["nextSyncToken"], pages


def test_paging_and_sync_token_only_on_last_page(svc):
    ids = {ins(svc, i, day=1 + i % 20)["id"] for i in range(7)}
    items, sync, pages = full_sync(svc, maxResults=3)
    assert pages == 3 and {i["id"] for i in items} == ids
    r = svc.events().list(calendarId="primary").execute()
    assert len(r["items"]) == 7 and "nextSyncToken" in r and r["kind"] == "calendar#events"
    assert r["accessRole"] == "owner" and r["timeZone"]


def test_incremental_sync_returns_changes_including_deletions(svc):
    a, b, c = ins(svc, 1), ins(svc, 2), ins(svc, 3)
    _, sync, _ = full_sync(svc)
    r = svc.events().list(calendarId="primary", syncToken=sync).execute()
    assert r["items"] == [] and "nextSyncToken" in r
    svc.events().patch(calendarId="primary", eventId=a["id"], body={"summary": "changed"}).execute()
    svc.events().delete(calendarId="primary", eventId=b["id"]).execute()
    d = ins(svc, 4)
    for page_size in (1, 100):
        got, token = {}, None
        while True:
            r = svc.events().list(calendarId="primary", syncToken=sync, pageToken=token, maxResults=page_size).execute()
            got.update({i["id"]: i for i in r["items"]})
            token = r.get("nextPageToken")
            if not token:
                break
        assert set(got) == {a["id"], b["id"], d["id"]}
        assert got[b["id"]]["status"] == "cancelled" and got[a["id"]]["summary"] == "changed"
    sync2 = r["nextSyncToken"]
    assert svc.events().list(calendarId="primary", syncToken=sync2).execute()["items"] == []
    assert c["id"] not in got


def test_changes_during_paging_are_not_lost(svc):
    for i in range(6):
        ins(svc, i)
    r1 = svc.events().list(calendarId="primary", maxResults=2).execute()
    newcomer = ins(svc, 9)
    seen = [i["id"] for i in r1["items"]]
    token = r1["nextPageToken"]
    while token:
        r = svc.events().list(calendarId="primary", maxResults=2, pageToken=token).execute()
        seen += [i["id"] for i in r["items"]]
        token = r.get("nextPageToken")
    assert len(seen) == len(set(seen)) == 6
    inc = svc.events().list(calendarId="primary", syncToken=r["nextSyncToken"]).execute()
    assert [i["id"] for i in inc["items"]] == [newcomer["id"]]


def test_invalid_and_expired_sync_tokens_410(emu, svc):
    ins(svc, 1)
    _, sync, _ = full_sync(svc)
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary", syncToken="garbage").execute()
    assert err(ei.value) == (410, "fullSyncRequired")
    body = json.loads(ei.value.content)["error"]
    assert body["message"] == "Sync token is no longer valid, a full sync is required."
    emu.expire_sync_tokens()
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary", syncToken=sync).execute()
    assert err(ei.value) == (410, "fullSyncRequired")


def test_forbidden_parameter_combinations(svc):
    ins(svc, 1)
    _, sync, _ = full_sync(svc)
    for kw in ({"timeMin": "2030-01-01T00:00:00Z"}, {"q": "x"}, {"orderBy": "updated"},
               {"privateExtendedProperty": "a=b"}, {"updatedMin": "2030-01-01T00:00:00Z"},
               {"iCalUID": "x@google.com"}, {"showDeleted": False}):
        with pytest.raises(HttpError) as ei:
            svc.events().list(calendarId="primary", syncToken=sync, **kw).execute()
        assert ei.value.resp.status == 400, kw
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary", orderBy="startTime").execute()
    assert ei.value.resp.status == 400
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary", timeMin="2030-01-02T00:00:00Z",
                          timeMax="2030-01-01T00:00:00Z").execute()
    assert err(ei.value) == (400, "timeRangeEmpty")


def test_time_window_semantics_and_show_deleted(svc):
    a = ins(svc, 0, day=3)   # 08:00-09:00
    b = ins(svc, 1, day=3)   # 09:00-10:00
    r = svc.events().list(calendarId="primary", timeMin="2030-05-03T09:00:00Z",
                          timeMax="2030-05-03T10:00:00Z").execute()["items"]
    assert [i["id"] for i in r] == [b["id"]]  # timeMin excludes events ending exactly at it
    r = svc.events().list(calendarId="primary", timeMin="2030-05-03T08:30:00Z",
                          timeMax="2030-05-03T09:00:00Z").execute()["items"]
    assert [i["id"] for i in r] == [a["id"]]  # timeMax excludes events starting exactly at it
    svc.events().delete(calendarId="primary", eventId=a["id"]).execute()
    assert [i["id"] for i in svc.events().list(calendarId="primary").execute()["items"]] == [b["id"]]
    shown = svc.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert {i["id"]: i["status"] for i in shown} == {a["id"]: "cancelled", b["id"]: "confirmed"}
    upd = svc.events().list(calendarId="primary", updatedMin=a["updated"]).execute()["items"]
    assert a["id"] in {i["id"] for i in upd}


def test_order_by_start_time_and_q(svc):
    late = ins(svc, 5, day=9)
    early = ins(svc, 2, day=2, description="needle here")
    r = svc.events().list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()["items"]
    assert [i["id"] for i in r] == [early["id"], late["id"]]
    assert [i["id"] for i in svc.events().list(calendarId="primary", q="NEEDLE").execute()["items"]] == [early["id"]]


def test_max_results_capped(svc):
    ins(svc, 1)
    r = svc.events().list(calendarId="primary", maxResults=5000).execute()
    assert len(r["items"]) == 1
