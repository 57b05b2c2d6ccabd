"""Every form field has its label and its error tied to it (issue #26): a screen reader reads a field's error
and help text with the field, because the field names them (aria-describedby) and says it is invalid."""
from __future__ import annotations

from html.parser import HTMLParser

from app.models import Role
from tests.conftest import post_form


class Fields(HTMLParser):
    """Form controls, labels and element texts by id, from a page's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: dict[str, dict] = {}
        self.labels: set[str] = set()
        self.texts: dict[str, str] = {}
        self.lang = None
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit") and "id" in attrs:
            self.controls[attrs["id"]] = attrs
        if tag == "label" and "for" in attrs:
            self.labels.add(attrs["for"])
        if tag not in ("input", "br", "img", "meta", "link"):
            self._open.append((tag, attrs.get("id")))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] = self.texts.get(element_id, "") + data


def parse(html: str) -> Fields:
    fields = Fields()
    fields.feed(html)
    return fields


def described_by(fields: Fields, control_id: str) -> str:
    ids = fields.controls[control_id].get("aria-describedby", "").split()
    return " ".join(fields.texts.get(one, "").strip() for one in ids)


def test_an_invalid_field_names_its_error_and_every_field_its_label(login_as, users):
    client = login_as(users[Role.STAFF])
    response = post_form(client, "/events/new", {"title": "", "start_date": "2030-02-30", "start_time": "09:00",
                                                 "end_time": "08:00", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    fields = parse(response.get_data(as_text=True))
    assert fields.lang == "en"
    assert set(fields.controls) <= fields.labels, set(fields.controls) - fields.labels  # every control labelled
    invalid = {name for name, attrs in fields.controls.items() if attrs.get("aria-invalid") == "true"}
    assert {"title", "start_date", "timezone"} <= invalid, invalid
    for name in invalid:
        assert "is-invalid" in fields.controls[name]["class"]
        assert described_by(fields, name), f"{name} is invalid but names no error"
    assert "required" in described_by(fields, "title").lower() or "title" in described_by(fields, "title").lower()
    valid = set(fields.controls) - invalid
    assert all(fields.controls[name].get("aria-invalid") is None for name in valid)


def test_help_text_is_tied_to_its_field_and_the_sign_in_error_to_the_form(client, login_as, users):
    settings = parse(login_as(users[Role.ADMIN]).get("/settings/").get_data(as_text=True))
    assert "PNG, JPEG or WebP" in described_by(settings, "logo")
    client.post("/logout", data={})
    page = parse(client.get("/login").get_data(as_text=True))
    assert {"email", "password"} <= page.labels and page.lang == "en"
    wrong = post_form(client, "/login", {"email": users[Role.CLIENT].email, "password": "not it"})
    fields = parse(wrong.get_data(as_text=True))
    said = described_by(fields, "email") + described_by(fields, "password")
    assert "Wrong email or password." in said, said
