"""The words people read for what the engine recorded as codes (`app.sync.notes`).

The only place a code becomes a sentence. The sentence is chosen by the code alone; parameters (a count, a
time shown in the viewer's zone, a calendar's or an event's name in quotes) only fill it in, so nothing a
user typed and nothing Google wrote can change which message is shown. Technical text never gets here: it
is in the `detail` columns, which only the admins' "details for support" shows.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from ..models import CalendarConnection, SyncFailure, SyncRun, utcnow
from ..sync.kinds import RUN_KINDS
from ..sync.notes import Code, Note
from ..timefmt import format_dt

REFUSALS = {
    400: "Google refused it as invalid.",
    403: "Google refused it: this calendar does not allow the change.",
    404: "Google could not find it or its calendar.",
    409: "Google refused it because it clashes with an existing event.",
}
REQUEST_REFUSALS = {  # a whole request (a list, a calendar, a watch), not one item
    400: "Google refused the request as invalid.",
    403: "Google refused: this account may not do that with this calendar.",
}
# Google's reason tokens we can say more about than the status does.
GOOGLE_REASONS = {
    "forbiddenForNonOrganizer": "Google refused it: only the event's organiser may change it.",
    "requiredAccessLevel": "Google refused it: this account may not write to this calendar.",
    "timeRangeEmpty": "Google refused it: its end is not after its start.",
}
LIVE_UPDATES = "Changes made in Google arrive every few minutes instead."


def count_of(number: int, singular: str, plural: str | None = None) -> str:
    """"1 portal item", "2 portal items": never "item(s)"."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def when(moment: datetime, tz: str) -> str:
    """HH:MM in the viewer's time zone, with the day when it is not within the next day."""
    fmt = "%H:%M" if moment - utcnow() < timedelta(hours=20) else "%a %d %b, %H:%M"
    return format_dt(moment, tz, fmt)


def _at(params: Mapping, key: str, tz: str) -> str:
    try:
        return when(datetime.fromisoformat(params[key]).replace(tzinfo=None), tz)
    except (KeyError, TypeError, ValueError):
        return "a later time"


def _refused(params: Mapping) -> str:
    return GOOGLE_REASONS.get(params.get("reason")) or REFUSALS.get(params.get("status"), "Google refused it.")


def _unexpected(params: Mapping) -> str:
    if params.get("by_itself", True):
        return "An unexpected error stopped the sync; it will be tried again by itself."
    return "An unexpected error stopped this before it ended. Please try again; the details are logged for support."


def _under_way(params: Mapping) -> str:
    spec = next((s for kind, s in RUN_KINDS.items() if kind.value == params.get("kind")), None)
    doing = spec.under_way if spec and spec.under_way else "A long synchronization is still under way"
    return f"{doing}; Sync now and the other actions are back when that has ended."


def _partial(params: Mapping) -> str:
    parts = [f"{int(params.get(key, 0)):,} {words}" for key, words in (
        ("waiting", "wait for Google and are sent again automatically"),
        ("refused", "were refused (see “Not in Google”)"),
        ("other", "could not be synced (see the sync details)")) if params.get(key)]
    return f"{count_of(int(params.get('reached', 0)), 'change')} went through; {'; '.join(parts)}."


def _not_taken_in(params: Mapping) -> str:
    title = params.get("title") or ""
    named = f"“{title}”" if title else "An event without a title"
    return f"{named} could not be taken in from Google; it will be when it next changes there."


