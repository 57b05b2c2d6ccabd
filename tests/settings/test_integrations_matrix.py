"""Every Integrations and broker route × every role × visible/hidden: hidden roles get 403, visible ones never.

The routes are read from the app's URL map, so a route added later without `integrations_required`
fails here without anyone touching this test.
"""
from __future__ import annotations

import uuid

import pytest
from werkzeug.routing import UUIDConverter

from app.extensions import db
from app.models import Role
from tests.conftest import csrf_token

GUARDED_BLUEPRINTS = ("integrations.", "broker.")
# Google calls the push-notification webhook, not a signed-in user; it is authenticated by the
# channel token instead, so role visibility does not apply to it. The broker's callback reads no session
# (it answers on its own host): it applies the role rule to the user its sealed state names
# (tests/integrations/test_broker.py), and the portal's handoff after it is in this matrix.
NOT_USER_FACING = {"broker.webhook", "broker.google_callback"}


def guarded_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith(GUARDED_BLUEPRINTS) and rule.endpoint not in NOT_USER_FACING),
                  key=lambda rule: rule.rule)


def sample_path(rule) -> str:
    """The rule's URL with every converter filled in (1, or a UUID where one is required).

    A UUID route built with 1 would not match and answer 404 before any access check ran.
    """
    values = {arg: (uuid.UUID(int=1) if isinstance(rule._converters[arg], UUIDConverter) else 1)
              for arg in rule.arguments}
    return rule.build(values)[1]


def test_the_matrix_covers_the_integrations_routes(app):
    endpoints = {rule.endpoint for rule in guarded_rules(app)}
    # If these are missing the matrix below would pass on nothing.
    assert {"integrations.index", "integrations.google_handoff"} <= endpoints, endpoints
    assert NOT_USER_FACING <= set(app.view_functions), "an exception no longer names a real endpoint"


def wrong_answers(app, client, refused: bool) -> list[str]:
    """The guarded routes whose answer is not what the role's visibility requires."""
    token = csrf_token(client, "/dashboard")
    wrong = []
    for rule in guarded_rules(app):
        path = sample_path(rule)
        if "GET" in rule.methods:
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token})
        status = response.status_code
        if (status == 403) != refused or status >= 500:
            wrong.append(f"{rule.endpoint} {path}: {status}")
    return wrong


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_hidden_roles_get_403_on_every_integrations_route(app, company, users, login_as, role, hidden):
    company[0].settings = {"integrations_hidden_roles": [role.value] if hidden else []}
    db.session.commit()
    refused = hidden and role is not Role.ADMIN  # admins always keep access
    wrong = wrong_answers(app, login_as(users[role]), refused)
    expected = "403" if refused else "no 403"
    assert not wrong, f"{role.value} ({'hidden' if hidden else 'visible'}) expected {expected}: {wrong}"


def test_the_matrix_catches_a_route_without_the_check(app, company, users, login_as):
    app.add_url_rule("/integrations/unguarded/<int:item_id>", endpoint="integrations.unguarded",
                     view_func=lambda item_id: "no check here")
    company[0].settings = {"integrations_hidden_roles": ["client"]}
    db.session.commit()
    assert wrong_answers(app, login_as(users[Role.CLIENT]), refused=True) == [
        "integrations.unguarded /integrations/unguarded/1: 200"]
