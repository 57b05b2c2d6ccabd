"""google-api-python-client, configured for one connection, with retries and our error types."""
from __future__ import annotations

import collections
import json
import random
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import httplib2
from flask import current_app, has_request_context
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from ..crypto import decrypt, encrypt
from ..models import CalendarConnection
from .answers import UNREACHABLE, count_answers
from .budget import budget_for, note_creations
from .company_client import client_credentials
from .errors import (
    AuthRevoked,
    GoogleDown,
    GoogleError,
    PermanentError,
    RateLimited,
    SyncTokenExpired,
    UsageLimited,
    from_http_error,
)
from .oauth import server_metadata
from .outage import Outage, google_user_of, spread

MAX_ATTEMPTS = 5
INTERACTIVE_WAIT_SECONDS = 5
RATE_LIMIT_ROUNDS = 12  # rate-limit answers waited out (Retry-After, ≤ 60 s each) before a run gives up for now
FREEBUSY_CALENDARS = 50  # calendars one freebusy.query may name (calendarExpansionMax's largest value)
BATCH_LIMIT = 50  # Google's advice for Calendar batches; the hard limit is 1000


@lru_cache(maxsize=4)
def _discovery_document(api_base_url: str) -> dict:
    """The client library's bundled Calendar document, rooted at our base URL so batches go there too."""
    document = json.loads(get_static_doc("calendar", "v3"))
    document["rootUrl"] = api_base_url.rstrip("/") + "/"
    return document


@dataclass(frozen=True)
class BatchCall:
    """One call of a batch: method is insert | patch | delete."""

    method: str
    event_id: str
    body: dict | None = None
    key: object = None  # the caller's handle, returned with the result
    if_match: str | None = None  # etag precondition: 412 when the event changed at Google meanwhile


@dataclass
class BatchResult:
    call: BatchCall
    response: dict | None = None
    error: GoogleError | None = None


