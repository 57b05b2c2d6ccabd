"""The person's calendar UI: edits made there look like Google changes (etag, sync token, push)."""
import re

import requests

from .conftest import ALEX


def ui(emu):
    return requests.Session()


def week_page(emu, **params):
    params = dict({"account": ALEX, "cal": ALEX, "week": "2030-01-07"}, **params)
    r = requests.get(emu.base_url + "/calendar", params=params)
    assert r.status_code == 200
    return r.text


def save(emu, **fields):
    data = dict(account=ALEX, cal=ALEX, week="2030-01-07", event="", summary="UI event", start_date="2030-01-08",
                start_time="09:00", end_date="2030-01-08", end_time="10:00", time_zone="Europe/Paris",
                repeat="none")
    data.update(fields)
    return requests.post(emu.base_url + "/calendar/event/save", data=data, allow_redirects=False)


def test_ui_create_edit_delete_seen_by_api_sync_and_push(emu, svc, receiver):
    r = svc.events().list(calendarId="primary").execute()
    sync = r["nextSyncToken"]
    svc.events().watch(calendarId="primary", body={"id": "ui-chan", "type": "web_hook",
                                                   "address": receiver.url}).execute()
    receiver.wait_for(1)
    assert save(emu).status_code == 302
    page = week_page(emu)
    ids = re.findall(r'data-event-id="([^"]+)"', page)
    assert len(ids) == 1 and "UI event" in page
    ev = svc.events().get(calendarId="primary", eventId=ids[0]).execute()
    assert ev["start"] == {"dateTime": "2030-01-08T09:00:00+01:00", "timeZone": "Europe/Paris"}
    inc = svc.events().list(calendarId="primary", syncToken=sync).execute()
    assert [i["id"] for i in inc["items"]] == ids
    assert receiver.wait_for(2)[-1]["headers"]["X-Goog-Resource-State"] == "exists"
    # move it to the next day
    assert save(emu, event=ids[0], start_date="2030-01-09", end_date="2030-01-09").status_code == 302
    moved = svc.events().get(calendarId="primary", eventId=ids[0]).execute()
    assert moved["start"]["dateTime"].startswith("2030-01-09") and moved["etag"] != ev["etag"]
    r = requests.post(emu.base_url + "/calendar/event/delete",
                      data={"account": ALEX, "cal": ALEX, "event": ids[0], "week": "2030-01-07"},
                      allow_redirects=False)
    assert r.status_code == 302
    assert svc.events().get(calendarId="primary", eventId=ids[0]).execute()["status"] == "cancelled"


def test_ui_recurring_and_single_instance(emu, svc):
    assert save(emu, summary="Standup", repeat="weekly", repeat_count="4").status_code == 302
    assert save(emu, summary="Offsite", all_day="1", start_date="2030-01-10", end_date="2030-01-11").status_code == 302
    master = [e for e in svc.events().list(calendarId="primary").execute()["items"] if e.get("recurrence")][0]
    assert master["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4"]
    allday = [e for e in svc.events().list(calendarId="primary").execute()["items"] if "date" in e["start"]][0]
    assert allday["end"] == {"date": "2030-01-12"}  # inclusive UI end date -> exclusive API end
    page = week_page(emu, week="2030-01-14")
    inst_id = re.findall(r'data-event-id="([^"]+)"', page)[0]
    assert inst_id.startswith(master["id"] + "_")
    edit = requests.get(emu.base_url + "/calendar/event/edit", params={"account": ALEX, "cal": ALEX,
                                                                       "event": inst_id})
    assert edit.status_code == 200 and 'id="instance-note"' in edit.text
    assert save(emu, event=inst_id, summary="Standup (moved)", start_date="2030-01-16",
                end_date="2030-01-16").status_code == 302
    requests.post(emu.base_url + "/calendar/event/delete", data={"account": ALEX, "cal": ALEX, "week": "2030-01-21",
                                                                  "event": master["id"] + "_20300122T080000Z"})
    inst = svc.events().instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    assert [i.get("summary") for i in inst] == ["Standup", "Standup (moved)", "Standup"]


def test_ui_bad_input_is_a_400_not_a_500(emu):
    r = save(emu, start_date="2030-01-08", end_date="2030-01-07")
    assert r.status_code == 400 and 'id="form-error"' in r.text


def test_ui_save_of_an_unknown_event_is_a_400_not_a_500(emu):
    for missing in ("nosuchevent12345", "nosuchevent12345_20300108T080000Z"):  # plain id, instance-shaped id
        r = save(emu, event=missing)
        assert r.status_code == 400, r.text
        assert '<p class="error" id="form-error">Not Found</p>' in r.text
        assert 'id="repeat"' in r.text  # the form is shown again, not as an instance edit
