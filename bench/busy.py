"""Busy times from Google (issue #25): Google requests and milliseconds per calendar page view and per appointment
form submission, cold and warm, through the real app (Flask test client) and the emulator over HTTP.

    .venv/bin/python -m bench.busy --latency 20 --repeat 5

Sharing is set up without a browser: tokens the emulator issues with the free/busy permission besides the sync's
own, stored on the 2-way connection as the consent flow stores them; the sync goes into a secondary calendar of its
own, so every chosen calendar is one the portal asks Google about. Each measured step starts from
`reset_counters()`; "cold" is a view or a form right after the kept answers were forgotten (`app.busy.forget`,
what a push notification or a change of calendars does), "warm" the same again within CACHE_SECONDS. A last line
repeats cold views and warned forms once the access tokens have expired (a token refreshed once is kept?).
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import datetime, timedelta

from bench.common import CLIENT_ID, GOOGLE_EMAIL, SIGN_IN_SCOPES, Stack, emit, http_figures
from bench.pages import login

CONTACT_EMAIL = "bench-contact@example.com"
OTHER_CALENDARS = ("Bench Family", "Bench Gym")  # besides the primary, in the 3-calendar case
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
MONTH = "/calendar/"


class Bench:
    def __init__(self, stack: Stack):
        self.stack, self.app, self.emulator = stack, stack.app, stack.emulator
        self.client = self.app.test_client()
        login(self.get_text, lambda path, data: self.request("post", path, data=data).status_code,
              stack.user.email)
        self.tz = stack.user.timezone

    # -- requests through the app ---------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs):
        """One request in its own app context (the stack keeps one pushed for the bench's own queries)."""
        with self.app.app_context():
            return getattr(self.client, method)(path, **kwargs)

    def get_text(self, path: str) -> str:
        return self.request("get", path).get_data(as_text=True)

    def google_requests(self) -> tuple[int, int]:
        """(HTTP requests to Google since the last reset: Calendar API as in `http_figures`, plus OAuth's token
        and revoke endpoints, of which freebusy.query)."""
        counters = self.emulator.counters()
        oauth = sum(n for endpoint, n in counters["endpoints"].items() if "/calendar/v3" not in endpoint)
        return http_figures(counters)["http_requests"] + oauth, counters["methods"].get("calendar.freebusy.query", 0)

    def token_refreshes(self) -> int:
        return self.emulator.counters()["endpoints"].get("POST /token", 0)

    def measured(self, method: str, path: str, **kwargs) -> tuple[object, int, int, float]:
        """(response, Google requests, freebusy queries, ms) of one request, counters reset first."""
        self.emulator.reset_counters()
        started = time.perf_counter()
        response = self.request(method, path, **kwargs)
        ms = 1000 * (time.perf_counter() - started)
        total, freebusy = self.google_requests()
        return response, total, freebusy, ms

    # -- Google accounts and sharing ------------------------------------------------------------------

    def google_service(self, email: str):
        from google.oauth2.credentials import Credentials
        from googleapiclient.discovery import build

        token = self.emulator.issue_token(email, CLIENT_ID, [CALENDAR_SCOPE])
        return build("calendar", "v3", credentials=Credentials(token), static_discovery=True,
                     client_options={"api_endpoint": self.emulator.api_endpoint})

    def busy_event(self, email: str, calendar_id: str, start: datetime, hours: int = 1) -> None:
        """An event that makes `email` busy (`start` aware)."""
        self.google_service(email).events().insert(calendarId=calendar_id, body={
            "summary": "Private", "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=hours)).isoformat()}}).execute()

    def sharing_connection(self, user, email: str, connection=None):
        """`user`'s ACTIVE 2-way connection to `email`, syncing into a secondary calendar, with the free/busy
        permission granted (tokens issued by the emulator, stored encrypted); sharing still off."""
        from app.crypto import encrypt
        from app.google import FREEBUSY_SCOPE, REQUIRED_SCOPES
        from app.models import ConnectionStatus, utcnow
        from testsupport.factories import make_connection

        if email != GOOGLE_EMAIL:
            self.emulator.add_account(email, email)
        sync_calendar = self.google_service(email).calendars().insert(body={"summary": "Portal"}).execute()["id"]
        token = self.emulator.issue_tokens(email, CLIENT_ID, [*REQUIRED_SCOPES, *SIGN_IN_SCOPES, FREEBUSY_SCOPE])
        values = dict(access_token_enc=encrypt(token["access_token"]),
                      refresh_token_enc=encrypt(token["refresh_token"]), granted_scopes=token.get("scope", ""),
                      token_expires_at=utcnow() + timedelta(seconds=int(token.get("expires_in", 3599)) - 60),
                      calendar_id=sync_calendar, calendar_summary="Portal", status=ConnectionStatus.ACTIVE)
        if connection is None:
            connection = make_connection(user, google_email=email, **values)
        else:
            for name, value in values.items():
                setattr(connection, name, value)
            self.stack.db.session.commit()
        assert FREEBUSY_SCOPE in connection.scope_set, connection.granted_scopes
        return connection

    def share(self, connection, calendars: dict[str, str] | None) -> None:
        """What the card's choice does: these calendars ({id: name}; {}: off), the kept answers forgotten."""
        from app.busy import choose_calendars

        choose_calendars(connection, calendars)
        self.stack.db.session.commit()

    def forget(self, *connections) -> None:
        """What a push notification on the connection does to its kept busy times."""
        from app.busy import forget

        for connection in connections:
            forget(connection.id)


def appointment_form(bench: Bench, staff, contact, day, start: str, end: str) -> dict:
    token = re.search(r'name="csrf-token" content="([^"]+)"', bench.get_text("/appointments/new")).group(1)
    return {"csrf_token": token, "title": "Tax review", "start_date": day.isoformat(), "start_time": start,
            "end_time": end, "timezone": staff.timezone, "staff": staff.id, "contact": contact.id}


def bench_busy(latency_ms: int, repeat: int) -> None:
    from app.timefmt import zone

    with Stack(latency_ms=latency_ms) as stack:
        bench = Bench(stack)
        staff, contact = stack.user, stack.contact
        staff_conn = bench.sharing_connection(staff, GOOGLE_EMAIL, stack.connection())
        contact_conn = bench.sharing_connection(contact, CONTACT_EMAIL)
        service = bench.google_service(GOOGLE_EMAIL)
        others = {service.calendars().insert(body={"summary": name}).execute()["id"]: name for name in OTHER_CALENDARS}
        tz = zone(bench.tz)
        today = datetime.now(tz).date()
        ten = datetime.combine(today, datetime.min.time().replace(hour=10), tz)
        bench.busy_event(GOOGLE_EMAIL, "primary", ten)  # today: on this month's grid
        for n, calendar_id in enumerate(others, start=1):
            bench.busy_event(GOOGLE_EMAIL, calendar_id, ten + timedelta(hours=2 * n))
        day = today + timedelta(days=2)
        day_ten = datetime.combine(day, datetime.min.time().replace(hour=10), tz)
        bench.busy_event(GOOGLE_EMAIL, "primary", day_ten)  # staff busy 10:00–11:00 on the booking day
        bench.busy_event(CONTACT_EMAIL, "primary", day_ten + timedelta(hours=4))  # contact busy 14:00–15:00
        bench.get_text(MONTH)  # first-request work (templates) is not what is measured

        # Off: the page and the form ask Google nothing.
        _, page_off, _, _ = bench.measured("get", MONTH)
        off = bench.measured("post", "/appointments/new", data=appointment_form(bench, staff, contact, day,
                                                                                 "10:30", "11:30"))
        assert off[0].status_code == 302, off[0].status_code  # nobody shares: booked without a check
        form_off = off[1]

        bench.share(contact_conn, None)  # the contact shares their primary calendar
        for calendars in ({GOOGLE_EMAIL: GOOGLE_EMAIL}, {GOOGLE_EMAIL: GOOGLE_EMAIL, **others}):
            bench.share(staff_conn, calendars)
            figures = page_figures(bench, staff_conn, repeat, blocks=len(calendars))
            figures.update(form_figures(bench, staff, contact, day, repeat, staff_conn, contact_conn))
            emit(f"busy calendars={len(calendars)} latency={latency_ms}ms", **figures,
                 page_off_requests=page_off, form_off_requests=form_off,
                 target="page_cold=1,page_warm=0,form_cold=2,form_warm=0,off=0")
        emit(f"busy expired-token calendars=3 latency={latency_ms}ms",
             **expired_token_figures(bench, staff, contact, day, staff_conn, contact_conn),
             target="page_cold_requests_next=1,form_warned_requests_next=2")


def expired_token_figures(bench: Bench, staff, contact, day, *connections) -> dict:
    """The access tokens expired (they last an hour): two cold month views, then two warned forms, each after
    forgetting. The first of each refreshes the token(s) at Google's token endpoint; a refreshed token that is
    kept makes the next one a free/busy query only."""
    from app.models import utcnow

    for connection in connections:
        connection.token_expires_at = utcnow() - timedelta(minutes=1)
    bench.stack.db.session.commit()
    figures = {}
    for which in ("first", "next"):
        bench.forget(*connections)
        _, total, _, _ = bench.measured("get", MONTH)
        figures[f"page_cold_requests_{which}"] = total
        figures[f"page_cold_token_refreshes_{which}"] = bench.token_refreshes()
    for which in ("first", "next"):
        bench.forget(*connections)
        warned, total, _, _ = bench.measured("post", "/appointments/new",
                                             data=appointment_form(bench, staff, contact, day, "10:30", "11:30"))
        assert warned.status_code == 409, warned.status_code
        figures[f"form_warned_requests_{which}"] = total
        figures[f"form_warned_token_refreshes_{which}"] = bench.token_refreshes()
    return figures


def page_figures(bench: Bench, connection, repeat: int, blocks: int) -> dict:
    """Month view cold (just forgotten) and warm; then the agenda (the same range) and the week after it."""
    cold_requests, cold_freebusy, warm_requests, cold_ms, warm_ms = [], [], [], [], []
    for _ in range(repeat):
        bench.forget(connection)
        response, total, freebusy, ms = bench.measured("get", MONTH)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and page.count('data-kind="busy"') >= blocks, "busy blocks not drawn"
        assert "Private" not in page and 'id="busy-unavailable"' not in page
        cold_requests.append(total)
        cold_freebusy.append(freebusy)
        cold_ms.append(ms)
        response, total, _, ms = bench.measured("get", MONTH)
        assert response.status_code == 200
        warm_requests.append(total)
        warm_ms.append(ms)
    agenda = bench.measured("get", MONTH + "?view=agenda")[1]
    week = bench.measured("get", MONTH + "?view=week")[1]
    return {"page_cold_requests": max(cold_requests), "page_cold_freebusy": max(cold_freebusy),
            "page_warm_requests": max(warm_requests), "page_cold_ms": statistics.median(cold_ms),
            "page_warm_ms": statistics.median(warm_ms), "agenda_after_month_requests": agenda,
            "week_after_month_requests": week}


def form_figures(bench: Bench, staff, contact, day, repeat: int, *connections) -> dict:
    """The form warns (staff busy 10:00–11:00), then the offered free slot is booked the same day (kept answers)."""
    cold_requests, warm_requests, cold_ms, warm_ms, statuses = [], [], [], [], set()
    for _ in range(repeat):
        bench.forget(*connections)
        warned = bench.measured("post", "/appointments/new",
                                data=appointment_form(bench, staff, contact, day, "10:30", "11:30"))
        page = warned[0].get_data(as_text=True)
        assert warned[0].status_code == 409 and f"{staff.name} is busy in Google 10:00–11:00." in page, \
            (warned[0].status_code, page[:300])
        booked = bench.measured("post", "/appointments/new",
                                data=appointment_form(bench, staff, contact, day, "11:00", "12:00"))
        statuses.add((warned[0].status_code, booked[0].status_code))
        cold_requests.append(warned[1])
        warm_requests.append(booked[1])
        cold_ms.append(warned[3])
        warm_ms.append(booked[3])
    (cold_status, warm_status), = statuses
    return {"form_cold_requests": max(cold_requests), "form_warm_requests": max(warm_requests),
            "form_cold_status": cold_status, "form_warm_status": warm_status,
            "form_cold_ms": statistics.median(cold_ms), "form_warm_ms": statistics.median(warm_ms)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=20, help="ms the emulator adds to every request")
    parser.add_argument("--repeat", type=int, default=5, help="cold/warm pairs timed (median; requests: the most)")
    args = parser.parse_args(argv)
    bench_busy(args.latency, args.repeat)


if __name__ == "__main__":
    main()
