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
    answer = client.get("/favicon.ico")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in icon.data
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_a_company_host_wears_the_companys_logo_as_its_icon(client, company):
    from app.commands import ring_logo_png
    from app.extensions import db

    company[0].portal_url = "http://acme.test"
    company[0].logo, company[0].logo_mimetype = ring_logo_png("#0f766e"), "image/png"
    db.session.commit()
    answer = client.get("/favicon.ico", base_url="http://acme.test")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/brand/logo")
    logo = client.get("/brand/logo", base_url="http://acme.test")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data.startswith(b"\x89PNG")
    again = client.get("/brand/logo", base_url="http://acme.test", headers={"If-None-Match": logo.headers["ETag"]})
    assert again.status_code == 304  # cached: revalidated by its ETag
    assert client.get("/brand/logo").status_code == 404  # the shared portal has no brand of its own


def test_coming_up_shows_when_each_item_happens(users, login_as):
    client_user = users[Role.CLIENT]
    client_user.timezone = "Asia/Tokyo"
    task, appointment = make_items(client_user, tasks=1, appointments=1)
    page = login_as(client_user).get("/dashboard").get_data(as_text=True)
    assert task.due_date.strftime("%a %d %b %Y") in page
    local_start = appointment.start_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    assert local_start.strftime("%a %d %b %Y, %H:%M") in page
