"""Calendar API v3 methods: one handler per method, and the route table that names them.

A handler takes the authenticated, scope-checked `Call` and returns (status, JSON body or None, headers);
`calendar_api.handle_call` does everything around it (auth, quotas, use limits, `fields`, errors).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import errors as E
from . import freebusy
from .conference import conference_version
from .context import Emulator
from .discovery import AUTH
from .events import CalendarService
from .service_core import Calendar

Reply = tuple[int, dict | None, dict[str, str]]
RESTRICTED = {AUTH + "calendar.app.created", AUTH + "calendar.events.owned", AUTH + "calendar.events.owned.readonly"}


@dataclass
class Caller:
    email: str
    client_id: str
    scopes: set[str]


@dataclass
class Call:
    """One authenticated Calendar call: who, which of their scopes allow it, and what it asks."""

    emu: Emulator
    caller: Caller
    allowed: set[str]
    path: dict[str, str]
    params: dict[str, Any]
    payload: Any
    headers: Mapping[str, str]

    @property
    def svc(self) -> CalendarService:
        return self.emu.service

    def header(self, name: str) -> str | None:
        return self.headers.get(name) or self.headers.get(name.lower())

    def calendar(self) -> Calendar:
        """The calendar named in the path, as the caller sees it; restricted scopes reach only their own."""
        cal = self.svc.resolve(self.caller.email, self.path["calendarId"])
        if not self.allowed <= RESTRICTED:
            return cal
        if AUTH + "calendar.app.created" in self.allowed and cal.get("created_by_client") == self.caller.client_id:
            return cal
        if self.allowed & {AUTH + "calendar.events.owned", AUTH + "calendar.events.owned.readonly"} \
                and cal["access_role"] == "owner":
            return cal
        raise E.insufficient_scopes()


def ok(body: dict) -> Reply:
    return 200, body, {}


def with_etag(ev: dict) -> Reply:
    return 200, ev, {"ETag": ev["etag"]}


def calendar_list_list(call: Call) -> Reply:
    return ok(call.svc.calendar_list(call.caller.email, call.params))


def calendar_list_get(call: Call) -> Reply:
    return ok(call.svc.calendar_list_entry(call.calendar()))


def calendars_insert(call: Call) -> Reply:
    return ok(call.svc.insert_calendar(call.caller.email, call.caller.client_id, call.payload))


def calendars_get(call: Call) -> Reply:
    return ok(call.svc.calendar_resource(call.calendar()))


def calendars_delete(call: Call) -> Reply:
    call.svc.delete_calendar(call.calendar())
    return 204, None, {}


def events_list(call: Call) -> Reply:
    return ok(call.svc.list_events(call.calendar(), call.params))


def events_instances(call: Call) -> Reply:
    cal = call.calendar()
    return ok(call.svc.list_events(cal, call.params, instances_of=call.path["eventId"]))


def events_watch(call: Call) -> Reply:
    cal = call.calendar()
    return ok(call.emu.notifier.watch(call.caller.email, call.caller.client_id, cal, call.payload))


def events_insert(call: Call) -> Reply:
    cal = call.calendar()
    return with_etag(call.svc.insert_event(cal, call.caller.email, call.payload, conference_version(call.params)))


def events_get(call: Call) -> Reply:
    cal = call.calendar()
    ev = call.svc.get_event(cal, call.path["eventId"])
    inm = call.header("If-None-Match")
    if inm and ev.get("etag") in [t.strip() for t in inm.split(",")]:
        return 304, None, {"ETag": ev["etag"]}
    return with_etag(ev)


def events_patch(call: Call) -> Reply:
    return _modify(call, replace=False)


def events_update(call: Call) -> Reply:
    return _modify(call, replace=True)


def _modify(call: Call, replace: bool) -> Reply:
    cal = call.calendar()
    return with_etag(call.svc.modify_event(cal, call.caller.email, call.path["eventId"], call.payload,
                                           replace=replace, if_match=call.header("If-Match"),
                                           conference_version=conference_version(call.params)))


def events_delete(call: Call) -> Reply:
    cal = call.calendar()
    call.svc.delete_event(cal, call.path["eventId"], if_match=call.header("If-Match"))
    return 204, None, {}


def freebusy_query(call: Call) -> Reply:
    return ok(freebusy.query(call.svc, call.caller.email, call.payload))


def channels_stop(call: Call) -> Reply:
    call.emu.notifier.stop(call.caller.email, call.payload)
    return 204, None, {}


@dataclass(frozen=True)
class Route:
    http_method: str
    pattern: str
    """Regex on the path below /calendar/v3/."""
    method_id: str
    handler: Callable[[Call], Reply]
    writes: bool = False
    """Refused while the caller's calendar is read-only under Google's use limits."""
    creates: str | None = None
    """"event" or "calendar": counted against the use limits."""


CAL = r"calendars/(?P<calendarId>[^/]+)"
EVENT = CAL + r"/events/(?P<eventId>[^/]+)"
ROUTES = [
    Route("GET", r"users/me/calendarList", "calendar.calendarList.list", calendar_list_list),
    Route("GET", r"users/me/calendarList/(?P<calendarId>[^/]+)", "calendar.calendarList.get", calendar_list_get),
    Route("POST", r"calendars", "calendar.calendars.insert", calendars_insert, writes=True, creates="calendar"),
    Route("GET", CAL, "calendar.calendars.get", calendars_get),
    Route("DELETE", CAL, "calendar.calendars.delete", calendars_delete, writes=True),
    Route("GET", CAL + "/events", "calendar.events.list", events_list),
    Route("POST", CAL + "/events", "calendar.events.insert", events_insert, writes=True, creates="event"),
    Route("POST", CAL + "/events/watch", "calendar.events.watch", events_watch),
    Route("GET", EVENT + "/instances", "calendar.events.instances", events_instances),
    Route("GET", EVENT, "calendar.events.get", events_get),
    Route("PATCH", EVENT, "calendar.events.patch", events_patch, writes=True),
    Route("PUT", EVENT, "calendar.events.update", events_update, writes=True),
    Route("DELETE", EVENT, "calendar.events.delete", events_delete, writes=True),
    Route("POST", r"channels/stop", "calendar.channels.stop", channels_stop),
    Route("POST", r"freeBusy", "calendar.freebusy.query", freebusy_query),
]
