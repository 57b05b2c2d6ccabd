"""`fields` partial responses and gzip, as google-api-python-client (httplib2) asks for them."""
import json

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.model import JsonModel

T = {"summary": "Dentist", "location": "Main St", "start": {"dateTime": "2030-01-07T10:00:00Z"},
     "end": {"dateTime": "2030-01-07T11:00:00Z"}}


def test_list_with_items_subselection_and_page_token(svc):
    for i in range(3):
        svc.events().insert(calendarId="primary", body=dict(T, summary=f"E{i}")).execute()
    r = svc.events().list(calendarId="primary", maxResults=2, fields="items(id,status),nextPageToken").execute()
    assert set(r) == {"items", "nextPageToken"}
    assert [set(i) for i in r["items"]] == [{"id", "status"}] * 2


def test_nested_paths_and_star(svc):
    ev = svc.events().insert(calendarId="primary", body=T, fields="id,start/dateTime").execute()
    assert set(ev) == {"id", "start"} and set(ev["start"]) == {"dateTime"}
    full = svc.events().get(calendarId="primary", eventId=ev["id"], fields="*").execute()
    assert full["summary"] == "Dentist" and full["location"] == "Main St"
    r = svc.events().list(calendarId="primary", fields="items(summary,end(dateTime)),kind").execute()
    assert r == {"kind": "calendar#events", "items": [{"summary": "Dentist",
                                                       "end": {"dateTime": full["end"]["dateTime"]}}]}


def test_bad_selector_is_400_invalid_parameter(svc):
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary", fields="items(id").execute()
    error = json.loads(ei.value.content)["error"]
    assert ei.value.resp.status == 400
    assert error["errors"][0]["reason"] == "invalidParameter" and error["errors"][0]["location"] == "fields"


def test_fields_apply_inside_a_batch(svc, new_batch):
    results = {}
    batch = new_batch(lambda rid, resp, exc: results.__setitem__(rid, resp))
    batch.add(svc.events().insert(calendarId="primary", body=T, fields="id"), request_id="a")
    batch.add(svc.calendarList().list(fields="items(id)"), request_id="b")
    batch.execute()
    assert set(results["a"]) == {"id"}
    assert all(set(i) == {"id"} for i in results["b"]["items"])


def answered(request) -> tuple[dict, object]:
    """Execute and keep httplib2's response headers (httplib2 moves a decoded `content-encoding` to
    `-content-encoding`)."""
    seen = []
    model = JsonModel()

    def keep(resp, content):
        seen.append(resp)
        return model.response(resp, content)

    request.postproc = keep
    return request.execute(), seen[0]


def test_json_answers_are_gzipped_when_asked(svc):
    svc.events().insert(calendarId="primary", body=T).execute()
    body, resp = answered(svc.events().list(calendarId="primary"))
    assert resp.get("-content-encoding") == "gzip" and body["items"][0]["summary"] == "Dentist"
    plain = svc.events().list(calendarId="primary")
    plain.headers["accept-encoding"] = "identity"
    body, resp = answered(plain)
    assert "-content-encoding" not in resp and "content-encoding" not in resp
    assert body["items"][0]["summary"] == "Dentist"
