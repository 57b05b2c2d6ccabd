"""Every form, fuzzed with hypothesis: unicode, NUL bytes, 1 MB strings, absurd dates, bad zones, wrong
types and repeated ids. Whatever is sent: never a 500, and a refused request saves nothing.

Each form's fields are read from its class, so a field added later is fuzzed too; a new form class
fails `test_every_form_is_fuzzed` until it has a route below. HYPOTHESIS_PROFILE=thorough for more examples.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from hypothesis import given
from hypothesis import strategies as st
from wtforms import BooleanField, DateField, FileField, SelectMultipleField, TimeField
from wtforms.fields.core import UnboundField

from app.auth.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, MailPreferencesForm, ResetPasswordForm
from app.extensions import db
from app.integrations.forms import BusyCalendarsForm, ChangeCalendarForm, DeleteConnectionForm, PushExistingDataForm
from app.models import Role
from app.passwords import reset_link
from app.portal.forms import AppointmentForm, EventForm, PersonField, TaskForm, ZoneField
from app.settings.forms import CompanyProfileForm, ConnectionFilterForm, GoogleMeetForm, IntegrationsVisibilityForm
from tests.conftest import csrf_token
from tests.portal.test_forms import valid_data
from testsupport.factories import PASSWORD

# (form class, method, URL, who sends it); "{task}" is the id of an existing task, "{event}" of an event.
# (For a valid submission of each form, see `valid_submission`.)
FORM_ROUTES = [
    (LoginForm, "POST", "/login", None),
    (TaskForm, "POST", "/tasks/new", Role.STAFF),
    (TaskForm, "POST", "/tasks/{task}/edit", Role.STAFF),
    (EventForm, "POST", "/events/new", Role.STAFF),
    (EventForm, "POST", "/events/{event}/edit", Role.STAFF),
    (AppointmentForm, "POST", "/appointments/new", Role.STAFF),
    (CompanyProfileForm, "POST", "/settings/profile", Role.ADMIN),
    (IntegrationsVisibilityForm, "POST", "/settings/visibility", Role.ADMIN),
    (PushExistingDataForm, "POST", "/integrations/two-way/push", Role.CLIENT),
    (ChangeCalendarForm, "POST", "/integrations/two-way/calendar", Role.CLIENT),
    (DeleteConnectionForm, "POST", "/integrations/two-way/delete", Role.CLIENT),
    (BusyCalendarsForm, "POST", "/integrations/two-way/busy", Role.CLIENT),
    (GoogleMeetForm, "POST", "/settings/google-meet", Role.ADMIN),
    (ConnectionFilterForm, "GET", "/settings/connections", Role.ADMIN),
    (ChangePasswordForm, "POST", "/account/password", Role.CLIENT),
    (MailPreferencesForm, "POST", "/account/mail", Role.ADMIN),
    (ForgotPasswordForm, "POST", "/password/forgot", None),
    (ResetPasswordForm, "POST", "/password/reset/{reset}", None),
]
ROUTE_IDS = [f"{form.__name__}-{url}" for form, _, url, _ in FORM_ROUTES]
# Query strings read by views without a form class.
QUERY_ROUTES = {"/calendar/": ("view", "date")}

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
hostile_text = st.one_of(
    text,
    st.builds(lambda a, b: f"{a}\x00{b}", text, text),
    st.sampled_from(["x" * 1_048_576, "é" * 600_000, "\u202e\u200b\ufeff", "<script>alert(1)</script>", " ", ""]),
)
dates = st.one_of(st.dates().map(str), st.sampled_from([
    "0000-00-00", "9999-12-31", "-1-01-01", "2024-02-30", "1969-12-31", "99999999-01-01", "2030-1-1",
    "２０３０-01-01"]))
times = st.one_of(st.times().map(str), st.sampled_from(["24:00", "23:59:60", "-1:00", "9:5", "12:00:00.5", "noon"]))
zones = st.sampled_from(["Europe/London", "America/New_York", "UTC", "GMT", "Mars/Olympus_Mons", "../../etc/passwd",
                         "Europe/London ", "europe/london", "EST5EDT", "Factory"])
ids_anywhere = st.one_of(st.integers(-2**70, 2**70).map(str), st.sampled_from(["0", "abc", "1.5", "1e3"]))
booleans = st.sampled_from(["y", "n", "on", "", "0", "false", "true"])


def value_strategy(field_class: type, people: list[int]) -> st.SearchStrategy:
    """Hostile values of the field's own kind, or of any other kind (wrong types); `people` are real user ids."""
    ids = st.one_of(ids_anywhere, st.sampled_from(people).map(str))
    own = (dates if issubclass(field_class, DateField) else times if issubclass(field_class, TimeField)
           else zones if issubclass(field_class, ZoneField) else booleans if issubclass(field_class, BooleanField)
           else ids if issubclass(field_class, (PersonField, SelectMultipleField)) else hostile_text)
    single = st.one_of(own, own, hostile_text, ids, dates)
    repeated_people = st.lists(st.sampled_from(people).map(str), min_size=1, max_size=3).map(lambda v: v + v[:1])
    return st.one_of(single, st.lists(single, min_size=2, max_size=4), repeated_people)