class CalendarClient:
    """Calendar API v3 for one connection. Refreshed tokens are written back to the connection (no commit)."""

    def __init__(self, connection: CalendarConnection, retry_base_seconds: float = 0.5):
        self.connection = connection
        self.retry_base = retry_base_seconds
        self._patience: float | None = None  # see `waiting_at_most`
        config = current_app.config
        client_id, client_secret = client_credentials(connection.company)  # the client that obtained the grant
        self.credentials = Credentials(
            token=decrypt(connection.access_token_enc),
            refresh_token=decrypt(connection.refresh_token_enc),
            token_uri=server_metadata()["token_endpoint"],
            client_id=client_id,
            client_secret=client_secret,
            expiry=connection.token_expires_at,
        )
        self._seen_token = self.credentials.token
        # Google's per-user quota follows the Google account, whichever portal connection uses it.
        self.budget_user = google_user_of(connection)
        self.budget = budget_for(self.budget_user)
        self.outage = Outage(self.budget_user)
        http = AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=60))
        self.service = build_from_document(_discovery_document(config["GOOGLE_API_BASE_URL"]), http=http)
        # Built once: the client library rebuilds the whole resource on every `service.events()` call.
        self.events = self.service.events()

    # -- plumbing -------------------------------------------------------------------------------

    def _store_refreshed_token(self) -> None:
        if self.credentials.token and self.credentials.token != self._seen_token:
            self._seen_token = self.credentials.token
            self.connection.access_token_enc = encrypt(self.credentials.token)
            self.connection.token_expires_at = self.credentials.expiry

    def keep_refreshed_token(self) -> None:
        """After the caller's transaction rolled back: a token refreshed meanwhile goes on the connection again
        (else the next job refreshes it once more)."""
        self._seen_token = decrypt(self.connection.access_token_enc)
        self._store_refreshed_token()

    @property
    def batch_size(self) -> int:
        """Calls per batch request: Google's advice, and never more than a budget window holds."""
        return min(BATCH_LIMIT, self.budget.limits.largest_cost)

    @contextmanager
    def waiting_at_most(self, seconds: float) -> Iterator[None]:
        """Within the block, a rate-limit answer that asks for a longer wait raises RateLimited (its
        `wait_seconds` say how long) instead of sleeping: a bulk slice then waits in the queue, not in a
        worker that other people's edits are waiting for."""
        before, self._patience = self._patience, seconds
        try:
            yield
        finally:
            self._patience = before

    def _sleep_before_retry(self, attempt: int, retry_after: str | None, limited: RateLimited | None = None) -> None:
        delay = self.retry_base * (2 ** attempt) * random.uniform(0.5, 1.5)  # exponential backoff, jittered
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after))
        delay = min(delay, 60.0)
        if limited is not None and self._patience is not None and delay > self._patience:
            limited.wait_seconds = delay
            raise limited
        time.sleep(delay)

    def execute(self, request, cost: int = 1, attempts: int = MAX_ATTEMPTS):
        """Run one request within the request budget, retrying rate limits and 5xx with backoff.

        `cost` is the number of Calendar calls the request carries (a batch's members). A rate-limit
        answer that still arrives (another app on the same project, a clock edge) is waited out honouring
        Retry-After (within `waiting_at_most`, only a short one), and does not use up the attempts kept for
        real failures.
        """
        failures = limited = 0
        while True:
            self.outage.check()  # Google down: nothing is sent but the probe (`app.google.outage`)
            # A person waiting for a page does not wait out a long push's budget; a job does.
            self.budget.take(cost, INTERACTIVE_WAIT_SECONDS if has_request_context() else None)
            try:
                result = request.execute()
                self._store_refreshed_token()
                if not isinstance(request, BatchHttpRequest):  # a batch's members are counted one by one
                    count_answers(collections.Counter({("200", ""): 1}))
                    self.outage.answered()
                return result
            except RefreshError as exc:
                raise _refresh_failure(exc) from exc
            except (TransportError, httplib2.HttpLib2Error, OSError) as exc:
                error: GoogleError = GoogleError(f"Google unreachable: {exc}")
                retry_after = None
                count_answers(collections.Counter({(UNREACHABLE, ""): 1}))
            except HttpError as exc:
                error = from_http_error(exc)
                retry_after = exc.resp.get("retry-after")
                count_answers(collections.Counter({(str(error.status), error.reason or ""): 1}))
                if not _is_transient(error):
                    self.outage.answered()
                    raise error from exc
            self._note_outage(error)
            if isinstance(error, RateLimited):
                limited += 1
                _log_rate_limit(self.connection, error, retry_after)
                if limited >= RATE_LIMIT_ROUNDS:
                    raise error
                self._sleep_before_retry(limited - 1, retry_after, error)
            else:
                failures += 1
                if failures >= attempts:
                    raise error
                self._sleep_before_retry(failures - 1, retry_after)

    def _note_outage(self, error: GoogleError) -> None:
        """A transient failure: a rate limit is an answer (Google is up); a 5xx or no answer adds to the outage's
        streak, and once that opens a breaker the work stops here instead of retrying (`GoogleDown`)."""
        if isinstance(error, RateLimited):
            self.outage.answered()
        elif self.outage.failed():
            raise GoogleDown(spread(self.outage.wait_seconds())) from error

    def batch(self, calendar_id: str, calls: Sequence[BatchCall]) -> list[BatchResult]:
        """Run calls in batches of ≤ 50; transient per-call failures are retried in a later batch.

        Every call is a write, so a paused connection (Google's use limits) sends nothing, and a use-limit
        answer stops the whole operation (UsageLimited): the caller's transaction rolls back and the items
        stay queued. Calls still rate-limited after every wait, or asked to wait longer than `waiting_at_most`
        allows, raise RateLimited for the same reason.
        """
        if self.connection.writes_paused:
            raise UsageLimited("Calendar usage limits exceeded.", 403, "quotaExceeded")
        results: dict[int, BatchResult] = {}
        tries: collections.Counter = collections.Counter()  # (index, rate-limited?) → answers so far
        pending = list(enumerate(calls))
        down: GoogleError | None = None  # the last chunk met Google down: the next is one call, a probe
        while pending:
            retry: list[tuple[int, BatchCall]] = []
            retry_after: str | None = None
            limited: RateLimited | None = None
            rest = pending
            while rest:
                size = 1 if down or self.outage.is_open() else self.batch_size  # each call counts at Google
                chunk, rest = rest[:size], rest[size:]
                outcome, down = self._run_batch(calendar_id, chunk)
                if down:  # the rest is not sent: taken as failed alike, it waits for the next round's probe
                    outcome.update({index: (None, down, None) for index, _ in rest})
                    chunk, rest = chunk + rest, []
                note_creations(self.budget_user, sum(1 for index, call in chunk
                                                     if call.method == "insert" and outcome[index][1] is None))
                for index, call in chunk:
                    response, error, after = outcome[index]
                    if error is not None and _retry_call(tries, index, error):
                        retry.append((index, call))
                        retry_after = after or retry_after
                        limited = error if isinstance(error, RateLimited) else limited
                    else:
                        results[index] = BatchResult(call, response, error)
            pending = retry
            if retry:
                self._sleep_before_retry(max(tries[i, True] + tries[i, False] for i, _ in retry) - 1, retry_after,
                                         limited)
        return [results[i] for i in range(len(calls))]

    def _run_batch(self, calendar_id: str, chunk: list[tuple[int, BatchCall]]) -> tuple[dict, GoogleError | None]:
        """One batch request: each call's (response, error, Retry-After), and an error if every call met Google
        down."""
        outcome: dict[int, tuple] = {}

        def collect(request_id: str, response, exception) -> None:
            index = int(request_id)
            if exception is None:
                outcome[index] = (response, None, None)
            elif isinstance(exception, HttpError):
                outcome[index] = (None, from_http_error(exception), exception.resp.get("retry-after"))
            else:
                outcome[index] = (None, GoogleError(str(exception)), None)

        batch = self.service.new_batch_http_request(callback=collect)
        for index, call in chunk:
            batch.add(self._event_request(calendar_id, call), request_id=str(index))
        self.execute(batch, cost=len(chunk))
        errors = [error for _response, error, _after in outcome.values()]
        count_answers(collections.Counter(("200", "") if error is None else
                                          (str(error.status or UNREACHABLE), error.reason or "") for error in errors))
        down = [error for error in errors if error is not None and _is_outage(error)]
        all_down = down[0] if down and len(down) == len(errors) else None  # the envelope itself got through
        if all_down:
            self._note_outage(all_down)
        else:
            self.outage.answered()
        for _index, (_response, error, after) in outcome.items():
            if isinstance(error, RateLimited):
                _log_rate_limit(self.connection, error, after)
        return outcome, all_down

    def _event_request(self, calendar_id: str, call: BatchCall):
        events = self.events
        # Google ignores conferenceData (the appointment's Meet) unless the request says it understands it.
        conference = {"conferenceDataVersion": 1} if call.body and "conferenceData" in call.body else {}
        if call.method == "insert":
            return events.insert(calendarId=calendar_id, body=call.body, sendUpdates="none", **conference)
        if call.method == "delete":
            return events.delete(calendarId=calendar_id, eventId=call.event_id, sendUpdates="none")
        request = events.patch(calendarId=calendar_id, eventId=call.event_id, body=call.body, sendUpdates="none",
                               **conference)
        if call.if_match:
            request.headers["If-Match"] = call.if_match
        return request

    # -- calls ----------------------------------------------------------------------------------

    def calendars(self, roles: Collection[str] = ("owner", "writer")) -> list[dict]:
        """calendarList entries whose access role is one of `roles`, primary first."""
        items, page_token = [], None
        while True:
            page = self.execute(self.service.calendarList().list(pageToken=page_token, maxResults=250))
            items += page.get("items", [])
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        chosen = [c for c in items if c.get("accessRole") in roles and not c.get("deleted")]
        return sorted(chosen, key=lambda c: (not c.get("primary", False), c.get("summary", "").lower()))

    def free_busy(self, calendar_ids: Sequence[str], start: datetime, end: datetime) -> tuple[list[dict], dict]:
        """Google's busy intervals of the calendars between `start` and `end` (UTC), and the calendars that
        answered an error instead ({id: reason}): one query per FREEBUSY_CALENDARS calendars, tried once (a page
        waits for it; what fails is "unavailable" there)."""
        busy, errors = [], {}
        for first in range(0, len(calendar_ids), FREEBUSY_CALENDARS):
            body = {"timeMin": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "timeMax": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "items": [{"id": cid} for cid in calendar_ids[first:first + FREEBUSY_CALENDARS]]}
            with self.waiting_at_most(0):  # a person waits for this page: no backoff, the caller does without
                answer = self.execute(self.service.freebusy().query(body=body), attempts=1)
            for cid, calendar in answer.get("calendars", {}).items():
                busy += calendar.get("busy", [])
                if calendar.get("errors"):
                    errors[cid] = calendar["errors"][0].get("reason", "unknown")
        return busy, errors

    def create_calendar(self, summary: str, time_zone: str) -> dict:
        return self.execute(self.service.calendars().insert(body={"summary": summary, "timeZone": time_zone}))

    def event_pages(self, calendar_id: str, sync_token: str | None) -> Iterator[dict]:
        """Pages of events.list: incremental from `sync_token`, or a full sync without one.

        Instances are expanded (singleEvents) so recurring events arrive with their exceptions applied;
        the parameters are the same for the full and the incremental list, as Google requires.
        """
        page_token = None
        while True:
            request = self.events.list(calendarId=calendar_id, singleEvents=True, maxResults=2500,
                                                 syncToken=sync_token, pageToken=page_token)
            page = self.execute(request)
            yield page
            page_token = page.get("nextPageToken")
            if not page_token:
                return

    def get_event(self, calendar_id: str, event_id: str) -> dict:
        return self.execute(self.events.get(calendarId=calendar_id, eventId=event_id))

    def watch(self, calendar_id: str, channel_id: str, address: str, token: str, ttl_seconds: int) -> dict:
        body = {"id": channel_id, "type": "web_hook", "address": address, "token": token,
                "params": {"ttl": str(ttl_seconds)}}
        return self.execute(self.events.watch(calendarId=calendar_id, body=body))

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        self.execute(self.service.channels().stop(body={"id": channel_id, "resourceId": resource_id}))


