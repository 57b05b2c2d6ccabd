"""Google sign-in failures reach users in plain words, never as OAuth error codes."""
from urllib.parse import parse_qs, urlsplit

from app.models import Role
from tests.conftest import csrf_token
from tests.google_flow import path_of


def test_a_callback_from_another_session_says_what_to_do(google, users, login_as):
    user = users[Role.CLIENT]
    first = login_as(user)
    start = first.post("/integrations/two-way/connect", data={"csrf_token": csrf_token(first, "/integrations/")})
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    other_tab = login_as(user)  # a fresh session: the sign-in was not started here
    callback = other_tab.get("/broker/google/callback", query_string={"state": state, "code": "whatever"})
    assert callback.status_code == 302  # the broker reads no session: the portal's handoff checks this one
    response = other_tab.get(path_of(callback.headers["Location"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "start again from the Integrations page" in page
    assert "mismatching_state" not in page and "state" not in page.split("<main", 1)[1].replace("start again", "")


def test_an_unknown_google_error_is_not_shown_as_a_code(google, users, login_as):
    user = users[Role.CLIENT]
    client = login_as(user)
    start = client.post("/integrations/two-way/connect", data={"csrf_token": csrf_token(client, "/integrations/")})
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    callback = client.get("/broker/google/callback", query_string={"state": state, "error": "server_error"})
    client.get(path_of(callback.headers["Location"]))  # the portal's handoff flashes the outcome
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Google sign-in did not complete" in page and "server_error" not in page
