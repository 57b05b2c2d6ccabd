from tests.conftest import csrf_token, login
from testsupport.factories import PASSWORD


def test_login_redirects_to_dashboard_and_shows_company_header(client, users, company):
    login(client, users[users.__iter__().__next__()])
    html = client.get("/dashboard").get_data(as_text=True)
    assert company[0].name in html


def test_wrong_password_is_refused_with_a_message(client, users):
    user = next(iter(users.values()))
    response = client.post("/login", data={"email": user.email, "password": "nope", "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, users):
    user = next(iter(users.values()))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_next_only_redirects_within_the_site(client, users):
    user = next(iter(users.values()))
    for target, expected in (("/calendar/", "/calendar/"), ("//evil.example/x", "/dashboard"),
                             ("https://evil.example/", "/dashboard")):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": target,
                                               "csrf_token": csrf_token(client)})
        assert response.headers["Location"] == expected


def test_pages_need_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
