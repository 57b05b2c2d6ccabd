"""The Calendar page: the user's own items and Google events, by month and week, in their zone."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from app.extensions import db
from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, GoogleEvent, Role
from tests.conftest import counted_statements


def day_cell(html: str, day: str) -> str:
    match = re.search(rf'data-date="{day}">(.*?)</div>\s*\n\s*(?:<div class="cal-day|</div>)', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def connect(user, kind=ConnectionKind.TWO_WAY) -> CalendarConnection:
    connection = CalendarConnection(company_id=user.company_id, user_id=user.id, kind=kind,
                                    status=ConnectionStatus.ACTIVE, calendar_id="primary")
    db.session.add(connection)
    db.session.commit()
    return connection


@pytest.fixture
def may_2030(acme, users, make_task, make_event, make_appointment):
    """A client's May 2030: a timed task, an all-day task, a multi-day event, an evening appointment."""
    client_user, staff = users[Role.CLIENT], users[Role.STAFF]
    make_task(acme, [client_user], title="Timed task", due_at=datetime(2030, 5, 6, 8, 30))  # 09:30 in London
    make_task(acme, [client_user], title="All-day task", due_date=date(2030, 5, 20))
    make_event(acme, [client_user, staff], title="Three-day conference", all_day=True,
               start_date=date(2030, 5, 14), end_date=date(2030, 5, 16))
    make_appointment(acme, staff, client_user, title="Late appointment",  # 23:30–00:30 London: two days
                     start_at=datetime(2030, 5, 22, 22, 30), end_at=datetime(2030, 5, 22, 23, 30))
    make_task(acme, [users[Role.PROSPECT]], title="Not mine")
    deleted = make_task(acme, [client_user], title="Deleted task", due_date=date(2030, 5, 7))
    deleted.deleted_at = deleted.created_at
    db.session.commit()


def test_month_view_shows_timed_all_day_and_multi_day_items_on_their_days(may_2030, users, login_as):
    html = login_as(users[Role.CLIENT]).get("/calendar/?date=2030-05-10").get_data(as_text=True)
    assert "May 2030" in html
    assert "09:30</span> Timed task" in day_cell(html, "2030-05-06")
    assert "All-day task" in day_cell(html, "2030-05-20")
    for day in ("2030-05-14", "2030-05-15", "2030-05-16"):
        assert "Three-day conference" in day_cell(html, day)
    assert "Three-day conference" not in day_cell(html, "2030-05-17")
    assert "23:30</span> Late appointment" in day_cell(html, "2030-05-22")
    assert "Late appointment" in day_cell(html, "2030-05-23")
    assert "Not mine" not in html and "Deleted task" not in html
    assert 'class="cal-entry task" href="/tasks/' in html
    assert 'class="cal-entry event" href="/events/' in html
    # the grid runs from the Monday before the 1st to the Sunday after the 31st
    assert 'data-date="2030-04-29"' in html and 'data-date="2030-06-02"' in html


def test_week_view_shows_only_that_week_with_times(may_2030, users, login_as):
    html = login_as(users[Role.CLIENT]).get("/calendar/?view=week&date=2030-05-15").get_data(as_text=True)
    assert "Week of Mon 13 May 2030" in html
    assert html.count('data-date="') == 7
    assert "Three-day conference" in day_cell(html, "2030-05-16")
    assert "Timed task" not in html
    assert 'href="/calendar/?view=week&amp;date=2030-05-06"' in html  # prev
    assert 'href="/calendar/?view=week&amp;date=2030-05-20"' in html  # next


def agenda_days(html: str) -> list[str]:
    section = html.split('id="agenda"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<h2 class="h6 cal-agenda-day[^"]*" data-date="([\d-]+)"', section)


def test_the_agenda_lists_the_months_days_that_have_items_with_full_titles(may_2030, users, login_as):
    client = login_as(users[Role.CLIENT])
    html = client.get("/calendar/?view=agenda&date=2030-05-10").get_data(as_text=True)
    assert 'id="calendar"' not in html and "cal-agenda cal-agenda-only" in html  # the list alone, at every width
    assert agenda_days(html) == ["2030-05-06", "2030-05-14", "2030-05-15", "2030-05-16", "2030-05-20",
                                 "2030-05-22", "2030-05-23"]
    assert "Wednesday 22 May" in html and "23:30</span> Late appointment" in html
    assert 'aria-current="page">Agenda' in html and 'aria-label="Next month"' in html
    assert 'href="/calendar/?view=agenda&amp;date=2030-06-01"' in html  # next keeps the view
    # the month view carries the same list, which portal.css shows instead of the grid below 576 px
    month = client.get("/calendar/?date=2030-05-10").get_data(as_text=True)
    assert 'id="calendar"' in month and agenda_days(month) == agenda_days(html)
    assert "cal-agenda-only" not in month
    empty = client.get("/calendar/?view=agenda&date=2031-02-01").get_data(as_text=True)
    assert agenda_days(empty) == [] and "Nothing in February 2031." in empty