def _is_transient(error: GoogleError) -> bool:
    return not isinstance(error, (PermanentError, SyncTokenExpired, AuthRevoked, UsageLimited))


def _is_outage(error: GoogleError) -> bool:
    """Google down rather than refusing: a 5xx, or no HTTP answer at all."""
    return not isinstance(error, RateLimited) and (error.status is None or error.status >= 500)


def _retry_call(tries: collections.Counter, index: int, error: GoogleError) -> bool:
    """Whether a failed batch call goes into the next batch; raises what must stop the whole operation."""
    if isinstance(error, UsageLimited):
        raise error
    if not _is_transient(error):
        return False
    limited = isinstance(error, RateLimited)
    tries[index, limited] += 1
    if limited and tries[index, limited] >= RATE_LIMIT_ROUNDS:
        raise error
    return limited or tries[index, limited] < MAX_ATTEMPTS


def _log_rate_limit(connection: CalendarConnection, error: GoogleError, retry_after: str | None) -> None:
    """The budget should make this rare: operators see each one (another app on the project, a skewed clock)."""
    current_app.logger.warning("Google rate limit for connection %s (%s %s), retry after %s",
                               connection.id, error.status, error.reason, retry_after or "backoff")


def _refresh_failure(exc: RefreshError) -> GoogleError:
    text = str(exc)
    if "invalid_grant" in text or "revoked" in text.lower():
        return AuthRevoked("Google access was revoked or has expired. Please reconnect.", 400, "invalid_grant")
    return GoogleError(f"Could not refresh the Google token: {text}")


def client_for(connection: CalendarConnection) -> CalendarClient:
    return CalendarClient(connection, retry_base_seconds=current_app.config.get("GOOGLE_RETRY_BASE_SECONDS", 0.5))
