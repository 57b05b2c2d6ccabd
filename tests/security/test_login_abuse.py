"""Sign-in abuse: guessing is throttled per account and per address, counted in the suite's own Redis,
and the answer takes as long for an unknown email as for a known one (no account enumeration)."""
from __future__ import annotations

import re
import statistics
import time

from app.extensions import db
from app.models import Role
from app.queues import get_redis
from app.security import THROTTLED_MESSAGE
from tests.conftest import csrf_token
from testsupport.factories import PASSWORD


def attempt(client, email: str, password: str = "wrong password", ip: str = "10.0.0.1"):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def test_fifty_wrong_passwords_for_one_account_are_throttled(app, client, users):
    user = users[Role.STAFF]
    # From 50 addresses, so only the per-account limit can stop them.
    statuses = [attempt(client, user.email.upper(), ip=f"10.0.1.{n}").status_code for n in range(50)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}, statuses
    throttled = attempt(client, user.email, PASSWORD, ip="10.0.2.1")  # even the right password waits
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    page = throttled.get_data(as_text=True)
    assert THROTTLED_MESSAGE in page and "per 1 minute" not in page
    assert throttled.headers["Content-Type"].startswith("text/html")
    # Counted in the suite's Redis, under this app's namespace: shared by every web process.
    assert get_redis().keys(f"*{app.config['REDIS_NAMESPACE']}:login:account:*:{user.email}*")
    # Another account is not affected.
    assert attempt(client, users[Role.CLIENT].email, PASSWORD, ip="10.0.2.2").status_code == 302


def test_many_emails_from_one_address_are_throttled(app, client, users):
    app.config["LOGIN_LIMIT_PER_IP"] = "10 per minute"  # the default (30) costs 30 password checks to reach
    statuses = [attempt(client, f"guess{n}@nowhere.test", ip="10.0.3.1").status_code for n in range(20)]
    assert statuses[:10] == [400] * 10 and set(statuses[10:]) == {429}, statuses
    assert attempt(client, users[Role.CLIENT].email, PASSWORD, ip="10.0.3.2").status_code == 302


def test_successful_sign_ins_are_never_counted(app, client, users):
    app.config["LOGIN_LIMIT_PER_IP"] = app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    user = users[Role.CLIENT]
    for _ in range(4):
        assert attempt(client, user.email, PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert [attempt(client, user.email).status_code for _ in range(3)] == [400, 400, 429]


def test_unknown_and_known_emails_take_the_same_time(client, users):
    """Medians of a few attempts each, interleaved, with a generous bound: the gap was 15× (136 vs 9 ms)."""
    known, unknown = [], []
    for n in range(5):
        for email, times in ((users[Role.STAFF].email, known), (f"nobody{n}@acme.test", unknown)):
            token = csrf_token(client)
            start = time.perf_counter()
            response = client.post("/login", data={"email": email, "password": "wrong", "csrf_token": token})
            times.append(time.perf_counter() - start)
            assert response.status_code == 400
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2, (known, unknown)


def test_one_companys_throttle_never_locks_out_another_companys_user_with_the_same_address(
        app, client, company, other_company):
    """Two companies on their own hosts, a person in each with the same email: guessing on Acme's host locks
    Acme's account only; the per-address limit stays (here from other addresses)."""
    acme, globex = company[0], other_company[0]
    acme.portal_url, globex.portal_url = "http://acme.test", "http://globex.test"
    acme_user, globex_user = company[1][Role.CLIENT], other_company[1][Role.CLIENT]
    globex_user.email = acme_user.email = "sam@shared.test"
    db.session.commit()

    def on(host: str, password: str, ip: str) -> int:
        html = client.get("/login", base_url=f"http://{host}").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        return client.post("/login", base_url=f"http://{host}", environ_base={"REMOTE_ADDR": ip},
                           data={"email": "sam@shared.test", "password": password, "csrf_token": token}).status_code

    statuses = [on("acme.test", "wrong password", f"10.0.5.{n}") for n in range(30)]
    assert set(statuses[5:]) == {429}, statuses
    assert on("acme.test", PASSWORD, "10.0.6.1") == 429  # Acme's account waits
    assert on("globex.test", PASSWORD, "10.0.6.2") == 302  # Globex's person signs in