def test_staff_see_only_their_own_items_on_the_calendar(may_2030, users, login_as):
    html = login_as(users[Role.STAFF]).get("/calendar/?date=2030-05-01").get_data(as_text=True)
    assert "Three-day conference" in html and "Late appointment" in html
    assert "Timed task" not in html and "Not mine" not in html


def test_google_events_of_the_users_connection_show_as_google(acme, users, login_as, other_company):
    client_user = users[Role.CLIENT]
    mine, someone_elses = connect(client_user), connect(users[Role.STAFF])
    db.session.add_all([
        GoogleEvent(company_id=acme.id, connection_id=mine.id, google_event_id="g1", summary="Dentist",
                    start_at=datetime(2030, 5, 8, 13), end_at=datetime(2030, 5, 8, 14),
                    html_link="https://calendar.google.com/event?eid=g1"),
        GoogleEvent(company_id=acme.id, connection_id=mine.id, google_event_id="g2", summary="Holiday",
                    all_day=True, start_date=date(2030, 5, 27), end_date=date(2030, 5, 28)),
        GoogleEvent(company_id=acme.id, connection_id=someone_elses.id, google_event_id="g3", summary="Staff's own",
                    start_at=datetime(2030, 5, 8, 9), end_at=datetime(2030, 5, 8, 10)),
    ])
    db.session.commit()
    html = login_as(client_user).get("/calendar/?date=2030-05-08").get_data(as_text=True)
    dentist = day_cell(html, "2030-05-08")
    assert 'class="cal-entry google"' in dentist and ">Google</span>" in dentist and "14:00</span> Dentist" in dentist
    assert 'href="https://calendar.google.com/event?eid=g1"' in dentist
    assert "Holiday" in day_cell(html, "2030-05-27") and "Holiday" in day_cell(html, "2030-05-28")
    assert "Staff&#39;s own" not in html


def test_the_calendar_runs_a_handful_of_queries_however_many_items(may_2030, acme, users, login_as, make_event):
    for n in range(20):
        make_event(acme, [users[Role.CLIENT], users[Role.STAFF]], title=f"Bulk {n}",
                   start_at=datetime(2030, 5, 1 + n, 10), end_at=datetime(2030, 5, 1 + n, 11))
    client = login_as(users[Role.CLIENT])
    with counted_statements() as statements:
        html = client.get("/calendar/?date=2030-05-01").get_data(as_text=True)
    assert html.count("data-kind=\"event\"") >= 20
    assert len(statements) <= 9, statements  # 9: whether the user shares busy times (app.busy)


@pytest.mark.parametrize("query", ["view=year", "date=2030-13-01", "date=yesterday", "date=0001-01-01",
                                   "date=9999-01-01", "date=2030-5-1x", "view=week&date=%00"])
def test_a_bad_query_string_gets_400_with_a_message(query, users, login_as):
    response = login_as(users[Role.CLIENT]).get(f"/calendar/?{query}")
    assert response.status_code == 400
    assert 'id="error-message"' in response.get_data(as_text=True)


def test_the_calendar_stops_at_the_edges_of_the_accepted_dates(users, login_as):
    client = login_as(users[Role.CLIENT])
    first = client.get("/calendar/?date=1970-01-01").get_data(as_text=True)
    last = client.get("/calendar/?date=2100-12-31").get_data(as_text=True)
    assert 'id="cal-prev"' not in first and 'id="cal-next"' in first
    assert 'id="cal-next"' not in last and 'id="cal-prev"' in last


def test_today_is_the_default_and_marked(users, login_as):
    html = login_as(users[Role.CLIENT]).get("/calendar/").get_data(as_text=True)
    assert html.count("cal-day today") == 1 and 'data-view="month"' in html
