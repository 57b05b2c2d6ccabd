"""Shared by the abuse tests: the URL map read as data, so a new route is probed without editing a list."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from werkzeug.routing import Rule

# CI runs few examples per form; HYPOTHESIS_PROFILE=thorough runs many (e.g. before a release).
settings.register_profile("ci", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def rules(app, *methods: str) -> list[Rule]:
    """Our own routes answering any of `methods` (not the static files)."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.methods & set(methods) and not rule.endpoint.endswith("static")),
                  key=lambda rule: rule.rule)


def build(app, rule: Rule, **values) -> str:
    """A URL for `rule`, with 1 for any argument `values` does not give (any id: the check comes first)."""
    defaults = {"kind_slug": "two-way", "role": "staff", "kind": "task"}
    arguments = {name: values.get(name, defaults.get(name, 1)) for name in rule.arguments
                 if name not in (rule.defaults or {})}
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **arguments)


# The portal's item factories, shared rather than copied.
from tests.portal.conftest import make_appointment, make_event, make_task  # noqa: E402,F401