def fields_of(form_class: type[FlaskForm]) -> dict[str, type]:
    return {name: attr.field_class for name in dir(form_class)
            if isinstance(attr := getattr(form_class, name), UnboundField) and not issubclass(attr.field_class,
                                                                                                FileField)}


def form_data(form_class: type[FlaskForm], people: list[int], valid: dict) -> st.SearchStrategy[dict]:
    """Either a valid submission with one to three fields made hostile (reaches the saving code), or
    any mix of hostile fields (reaches the validators)."""
    fields = {name: value_strategy(cls, people) for name, cls in fields_of(form_class).items()}
    a_few_bad = st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: fields[name] for name in names})).map(lambda bad: {**valid, **bad})
    return st.one_of(a_few_bad, st.fixed_dictionaries({}, optional=fields))


def fingerprint() -> dict:
    """Row counts of every table and every row's content, to prove a refused request wrote nothing."""
    return {table.name: [tuple(row) for row in db.session.execute(sa.select(table))]
            for table in db.metadata.sorted_tables}


@pytest.fixture
def app_config(app_config):
    """Fuzzing the login form is not guessing passwords: the throttle would only answer 429."""
    return {**app_config, "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute", "LOGIN_LIMIT_PER_IP": "100000 per minute",
            "PASSWORD_RESET_LIMIT": "100000 per minute"}


@pytest.fixture
def senders(app, users, login_as, make_task, make_event):
    task = make_task(users[Role.STAFF].company, [users[Role.STAFF]])
    event = make_event(users[Role.STAFF].company, [users[Role.STAFF]])
    clients = {role: login_as(users[role]) for role in (Role.STAFF, Role.ADMIN, Role.CLIENT)}
    clients[None] = app.test_client()
    tokens = {role: csrf_token(client, "/dashboard" if role else "/login") for role, client in clients.items()}
    reset = reset_link(users[Role.PROSPECT]).rsplit("/", 1)[1]  # a valid link: the form behind it is fuzzed
    return {"clients": clients, "tokens": tokens, "ids": {"task": task.id, "event": event.id, "reset": reset},
            "people": [user.id for user in users.values()]}


def valid_submission(form_class: type[FlaskForm], users) -> dict:
    """What a person would send, so that one hostile field is all that stands between it and the database."""
    items = {TaskForm: "task", EventForm: "event", AppointmentForm: "appointment"}
    if form_class in items:
        return valid_data(items[form_class], users)
    return {LoginForm: {"email": users[Role.STAFF].email, "password": PASSWORD},
            CompanyProfileForm: {"name": "Acme Ltd", "brand_color": "#123456"},
            IntegrationsVisibilityForm: {"visible_staff": "y"},
            ConnectionFilterForm: {"role": "staff"},
            MailPreferencesForm: {"email_notices": "y", "daily_digest": "y"},
            ChangePasswordForm: {"current_password": PASSWORD, "new_password": "another long password",
                                 "confirm": "another long password"},
            ForgotPasswordForm: {"email": users[Role.STAFF].email},
            ResetPasswordForm: {"new_password": "another long password", "confirm": "another long password"},
            }.get(form_class, {})


def send(senders, method: str, url: str, role, data: dict):
    client = senders["clients"][role]
    if method == "GET":
        return client.get(url, query_string=data)
    return client.post(url.format(**senders["ids"]), data={**data, "csrf_token": senders["tokens"][role]})


def test_every_form_is_fuzzed():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("app.") and fields_of(cls)
            and cls.__subclasses__() == []}
    fuzzed = {route[0] for route in FORM_ROUTES}
    assert ours <= fuzzed, f"add a route to FORM_ROUTES for {ours - fuzzed}"


@pytest.mark.parametrize("form_class, method, url, role", FORM_ROUTES, ids=ROUTE_IDS)
def test_no_form_answers_500_or_saves_what_it_refuses(form_class, method, url, role, senders, users):

    @given(data=form_data(form_class, senders["people"], valid_submission(form_class, users)))
    def check(data):
        before = fingerprint()
        response = send(senders, method, url, role, data)
        db.session.expire_all()
        assert response.status_code < 500, (data, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert fingerprint() == before, data

    check()


@pytest.mark.parametrize("url", QUERY_ROUTES)
def test_query_strings_never_answer_500(url, senders):
    names = QUERY_ROUTES[url]

    @given(data=st.fixed_dictionaries({}, optional={name: value_strategy(str, senders["people"]) for name in names}))
    def check(data):
        assert send(senders, "GET", url, Role.STAFF, data).status_code < 500, data

    check()


@pytest.mark.parametrize("form_class, method, url, role", FORM_ROUTES, ids=ROUTE_IDS)
def test_a_megabyte_in_every_field_is_refused_and_saves_nothing(form_class, method, url, role, senders):
    before = fingerprint()
    response = send(senders, method, url, role, {name: "x" * 1_048_576 for name in fields_of(form_class)})
    db.session.expire_all()
    assert 400 <= response.status_code < 500 and fingerprint() == before