# code → (parameters, viewer's time zone) → words. Run endings that need the run itself: `run_words`.
WORDS: dict[Code, Callable[[Mapping, str], str]] = {
    Code.GRANT_REVOKED: lambda p, tz: "Google access was revoked or has expired. Reconnect to resume.",
    Code.PERMISSION_MISSING: lambda p, tz: ("Google refused: a permission the sync needs was not granted. "
                                            "Grant the missing permissions to resume."),
    Code.CALENDAR_GONE: lambda p, tz: ("Google could not find the calendar, or this account may no longer use it. "
                                       "Choose another calendar."),
    Code.DISCONNECTED: lambda p, tz: NOTICES[Code.DISCONNECTED][0],
    Code.ACCOUNT_SWITCHED: lambda p, tz: (
        f"You signed in as {p.get('current')} instead of {p.get('previous')}: the portal's access to "
        f"{p.get('previous')} was removed. Choose a calendar to sync with."),
    Code.RATE_LIMITED: lambda p, tz: "Google asked us to slow down. The sync continues automatically.",
    Code.USE_LIMIT: lambda p, tz: ("Google has limited changes to this calendar for a few hours; we will continue "
                                   f"at {_at(p, 'until', tz)}."),
    Code.GOOGLE_UNAVAILABLE: lambda p, tz: "Google could not be reached. The sync is retried automatically.",
    Code.GOOGLE_REFUSED: lambda p, tz: REQUEST_REFUSALS.get(p.get("status"), "Google refused the request."),
    Code.WORKERS_UNAVAILABLE: lambda p, tz: ("The background workers are unavailable right now. "
                                             "Please try again in a few minutes."),
    Code.UNEXPECTED: lambda p, tz: _unexpected(p),
    Code.COMPLETE: lambda p, tz: "Synchronization complete.",
    Code.PARTIAL: lambda p, tz: _partial(p),
    Code.INSTALMENTS: lambda p, tz: (
        f"Google limits how many events a calendar may receive in a day, so the other {int(p.get('left', 0)):,} "
        f"follow in daily instalments, the next at {_at(p, 'at', tz)}."),
    Code.NEEDS_ATTENTION: lambda p, tz: "Nothing was synced: the connection needs your attention first (see its card).",
    Code.CONNECTION_DELETED: lambda p, tz: "Connection deleted.",
    Code.BEING_DELETED: lambda p, tz: "Cancelled: the connection is being deleted.",
    Code.INTERRUPTED: lambda p, tz: ("Stopped unexpectedly (the background worker running it went away); "
                                     "resumed automatically."),
    Code.BULK_UNDER_WAY: lambda p, tz: _under_way(p),
    Code.ITEM_REFUSED: lambda p, tz: _refused(p),
    Code.ITEM_UNCONVERTIBLE: lambda p, tz: "it could not be turned into a Google Calendar event.",
    Code.NO_DUE_DATE: lambda p, tz: "it has no due date. Give it one to see it in Google Calendar.",
    Code.COPY_NOT_DELETED: lambda p, tz: "A Google copy could not be deleted.",
    Code.EVENT_NOT_TAKEN_IN: lambda p, tz: _not_taken_in(p),
    Code.LIVE_UPDATES_NOT_HTTPS: lambda p, tz: (
        f"Live updates are off: Google only sends them to a secure (https) address. {LIVE_UPDATES}"),
    Code.LIVE_UPDATES_REFUSED: lambda p, tz: (
        f"Live updates are off: Google did not accept our request for them. {LIVE_UPDATES}"),
    Code.LIVE_UPDATES_UNREACHABLE: lambda p, tz: (
        "Live updates are off: Google could not be reached to set them up; we will try again within the hour. "
        + LIVE_UPDATES),
}
# One item is not in Google: the same causes, said of the item.
ITEM_WORDS: dict[Code, str] = {
    Code.RATE_LIMITED: "Google asked us to slow down; it will be tried again automatically.",
    Code.GOOGLE_UNAVAILABLE: "Google was unavailable; it will be tried again automatically.",
}


# What the banner says while a person's sync needs them, and the one action that fixes it.
NOTICES: dict[Code, tuple[str, str | None]] = {
    Code.GRANT_REVOKED: ("Your Google Calendar sync has stopped: Google access was revoked or has expired.",
                         "Reconnect"),
    Code.PERMISSION_MISSING: ("Your Google Calendar sync has stopped: a permission it needs is missing.",
                              "Grant the missing permission"),
    Code.CALENDAR_GONE: ("Your Google Calendar sync has stopped: the calendar it syncs with is gone or no longer "
                         "yours to change.", "Choose a calendar"),
    Code.DISCONNECTED: ("An administrator disconnected your Google Calendar: your portal items no longer reach it.",
                        "Reconnect"),
}


def notice_words(code: Code, until: datetime | None = None, tz: str = "UTC") -> tuple[str, str | None]:
    """(the banner's sentence, its action's words) for a cause of the person's sync needing them."""
    if code is Code.USE_LIMIT:
        return (f"Google has limited changes to your calendar for a few hours: your edits wait and go on at "
                f"{when(until, tz)}.", None)
    return NOTICES[code]


def say(note: Note | None, tz: str = "UTC") -> str:
    return WORDS[note.code](note.params, tz) if note is not None else ""


def problem_words(connection: CalendarConnection, tz: str = "UTC") -> str:
    """The connection's current problem, or ""."""
    return say(Note.load(connection.problem, connection.problem_params), tz)


def live_updates_words(connection: CalendarConnection) -> str:
    return say(Note.load(connection.live_updates_problem))


def failure_words(failure: SyncFailure) -> str:
    """Why one item is not in Google ("Not in Google: …")."""
    note = Note.load(failure.code, failure.params)
    return ITEM_WORDS.get(note.code) or say(note)


def run_words(run: SyncRun, tz: str = "UTC") -> str:
    """How a run ended (its kind's own words for a success), or "" while it runs."""
    note = Note.load(run.outcome, run.outcome_params)
    spec = RUN_KINDS[run.kind]
    if note is None:
        return ""
    if note.code is Code.COMPLETE:
        return spec.ended(run)
    if note.code is Code.INSTALMENTS:
        return f"{(spec.ended_early or spec.ended)(run)} {say(note, tz)}"
    return say(note, tz)

