"""Every route that takes an id, read from the URL map, refuses another tenant's rows and another user's
rows (404, or 403 where the role may not use the route at all), and changes nothing.

tests/portal/test_tenancy.py and tests/settings prove the rules route by route; this test makes sure a
route added later cannot escape them: each id argument must have a target below or the test fails.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from app.extensions import db
from app.models import Company, Role, SyncRun
from tests.conftest import csrf_token
from tests.security.conftest import rules
from testsupport.factories import make_connection

KINDS = ("task", "event", "appointment")


def snapshot(row) -> dict:
    db.session.refresh(row)
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def make_run(user, connection) -> SyncRun:
    run = SyncRun(company_id=user.company_id, user_id=user.id, connection_id=connection.id, kind="push_existing",
                  status="running", total=10, done=3)
    db.session.add(run)
    db.session.commit()
    return run


@pytest.fixture
def targets(acme_side, globex_side):
    return {"cross-tenant": globex_side, "cross-user": acme_side}


def side(company: Company, owner, others, make_task, make_event, make_appointment) -> dict:
    """Rows of `owner` (and, for items, `others`): one of each thing an id in a URL can name."""
    connection = make_connection(owner)
    items = {"task": make_task(company, [owner, *others]), "event": make_event(company, [owner, *others]),
             "appointment": make_appointment(company, others[0], owner)}
    trashed = {"task": make_task(company, [owner, *others], deleted_at=datetime(2030, 1, 1)),
               "event": make_event(company, [owner, *others], deleted_at=datetime(2030, 1, 1)),
               "appointment": make_appointment(company, others[0], owner, deleted_at=datetime(2030, 1, 1))}
    company.logo, company.logo_mimetype = b"\x89PNG\r\n\x1a\nlogo", "image/png"
    db.session.commit()
    return {"items": items, "trashed": trashed, "connection": connection, "run": make_run(owner, connection),
            "company": company}


@pytest.fixture
def globex_side(other_company, make_task, make_event, make_appointment):
    """Another tenant, everyone there taking part."""
    globex, people = other_company
    return side(globex, people[Role.CLIENT], [people[Role.STAFF], people[Role.ADMIN]],
                make_task, make_event, make_appointment)


@pytest.fixture
def acme_side(company, make_task, make_event, make_appointment):
    """Our own tenant, but rows of the prospect (the client probing does not take part in them)."""
    acme, people = company
    return side(acme, people[Role.PROSPECT], [people[Role.STAFF]], make_task, make_event, make_appointment)


def target_for(rule, kind: str, rows: dict):
    """(URL values, the row the URL names) for `rule`; fails for an id argument nobody taught this test."""
    if "item_id" in rule.arguments:
        group = rows["trashed"] if rule.endpoint == "portal.restore" else rows["items"]
        return {"item_id": group[kind].id, **({"kind": kind} if "kind" in rule.arguments - set(rule.defaults or {})
                                              else {})}, group[kind]
    for argument, key in (("connection_id", "connection"), ("run_id", "run"), ("company_id", "company")):
        if argument in rule.arguments:
            return {argument: rows[key].id}, rows[key]
    unknown = [a for a in rule.arguments if a.endswith("_id")]
    assert not unknown, f"{rule.endpoint}: teach this test what {unknown} names"
    return None


def kinds_of(rule) -> tuple[str, ...]:
    """The item kind(s) a route serves: fixed by the route's defaults, or any of them."""
    if "item_id" not in rule.arguments:
        return ("-",)
    fixed = (rule.defaults or {}).get("kind") or ("task" if rule.endpoint == "portal.task_toggle_done" else None)
    return (fixed,) if fixed else KINDS


def id_routes(app) -> list:
    return [rule for rule in rules(app, "GET", "POST") if any(argument.endswith("_id") for argument in rule.arguments)]


@pytest.mark.parametrize("probe", ["cross-tenant", "cross-user"])
def test_no_id_route_reaches_another_tenants_or_another_users_rows(probe, app, users, login_as, targets):
    actors = {"cross-tenant": [Role.ADMIN, Role.CLIENT], "cross-user": [Role.CLIENT]}[probe]
    probed = set()
    for role in actors:
        client = login_as(users[role])
        token = csrf_token(client, "/dashboard")
        for rule in id_routes(app):
            for kind in kinds_of(rule):
                values, row = target_for(rule, kind, targets[probe])
                with app.test_request_context():
                    from flask import url_for
                    url = url_for(rule.endpoint, **values)
                before = snapshot(row)
                for method in sorted(rule.methods & {"GET", "POST"}):
                    response = client.open(url, method=method, data={"csrf_token": token, "title": "Hijacked"}
                                           if method == "POST" else None)
                    assert response.status_code in (403, 404), f"{probe} {role} {method} {url}: {response.status_code}"
                    assert "Hijacked" not in response.get_data(as_text=True)
                assert snapshot(row) == before, f"{probe} {role} {url} changed the row"
                probed.add(rule.endpoint)
    assert {"portal.task_edit", "portal.restore", "integrations.run_status", "settings.disconnect_one"} <= probed


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])
def test_an_id_past_the_databases_integer_range_is_simply_not_found(number, app, users, login_as):
    """Such an id names no row: 404 on every id route, on SQLite and PostgreSQL alike (PostgreSQL refused the
    query: a 500 on three routes)."""
    client = login_as(users[Role.ADMIN])
    token = csrf_token(client, "/dashboard")
    for rule in id_routes(app):
        path = rule.rule
        for argument in rule.arguments - set(rule.defaults or {}):
            path = path.replace(f"<int:{argument}>", number).replace(f"<{argument}>", "task")
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
