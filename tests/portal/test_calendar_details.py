"""Calendar details: a marker on items deleted in Google, and the data of a Google event's detail view."""
from __future__ import annotations

from datetime import date, datetime

from app.extensions import db
from app.models import EventLink, GoogleEvent, Role, SyncHistory
from tests.portal.test_calendar import connect, day_cell


def test_items_deleted_in_google_carry_a_marker_until_they_are_back(acme, users, login_as, make_event):
    client_user, staff = users[Role.CLIENT], users[Role.STAFF]
    connection = connect(client_user)
    gone = make_event(acme, [client_user, staff], title="Removed in Google",
                      start_at=datetime(2030, 5, 8, 9), end_at=datetime(2030, 5, 8, 10))
    back = make_event(acme, [client_user, staff], title="Pushed again",
                      start_at=datetime(2030, 5, 9, 9), end_at=datetime(2030, 5, 9, 10))
    for event in (gone, back):
        db.session.add(SyncHistory(company_id=acme.id, item_type="event", item_id=event.id,
                                   user_id=client_user.id, action="unlinked_after_google_delete", detail={}))
    db.session.add(EventLink(company_id=acme.id, connection_id=connection.id, item_type="event", item_id=back.id,
                             google_event_id="pback"))
    staff_connection = connect(staff)  # the staff member's own copy of it is still in their Google calendar
    db.session.add(EventLink(company_id=acme.id, connection_id=staff_connection.id, item_type="event",
                             item_id=gone.id, google_event_id="pgone"))
    db.session.commit()
    html = login_as(client_user).get("/calendar/?date=2030-05-08").get_data(as_text=True)
    assert "deleted-in-google" in day_cell(html, "2030-05-08") and "Deleted in Google</span>" in day_cell(
        html, "2030-05-08")
    assert "deleted-in-google" not in day_cell(html, "2030-05-09")
    # The marker is the deleting user's: the staff member's copy was not touched.
    staff_html = login_as(staff).get("/calendar/?date=2030-05-08").get_data(as_text=True)
    assert "deleted-in-google" not in day_cell(staff_html, "2030-05-08")


def test_google_events_carry_their_details_for_the_detail_view(acme, users, login_as):
    client_user = users[Role.CLIENT]
    connection = connect(client_user)
    db.session.add_all([
        GoogleEvent(company_id=acme.id, connection_id=connection.id, google_event_id="g1", summary="Dentist",
                    location="High Street 1", description="Bring the card",
                    start_at=datetime(2030, 5, 8, 13), end_at=datetime(2030, 5, 8, 14),
                    html_link="https://calendar.google.com/event?eid=g1"),
        GoogleEvent(company_id=acme.id, connection_id=connection.id, google_event_id="g2", summary="Holiday",
                    all_day=True, start_date=date(2030, 5, 27), end_date=date(2030, 5, 28)),
    ])
    db.session.commit()
    html = login_as(client_user).get("/calendar/?date=2030-05-08").get_data(as_text=True)
    dentist = day_cell(html, "2030-05-08")
    assert 'data-bs-target="#google-event-dialog"' in dentist
    assert 'data-when="Wed 08 May 2030, 14:00 – 15:00"' in dentist  # the user's zone (London)
    assert 'data-location="High Street 1"' in dentist and 'data-description="Bring the card"' in dentist
    assert 'data-link="https://calendar.google.com/event?eid=g1"' in dentist
    assert 'data-when="Mon 27 May 2030 – Tue 28 May 2030 (all day)"' in day_cell(html, "2030-05-27")
    assert "Open in Google Calendar" in html
