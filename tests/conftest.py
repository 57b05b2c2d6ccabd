"""Shared fixtures: an app on a fresh database, one real redis-server per session, users of
every role with real logins (CSRF on), an RQ worker helper, the Google emulator and Chromium."""
from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from rq import SimpleWorker

from app import create_app
from app.extensions import db
from app.models import User
from app.queues import all_queues, get_redis
from config import TestConfig
from testsupport.factories import PASSWORD, make_company
from testsupport.helpers import free_port
from testsupport.processes import RedisServer, process_env, rq_worker_command, start_logged, stop_process


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server of the test session's own, on a free port."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server (aiosmtpd) of the test session's own, on a free port; `mailbox` reads it."""
    from testsupport.mail import MailSink

    sink = MailSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(smtp):
    """What the portal sent by mail during the test (`mailbox.take()`), read from the real SMTP server."""
    smtp.inbox.take()
    smtp.inbox.refuse = None
    yield smtp.inbox
    smtp.inbox.refuse = None
    if smtp.controller is None:  # a test took the server down and failed before bringing it back
        smtp.start()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One Google emulator for the whole session; tests reset it through `google`. It is as strict as Google
    (quotas, use limits, withheld details of deleted events) except for one development flag: the portal the
    tests serve gets Google's webhooks on http://127.0.0.1, which Google would refuse for not being HTTPS."""
    from google_emulator.testing import EmulatorServer

    server = EmulatorServer.start(db_path=str(tmp_path_factory.mktemp("emulator") / "emu.sqlite3"),
                                  allow_http_webhooks=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(worker_id):
    """With TEST_DATABASE_URL, a database of each pytest-xdist worker's own, created on first use."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    url = sa.engine.make_url(base)
    name = f"{url.database}_{worker_id}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_url(tmp_path, postgres_url):
    """SQLite in a file (so a separate worker process can share it), or this worker's PostgreSQL database."""
    return postgres_url or f"sqlite:///{tmp_path / 'portal.sqlite3'}"


@pytest.fixture
def server_port():
    """The port the portal is (or would be) served on: the OAuth redirect URI and webhook point here."""
    return free_port()


@pytest.fixture
def app_config(database_url, redis_url, emulator, server_port, smtp):
    portal = f"http://127.0.0.1:{server_port}"
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "REDIS_NAMESPACE": f"t{uuid.uuid4().hex[:8]}",
        "GOOGLE_API_BASE_URL": emulator.base_url,
        "GOOGLE_OPENID_CONFIGURATION_URL": f"{emulator.base_url}/.well-known/openid-configuration",
        "GOOGLE_REDIRECT_URI": f"{portal}/broker/google/callback",
        "PORTAL_BASE_URL": portal,
        "WEBHOOK_BASE_URL": portal,
        "GOOGLE_RETRY_BASE_SECONDS": 0.01,
        "SYNC_LOCK_WAIT_SECONDS": 0.2,
        "PUSH_COALESCE_SECONDS": 0,  # in-process burst workers run what is queued now; see test_batching
        "PULL_SPACING_SECONDS": 0,  # likewise; the spacing itself: tests/faults/test_notification_burst.py
    }


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: no `g` or DB session shared with the test."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()  # the test's own session sees what the request committed
        return response


@pytest.fixture
def app(app_config):
    app = create_app(TestConfig, **app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def company(app):
    return make_company("Acme")


@pytest.fixture
def users(company):
    return company[1]


@pytest.fixture
def other_company(app):
    """A second tenant, to prove nothing crosses companies."""
    return make_company("Globex")


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user: User, password: str = PASSWORD):
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def login_as(app):
    """`login_as(user)` → a test client signed in through the real login form."""
    def _login(user: User):
        return login(app.test_client(), user)
    return _login


def post_form(client, path: str, data: dict, page: str | None = None, **kwargs):
    """POST a form with the real CSRF token read from the page it lives on."""
    data = {"csrf_token": csrf_token(client, page or "/dashboard"), **data}
    return client.post(path, data=data, **kwargs)


class BurstWorker(SimpleWorker):
    """In-process worker for tests. It skips the pubsub channel for remote commands, which a burst run
    never receives and whose thread costs a one-second join at every stop."""

    def subscribe(self):
        pass


def run_jobs(app) -> int:
    """Run every queued job for real with an in-process RQ worker (all queues, in priority order)."""
    queues = all_queues()

    def finished() -> int:
        return sum(queue.finished_job_registry.count + queue.failed_job_registry.count for queue in queues)

    before = finished()
    BurstWorker(queues, connection=get_redis()).work(burst=True, with_scheduler=False)
    return finished() - before


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the session, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def google(emulator, app):
    """The emulator, reset, with two Google accounts and our OAuth client registered for this app."""
    emulator.reset()
    for email, name in (("alex@example.com", "Alex Client"), ("sam@example.com", "Sam Staff")):
        emulator.add_account(email, name)
    emulator.register_client(app.config["GOOGLE_CLIENT_ID"], app.config["GOOGLE_CLIENT_SECRET"],
                             [app.config["GOOGLE_REDIRECT_URI"]])
    return emulator


@pytest.fixture
def live_server(app, server_port):
    """The app served over HTTP in a thread, for the browser and for Google's webhooks."""
    import threading

    from werkzeug.serving import make_server

    port = server_port
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{port}"
    yield server
    server.shutdown()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)  # generous: CI runs two test workers on two cores
    page = context.new_page()
    yield page
    context.close()


@contextmanager
def counted_statements():
    """Collects the SQL statements run inside the block, to check a page's query budget."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def browser_login(page, user: User) -> None:
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard")


@pytest.fixture
def worker_process(app, tmp_path):
    """A separate `rq worker` process on this test's queues, configured like production (environment only)."""
    proc = start_logged(rq_worker_command(app.config, "--worker-ttl", "30", "--with-scheduler"),
                        process_env(app.config), tmp_path / "worker.log")
    proc.log_path = tmp_path / "worker.log"
    yield proc
    stop_process(proc)


def pytest_terminal_summary(terminalreporter):
    """The fault suite's figure lines (tests/faults, `figure` fixture), shown with or without `-s`."""
    lines = [value for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
             for key, value in getattr(report, "user_properties", ()) if key == "figures"]
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
