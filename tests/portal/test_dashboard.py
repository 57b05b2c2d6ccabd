"""The dashboard's "Coming up" list: the soonest items the user takes part in."""
from __future__ import annotations

import re
from datetime import timedelta

from app.models import utcnow


def upcoming_titles(client) -> list[str]:
    html = client.get("/dashboard").get_data(as_text=True)
    listing = html.split('id="upcoming"', 1)[1].split("</ul>", 1)[0]
    return [title.strip() for title in re.findall(r"</span>([^<]+)</li>", listing)]


def test_soonest_items_come_first_however_many_there_are(acme, client_user, staff, make_task, make_event,
                                                         make_appointment, login_as):
    today = utcnow().date()
    for n in range(12):  # created furthest first, so creation order is the opposite of date order
        make_task(acme, [client_user], title=f"Later task {n}", due_date=today + timedelta(days=60 - n))
    make_task(acme, [client_user], title="Timed task tomorrow", due_at=utcnow() + timedelta(days=1))
    make_task(acme, [client_user], title="Done task", due_date=today + timedelta(days=1), done=True)
    make_event(acme, [client_user], title="One-day event", all_day=True,
               start_date=today + timedelta(days=2), end_date=None)
    make_event(acme, [client_user], title="Past event", start_at=utcnow() - timedelta(days=3))
    make_appointment(acme, staff, client_user, title="Appointment in 3 days", start_at=utcnow() + timedelta(days=3))

    titles = upcoming_titles(login_as(client_user))

    assert titles[:3] == ["Timed task tomorrow", "One-day event", "Appointment in 3 days"]
    assert len(titles) == 10
    assert titles[3:] == [f"Later task {n}" for n in range(11, 4, -1)]
    assert "Done task" not in titles and "Past event" not in titles
