"""Small details users notice: a trailing slash still finds the page, the favicon, dates in "Coming up"."""
from datetime import UTC
from zoneinfo import ZoneInfo

from app.models import Role
from testsupport.factories import make_items


def test_trailing_slash_redirects_to_the_page(users, login_as):
    client = login_as(users[Role.STAFF])
    response = client.get("/tasks/?page=2")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/tasks?page=2")
    assert client.get("/tasks/", follow_redirects=True).status_code == 200
    assert client.get("/no-such-page/").status_code == 404


def test_favicon_is_served(client):
    assert client.get("/favicon.ico").status_code == 301
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in icon.data
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_coming_up_shows_when_each_item_happens(users, login_as):
    client_user = users[Role.CLIENT]
    client_user.timezone = "Asia/Tokyo"
    task, appointment = make_items(client_user, tasks=1, appointments=1)
    page = login_as(client_user).get("/dashboard").get_data(as_text=True)
    assert task.due_date.strftime("%a %d %b %Y") in page
    local_start = appointment.start_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    assert local_start.strftime("%a %d %b %Y, %H:%M") in page
