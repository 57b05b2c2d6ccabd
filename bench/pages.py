"""The Integrations and Calendar pages under concurrent logged-in clients (gunicorn), and SQL queries per request.

    .venv/bin/python -m bench.pages --clients 50 --seconds 10 --workers 3
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests

from bench.common import Stack, emit, google_user_events, percentile
from testsupport.factories import PASSWORD
from testsupport.helpers import free_port, wait_for_port
from testsupport.processes import start_logged, stop_process

PAGES = ("/integrations/", "/calendar/")


def login(get, post, email: str) -> None:
    """Sign in through the real form: read the CSRF token from the page, post the credentials."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', get("/login"))
    assert match, "no CSRF token on /login"
    status = post("/login", {"email": email, "password": PASSWORD, "csrf_token": match.group(1)})
    assert status == 302, f"login answered {status}"


def add_native_events(stack: Stack, count: int) -> None:
    """Events created in Google itself, so the Calendar page also draws Google-native rows after the pull."""
    from app.models import utcnow

    events = google_user_events(stack)
    start = utcnow().replace(microsecond=0, second=0, minute=0) + timedelta(hours=3)
    for i in range(count):
        when = start + timedelta(hours=11 * i)
        events.insert(calendarId=stack.connection().calendar_id, body={
            "summary": f"Google event {i}", "start": {"dateTime": when.isoformat() + "Z"},
            "end": {"dateTime": (when + timedelta(hours=1)).isoformat() + "Z"}}).execute()


def sql_queries_per_page(stack: Stack) -> dict[str, int]:
    """SQL statements one logged-in request runs (Flask test client; each request in its own app context)."""
    from sqlalchemy import event

    app, db = stack.app, stack.db
    client = app.test_client()

    def get(path: str) -> str:
        with app.app_context():
            return client.get(path).get_data(as_text=True)

    def post(path: str, data: dict) -> int:
        with app.app_context():
            return client.post(path, data=data).status_code

    login(get, post, stack.user.email)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    counts: dict[str, int] = {}
    for path in PAGES:
        get(path)  # warm: first-request work is not per-request work
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            with app.app_context():
                status = client.get(path).status_code
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert status == 200, f"{path} answered {status}"
        counts[path] = len(statements)
    return counts


def start_gunicorn(stack: Stack, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = start_logged([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                         "--timeout", "60", "wsgi:app"], stack.env, stack.tmp / "gunicorn.log")
    stack.procs.append(proc)
    wait_for_port(port, timeout=20)
    return proc, f"http://127.0.0.1:{port}"


def logged_in_session(base: str, email: str) -> requests.Session:
    session = requests.Session()
    login(lambda path: session.get(base + path, timeout=30).text,
          lambda path, data: session.post(base + path, data=data, allow_redirects=False, timeout=30).status_code,
          email)
    return session


def load(sessions: list[requests.Session], url: str, seconds: float) -> dict:
    """Every session requests `url` in a loop for `seconds`; latency percentiles and throughput."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(session: requests.Session) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = session.get(url, allow_redirects=False, timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                errors[0] += not ok

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"requests": len(latencies), "errors": errors[0], "rps": len(latencies) / elapsed,
            "p50_ms": 1000 * percentile(latencies, 0.50), "p95_ms": 1000 * percentile(latencies, 0.95),
            "max_ms": 1000 * max(latencies)}


def bench_pages(n: int, clients: int, seconds: float, workers: int) -> None:
    with Stack(latency_ms=0) as stack:
        stack.seed_items(n)
        add_native_events(stack, 100)
        stack.push_existing()  # links, run history and the Google-native events the pages show
        queries = sql_queries_per_page(stack)
        proc, base = start_gunicorn(stack, workers)
        with ThreadPoolExecutor(8) as pool:
            sessions = list(pool.map(lambda _: logged_in_session(base, stack.user.email), range(clients)))
        for path in PAGES:
            figures = load(sessions, base + path, seconds)
            target = {"target_sql": "<=10"} if path == "/integrations/" else {}
            emit(f"pages {path} clients={clients} gunicorn_workers={workers} items={n}", **figures,
                 sql_queries=queries[path], **target)
        stop_process(proc)
        stack.procs.remove(proc)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="items the user takes part in")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    args = parser.parse_args(argv)
    bench_pages(args.n, args.clients, args.seconds, args.workers)


if __name__ == "__main__":
    main()
