"""events.list and events.instances: filters, paging, sync tokens, and what a deleted event shows.

A page token pins the calendar's change sequence at the first page (`S`), the sync base (`b`) and the
sort key of the last item returned (`a`), so pages never skip or repeat while writes go on. A sync
token is the change sequence a list ended at; an incremental list returns every row changed since.
Cancelled events come back with only what Google guarantees (see `listed_form`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import errors as E
from .codec import as_bool, b64, unb64
from .instances import HORIZON_PAST_DAYS, InstancesMixin, event_overlaps
from .service_core import DEFAULT_REMINDERS, WRITER_ROLES, Calendar, Event
from .timeutil import bound, fmt_utc, now, parse_rfc3339

UPDATED_MIN_MAX_AGE = dt.timedelta(days=28)
NOT_WITH_SYNC_TOKEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty",
                       "timeMin", "timeMax", "updatedMin")
FINGERPRINTED = ("singleEvents", "orderBy", "timeMin", "timeMax", "q", "iCalUID", "privateExtendedProperty",
                 "sharedExtendedProperty", "updatedMin", "showDeleted")
DELETED_FIELDS = ("kind", "etag", "id", "status", "recurringEventId", "originalStartTime")
"""All a listed cancelled event carries: Google guarantees only `id` (Events resource, `status`)."""


@dataclass
class ListQuery:
    """The validated parameters of one events.list or events.instances call."""

    single: bool
    instances_of: str | None
    order: str | None
    sync_token: str | None
    page_token: str | None
    show_deleted: bool
    max_results: int
    tmin: dt.datetime | None
    tmax: dt.datetime | None
    updated_min: dt.datetime | None
    private_props: list[str]
    shared_props: list[str]
    text: str
    ical_uid: str | None
    fingerprint: str

    @classmethod
    def parse(cls, params: dict, instances_of: str | None) -> ListQuery:
        single = as_bool(params.get("singleEvents")) or instances_of is not None
        order = params.get("orderBy")
        sync_token = params.get("syncToken")
        show_deleted = as_bool(params.get("showDeleted"))
        if order not in (None, "startTime", "updated"):
            raise E.invalid("Invalid value for: orderBy", location="orderBy")
        if order == "startTime" and not single:
            raise E.bad_request("The requested ordering is not available for the particular query.")
        if sync_token:
            bad = [p for p in NOT_WITH_SYNC_TOKEN if params.get(p)]
            if bad:
                raise E.invalid(f"Sync token cannot be used with {bad[0]}.", location=bad[0])
            if params.get("showDeleted") is not None and not show_deleted:
                raise E.invalid("Sync token cannot be used with showDeleted=false.", location="showDeleted")
        tmin, tmax = _time_param(params, "timeMin"), _time_param(params, "timeMax")
        if tmin and tmax and tmin >= tmax:
            raise E.time_range_empty()
        updated_min = _time_param(params, "updatedMin")
        if updated_min and updated_min < now() - UPDATED_MIN_MAX_AGE:
            raise E.ApiError(410, "updatedMinTooLongAgo", "The requested minimum modification time lies "
                             "too far in the past.", domain="calendar", location="updatedMin")
        fingerprint = hashlib.sha1(json.dumps({k: params.get(k) for k in FINGERPRINTED}, sort_keys=True,
                                              default=str).encode()).hexdigest()[:12]
        return cls(single=single, instances_of=instances_of, order=order, sync_token=sync_token,
                   page_token=params.get("pageToken"), show_deleted=show_deleted,
                   max_results=_max_results(params), tmin=tmin, tmax=tmax, updated_min=updated_min,
                   private_props=_as_list(params.get("privateExtendedProperty")),
                   shared_props=_as_list(params.get("sharedExtendedProperty")),
                   text=(params.get("q") or "").lower(), ical_uid=params.get("iCalUID"), fingerprint=fingerprint)

    @property
    def windowed(self) -> bool:
        return self.tmin is not None or self.tmax is not None


@dataclass
class Position:
    """Where a list reads: up to change `snap`, changes after `base` only (incremental), after sort key `after`."""

    snap: int
    base: int | None
    after: list | None = None


class EventListingMixin(InstancesMixin):
    def make_sync_token(self, cal_id: str, seq: int) -> str:
        return "CP" + b64({"c": cal_id, "s": seq, "e": self._sync_epoch()})

    def parse_sync_token(self, cal_id: str, token: str) -> int:
        try:
            if not token.startswith("CP"):
                raise ValueError
            d = unb64(token[2:])
            if d["c"] != cal_id or d["e"] != self._sync_epoch():
                raise ValueError
            return int(d["s"])
        except Exception:
            raise E.full_sync_required()

    def list_events(self, cal: Calendar, params: dict, instances_of: str | None = None) -> dict:
        lq = ListQuery.parse(params, instances_of)
        pos = self._position(cal, lq)
        rows = self._rows(cal, lq, pos)
        evs = {ev["id"]: ev for ev in (json.loads(r["data"]) for r in rows)}
        incremental = pos.base is not None
        changed = {r["id"] for r in rows if r["seq"] > pos.base} if incremental else set()
        exceptions: dict[str, dict[str, Event]] = {}
        for ev in evs.values():
            if ev.get("recurringEventId") in evs:
                exceptions.setdefault(ev["recurringEventId"], {})[ev["id"]] = ev
        include_cancelled = lq.show_deleted or incremental or lq.updated_min is not None
        if instances_of is not None:
            items = self._instances(cal, lq, evs, exceptions)
            include_cancelled = lq.show_deleted
        elif not lq.single:
            items = self._series_and_singles(cal, lq, evs, exceptions, changed, incremental, include_cancelled)
        else:
            items = self._expanded(cal, lq, evs, exceptions, changed, incremental, include_cancelled)
        kept = [ev for ev in items if _passes_filters(ev, cal["time_zone"], lq, incremental, include_cancelled)]
        return self._page(cal, lq, pos, kept)

    def _position(self, cal: Calendar, lq: ListQuery) -> Position:
        if not lq.page_token:
            snap = self.store.q1("SELECT change_seq FROM calendars WHERE id=?", (cal["id"],))[0]
            return Position(snap, self.parse_sync_token(cal["id"], lq.sync_token) if lq.sync_token else None)
        try:
            pt = unb64(lq.page_token)
            pos = Position(pt["S"], pt["b"], pt["a"])
            fp = pt["f"]
        except Exception:
            raise E.invalid("Invalid page token value.", location="pageToken")
        if fp != lq.fingerprint or pt.get("c") != cal["id"]:
            raise E.invalid("Invalid page token value.", location="pageToken")
        if pt.get("e") != self._sync_epoch() and pos.base is not None:
            raise E.full_sync_required()
        return pos

    def _rows(self, cal: Calendar, lq: ListQuery, pos: Position) -> Sequence[Any]:
        if pos.base is not None and lq.instances_of is None:
            return self._incremental_rows(cal["id"], pos.base, pos.snap, lq.single)
        if lq.instances_of is None and lq.windowed:
            # prefilter in SQL with a day of slack; exact window semantics are applied later
            lo = lq.tmin.timestamp() - 86400 if lq.tmin is not None else -1e18
            hi = lq.tmax.timestamp() + 86400 if lq.tmax is not None else 1e18
            return self.store.q("SELECT seq, data FROM events WHERE calendar_id=? AND seq<=? AND (recurring=1 OR "
                                "recurring_event_id IS NOT NULL OR start_ts IS NULL OR "
                                "(end_ts >= ? AND start_ts < ?))", (cal["id"], pos.snap, lo, hi))
        return self.store.q("SELECT seq, data FROM events WHERE calendar_id=? AND seq<=?", (cal["id"], pos.snap))

    def _incremental_rows(self, cal_id: str, base: int, snap: int, single: bool) -> list[Any]:
        """Rows changed in (base, snap], plus (for singleEvents) the series they belong to."""
        rows = list(self.store.q("SELECT seq, id, recurring_event_id, data FROM events WHERE calendar_id=? "
                                 "AND seq>? AND seq<=?", (cal_id, base, snap)))
        if not single:
            return rows
        masters = list({r["recurring_event_id"] or r["id"] for r in rows})
        have = {r["id"] for r in rows}
        extra: list[Any] = []
        for i in range(0, len(masters), 400):
            chunk = masters[i:i + 400]
            marks = ",".join("?" * len(chunk))
            extra += self.store.q(f"SELECT seq, id, recurring_event_id, data FROM events WHERE calendar_id=? AND "
                                  f"seq<=? AND (id IN ({marks}) OR recurring_event_id IN ({marks}))",
                                  (cal_id, snap, *chunk, *chunk))
        return rows + [r for r in extra if r["id"] not in have]

    def _instances(self, cal: Calendar, lq: ListQuery, evs: dict[str, Event],
                   exceptions: dict[str, dict[str, Event]]) -> list[Event]:
        master = evs.get(lq.instances_of or "")
        if master is None:
            raise E.not_found()
        if not master.get("recurrence"):
            return [master]
        cancelled = master.get("status") == "cancelled"
        return [dict(inst, status="cancelled") if cancelled else inst
                for inst in self._expand(cal, master, exceptions.get(master["id"], {}), lq.tmin, lq.tmax)]

    def _series_and_singles(self, cal: Calendar, lq: ListQuery, evs: dict[str, Event],
                            exceptions: dict[str, dict[str, Event]], changed: set[str], incremental: bool,
                            include_cancelled: bool) -> list[Event]:
        """singleEvents=false: masters, single events and exceptions, as stored."""
        items = []
        for ev in evs.values():
            if incremental and ev["id"] not in changed:
                continue
            if ev.get("status") == "cancelled" and not include_cancelled and not ev.get("recurringEventId"):
                continue
            if ev.get("recurrence") and not incremental and lq.windowed:
                if not self._series_overlaps(cal, ev, exceptions.get(ev["id"], {}), lq.tmin, lq.tmax):
                    continue
            elif not incremental and not event_overlaps(ev, cal["time_zone"], lq.tmin, lq.tmax):
                continue
            items.append(ev)
        return items

    def _expanded(self, cal: Calendar, lq: ListQuery, evs: dict[str, Event], exceptions: dict[str, dict[str, Event]],
                  changed: set[str], incremental: bool, include_cancelled: bool) -> list[Event]:
        """singleEvents=true: series expanded into instances, masters dropped."""
        items: list[Event] = []
        for ev in evs.values():
            rid = ev.get("recurringEventId")
            if rid and rid in evs:
                if incremental and ev["id"] in changed:  # may repeat its master's expansion; deduped below
                    items.append(ev if evs[rid].get("status") != "cancelled" else dict(ev, status="cancelled"))
                continue
            if incremental and ev["id"] not in changed:
                continue
            if not ev.get("recurrence"):
                items.append(ev)
                continue
            cancelled = ev.get("status") == "cancelled"
            if cancelled and include_cancelled:
                items.append(ev)
            window = (lq.tmin, lq.tmax) if not incremental else (now() - dt.timedelta(days=HORIZON_PAST_DAYS), None)
            for inst in self._expand(cal, ev, exceptions.get(ev["id"], {}), *window):
                items.append(dict(inst, status="cancelled") if cancelled else inst)
        if incremental:
            items = list({i["id"]: i for i in items}.values())
        return items

    def _page(self, cal: Calendar, lq: ListQuery, pos: Position, events: list[Event]) -> dict:
        tz = cal["time_zone"]

        def key(ev: Event) -> list:
            if lq.order == "updated":
                return [ev.get("updated", ""), ev["id"]]
            t = ev.get("start") or ev.get("originalStartTime")
            try:
                ts = bound(t, tz).timestamp()
            except (ValueError, KeyError, TypeError):
                ts = 0.0
            return [ts, ev["id"]]

        keyed = sorted(((key(ev), ev) for ev in events), key=lambda x: x[0])
        if pos.after is not None:
            keyed = [kv for kv in keyed if kv[0] > pos.after]
        page = keyed[:lq.max_results]
        result = {"kind": "calendar#events", "etag": '"p%d"' % (pos.snap * 1000 + len(page)),
                  "summary": cal["summary"], "description": cal.get("description") or "",
                  "updated": max([ev.get("updated", "") for _, ev in page], default=fmt_utc(now())),
                  "timeZone": tz, "accessRole": cal["access_role"],
                  "defaultReminders": DEFAULT_REMINDERS if cal["access_role"] in WRITER_ROLES else [],
                  "items": [listed_form(ev) for _, ev in page]}
        if len(keyed) > lq.max_results:
            result["nextPageToken"] = b64({"c": cal["id"], "S": pos.snap, "b": pos.base, "a": page[-1][0],
                                           "f": lq.fingerprint, "e": self._sync_epoch()})
        elif lq.instances_of is None:
            result["nextSyncToken"] = self.make_sync_token(cal["id"], pos.snap)
        return result


def listed_form(ev: Event) -> Event:
    """An event as a list shows it: a cancelled one keeps only what Google guarantees (id, status, etag,
    and for an instance its recurringEventId and originalStartTime): no summary, times or properties."""
    if ev.get("status") != "cancelled":
        return ev
    return {k: ev[k] for k in DELETED_FIELDS if k in ev}


def _passes_filters(ev: Event, tz: str, lq: ListQuery, incremental: bool, include_cancelled: bool) -> bool:
    if ev.get("status") == "cancelled" and not include_cancelled and (lq.single or not ev.get("recurringEventId")):
        return False
    # instances() also keeps events ending exactly at timeMin
    if lq.single and not incremental and not event_overlaps(ev, tz, lq.tmin, lq.tmax,
                                                            closed=lq.instances_of is not None):
        return False
    if not _props_match(ev, "private", lq.private_props) or not _props_match(ev, "shared", lq.shared_props):
        return False
    if lq.ical_uid and ev.get("iCalUID") != lq.ical_uid:
        return False
    if lq.text and not any(lq.text in str(ev.get(f) or "").lower() for f in ("summary", "description", "location")):
        return False
    return lq.updated_min is None or parse_rfc3339(ev["updated"]) >= lq.updated_min


def _props_match(ev: Event, kind: str, filters: list[str]) -> bool:
    if not filters:
        return True
    props = (ev.get("extendedProperties") or {}).get(kind) or {}
    for f in filters:
        k, sep, v = f.partition("=")
        if not sep or props.get(k) != v:
            return False
    return True


def _time_param(params: dict, name: str) -> dt.datetime | None:
    if not params.get(name):
        return None
    try:
        return parse_rfc3339(params[name])
    except ValueError:
        raise E.bad_request("Bad Request")


def _max_results(params: dict) -> int:
    try:
        n = int(params.get("maxResults") or 250)
    except ValueError:
        raise E.invalid("Invalid value for: maxResults", location="maxResults")
    if n < 1:
        raise E.invalid("Invalid value for: maxResults", location="maxResults")
    return min(n, 2500)


def _as_list(v: str | list[str] | None) -> list[str]:
    if not v:
        return []
    return [v] if isinstance(v, str) else list(v)
