"""The run kinds as data: every place that varies by kind of run reads this one declaration.

Like the item kinds (`app.portal.kinds`), a `RunKindSpec` says all there is to say about a kind of run: its
label and the words of its ending, the queue it waits on, whether it is bulk work (slices, the card's
other actions waiting), whether the card shows its progress, whether its work is asked for again by itself
after a crash or needs its person, and its body, the engine function that does the work. The card, the
history, the refusals, the job runner, recovery and the queues all read `RUN_KINDS`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..models import RunKind, SyncRun
from ..queues import BULK, INTERACTIVE, PERIODIC
from .bulk import Cursor, Stopped, move_slice, push_slice, removal_slice
from .context import Sync
from .drain import push_changes
from .pull import poll, watch_and_pull

Body = Callable[[Sync, Cursor | None], Stopped | None]


@dataclass(frozen=True)
class RunKindSpec:
    label: str  # what the history and the card call it
    queue: str  # the queue its job waits on (`app.queues`)
    body: Body  # the work: returns where a bulk slice stopped, None once the run's work is done
    bulk: bool = False  # touches every item, in slices; meanwhile the card's other actions wait
    shows_progress: bool = False  # a person waits on it: the card shows its progress bar
    by_itself: bool = False  # after a crash its work is asked for again without anyone (outbox, polls)
    under_way: str = ""  # what a bulk run is doing, said while the card's other actions wait for it
    edits_wait: bool = False  # the user's own edits wait for it (they would put copies back where it removes)
    stops_bulk: bool = False  # asked for during a bulk run, it stops that run rather than wait behind it
    reloads_card: bool = False  # its end changes the card's state: the page reloads
    then: RunKind | None = None  # a run of this kind follows a successful one (2-way: watch and pull)
    deletes_connection: bool = False  # the connection goes when it has succeeded
    ended: Callable[[SyncRun], str] = lambda run: "Synchronization complete."  # the words of its success
    ended_early: Callable[[SyncRun], str] | None = None  # ... when the day's creation ceiling stopped it


def _failed(run: SyncRun, words: str = "failed") -> str:
    return f", {run.failed} {words}." if run.failed else "."


def _pushed(run: SyncRun) -> str:
    return f"Synchronization complete: {run.created} created, {run.updated} updated{_failed(run)}"


def _moved(run: SyncRun) -> str:
    return (f"Moved to {run.calendar_summary}: {run.deleted} removed from the old calendar, "
            f"{run.created + run.updated} in the new one{_failed(run)}")


def _removed(run: SyncRun) -> str:
    removed = f"{run.deleted:,} event{'' if run.deleted == 1 else 's'}"
    return (f"{removed} removed from Google; the connection is deleted."
            + (f" {run.failed} could not be removed." if run.failed else ""))


def _sync_now(sync: Sync, at: Cursor | None = None) -> None:
    """The person's "Sync now" (or a reconnect): what waits is pushed, then (2-way) Google's changes pulled,
    asking Google for live updates again if it refused them."""
    push_changes(sync)
    watch_and_pull(sync, ask_again=True)


RUN_KINDS: dict[RunKind, RunKindSpec] = {
    RunKind.PUSH_EXISTING: RunKindSpec(
        "Push Existing Data", BULK, push_slice, bulk=True, shows_progress=True, then=RunKind.PULL,
        under_way="Your portal items are still being pushed to Google", ended=_pushed,
        ended_early=lambda run: f"{run.done:,} of {run.total:,} items pushed."),
    RunKind.CHANGE_CALENDAR: RunKindSpec(
        "Calendar changed", BULK, move_slice, bulk=True, shows_progress=True, edits_wait=True, reloads_card=True,
        then=RunKind.PULL, under_way="Your portal items are still moving to the new calendar", ended=_moved,
        ended_early=_moved),
    RunKind.REMOVE_EVENTS: RunKindSpec(
        "Events removed from Google", BULK, removal_slice, bulk=True, shows_progress=True, edits_wait=True,
        stops_bulk=True, reloads_card=True, deletes_connection=True,
        under_way="Your portal events are still being removed from Google", ended=_removed),
    RunKind.SYNC: RunKindSpec("Sync now", INTERACTIVE, _sync_now, shows_progress=True),
    RunKind.PUSH: RunKindSpec("Portal changes sent to Google", INTERACTIVE, push_changes, by_itself=True),
    RunKind.PULL: RunKindSpec("Google changes received", INTERACTIVE, watch_and_pull, by_itself=True),
    RunKind.POLL: RunKindSpec("Google changes received", PERIODIC, poll, by_itself=True),
    # A pull that Google answered with 410: never asked for as such, a pull becomes one (`app.sync.pull`).
    RunKind.FULL_RESYNC: RunKindSpec(
        "Full resync", INTERACTIVE, watch_and_pull, shows_progress=True, by_itself=True,
        ended=lambda run: "Google asked for a full resync; done without duplicates."),
}
BULK_KINDS = frozenset(kind for kind, spec in RUN_KINDS.items() if spec.bulk)
PROGRESS_KINDS = frozenset(kind for kind, spec in RUN_KINDS.items() if spec.shows_progress)
