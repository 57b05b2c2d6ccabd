"""Forms for Tasks, Events and Appointments.

Each form knows how to fill itself from an item (`load`) and how to write its cleaned data
back (`apply`), converting wall-clock times in a time zone to the naive UTC we store; the
views stay generic. People pickers only offer (and only accept) users of the current company.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional, ValidationError

from ..models import Appointment, Event, Task, User
from ..models.items import VIDEO_LINK, VIDEO_MEET, VIDEO_NONE
from ..timefmt import to_local, to_utc

MIN_YEAR, MAX_YEAR = 1970, 2100
MAX_APPOINTMENT = timedelta(hours=24)
UNKNOWN_PERSON = "Choose people from the list: one of them is not a user of your company."


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Cached: `available_timezones()` reads the zone database from disk on every call."""
    return frozenset(available_timezones())


def is_zone(name: object) -> bool:
    return isinstance(name, str) and name in zone_names()


@lru_cache(maxsize=1)
def zone_choices() -> list[SelectChoice]:
    """Region/City zones and UTC; the legacy aliases ("EST5EDT", "Factory") only confuse a picker."""
    return [SelectChoice(name, name.replace("_", " ")) for name in sorted(zone_names()) if "/" in name or name == "UTC"]


def sane_year(form: FlaskForm, field: DateField) -> None:
    if field.data and not MIN_YEAR <= field.data.year <= MAX_YEAR:
        raise ValidationError(f"Pick a date between {MIN_YEAR} and {MAX_YEAR}.")


class PlainParseError:
    """Replaces WTForms' parse error ("Not a valid date value.") with a message a person can act on."""

    parse_error: str

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.parse_error) from error


class ClearDateField(PlainParseError, DateField):
    parse_error = "Not a valid date: use the format YYYY-MM-DD."


class ClearTimeField(PlainParseError, TimeField):
    parse_error = "Not a valid time: use the format HH:MM."


class StyledAs:
    """The shared form macro styles fields by their type name: our subclasses borrow their base's."""

    macro_type: str

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.type = self.macro_type


class PeoplePicker(PlainParseError, StyledAs):
    """Users of the company, by id; anything else is a field error, never a 500."""

    parse_error = UNKNOWN_PERSON

    def check_ids(self, ids: list[int]) -> None:
        allowed = {choice.value for choice in self.choices}
        if any(value not in allowed for value in ids):
            raise ValidationError(UNKNOWN_PERSON)


class PersonField(PeoplePicker, SelectField):
    macro_type = "SelectField"

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data is None:
            raise ValidationError(f"Choose a {self.label.text.lower()}.")
        self.check_ids([self.data])


class PeopleField(PeoplePicker, SelectMultipleField):
    macro_type = "SelectMultipleField"

    def pre_validate(self, form: FlaskForm) -> None:
        self.check_ids(self.data or [])


def person_choices(people: list[User]) -> list[SelectChoice]:
    return [SelectChoice(user.id, f"{user.name} ({user.role.label})") for user in people]


class ItemForm(FlaskForm):
    """Fields and helpers shared by the three kinds; `tz` is the zone wall-clock inputs are read in."""

    title = StringField("Title", filters=[strip], validators=[
        DataRequired("A title is required."), Length(max=200, message="Keep the title to 200 characters or fewer.")])

    def __init__(self, *args, people: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.people = {user.id: user for user in people}
        for field in self:
            if isinstance(field, (PersonField, PeopleField)):
                field.choices = person_choices(self.choices_for(field.name, people))

    def choices_for(self, name: str, people: list[User]) -> list[User]:
        return people

    def booking(self) -> tuple[list[User], datetime, datetime] | None:
        """Who and when, for the conflict check; None where there is no time to check (tasks)."""
        return None

    def chosen(self, ids: list[int]) -> list[User]:
        return [self.people[i] for i in ids if i in self.people]

    def timed_range(self, tz: str) -> tuple[datetime, datetime] | None:
        """start/end wall-clock fields → naive UTC, or None when a part is missing."""
        if not (self.start_date.data and self.start_time.data and self.end_time.data):
            return None
        end_day = self.end_date.data or self.start_date.data
        return (to_utc(datetime.combine(self.start_date.data, self.start_time.data), tz),
                to_utc(datetime.combine(end_day, self.end_time.data), tz))

    def load_range(self, start_at: datetime, end_at: datetime, tz: str) -> None:
        start, end = to_local(start_at, tz), to_local(end_at, tz)
        self.start_date.data, self.start_time.data = start.date(), start.time().replace(tzinfo=None)
        self.end_date.data, self.end_time.data = end.date(), end.time().replace(tzinfo=None)

    @staticmethod
    def valid(*fields) -> bool:
        """The fields a cross-field check reads passed their own checks (so their data is usable)."""
        return not any(field.errors for field in fields)

    def require(self, *fields) -> bool:
        missing = [f for f in fields if f.data in (None, "")]
        for field in missing:
            field.errors.append(f"{field.label.text} is required.")
        return not missing

    def check_timed_range(self, tz: str, longest: timedelta | None = None) -> bool:
        """End after start (and not longer than `longest`), as the error next to the end time."""
        start, end = self.timed_range(tz)
        if end <= start:
            later_day = "" if self.end_date.data else " To end on a later day, set the end date."
            self.end_time.errors.append("The end must be after the start." + later_day)
        elif longest and end - start > longest:
            self.end_time.errors.append(f"This can last {longest.total_seconds() / 3600:g} hours at most.")
        return not self.end_time.errors


class ZoneField(StyledAs, SelectField):
    """An IANA time zone. Any real zone is accepted (Google may have set one the list leaves out,
    like "GMT"), and such a zone is added to the options so the page shows it selected."""

    macro_type = "SelectField"

    def __init__(self, label: str = "Time zone", **kwargs) -> None:
        super().__init__(label, choices=zone_choices(), validate_choice=False, **kwargs)

    def pre_validate(self, form: FlaskForm) -> None:
        if not is_zone(self.data):
            raise ValidationError("Choose a time zone from the list.")

    def process_data(self, value) -> None:
        super().process_data(value)
        self.show(value)

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.show(self.data)

    def show(self, name: str | None) -> None:
        if is_zone(name) and name not in {choice.value for choice in self.choices}:
            self.choices = [SelectChoice(name), *self.choices]




class TaskForm(ItemForm):
    notes = TextAreaField("Notes",
                          validators=[Length(max=5000, message="Keep the notes to 5,000 characters or fewer.")])
    due_date = ClearDateField("Due date", validators=[Optional(), sane_year])
    due_time = ClearTimeField("Due time", validators=[Optional()],
                              description="Leave empty for an all-day task; "
                                          "a time makes it due at that moment in your time zone.")
    done = BooleanField("Done")
    assignees = PeopleField("Assignees", coerce=int)
    submit = SubmitField("Save task")

    def validate_due_time(self, field: TimeField) -> None:
        if field.data and not self.due_date.data:
            raise ValidationError("Pick a due date for this time.")

    def load(self, task: Task, user: User) -> None:
        self.title.data, self.notes.data, self.done.data = task.title, task.notes, task.done
        self.assignees.data = [u.id for u in task.assignees]
        if task.due_at:
            local = to_local(task.due_at, user.timezone)
            self.due_date.data, self.due_time.data = local.date(), local.time().replace(tzinfo=None)
        else:
            self.due_date.data = task.due_date

    def apply(self, task: Task, user: User) -> None:
        task.title, task.notes, task.done = self.title.data, self.notes.data or "", self.done.data
        if self.due_time.data:
            due = datetime.combine(self.due_date.data, self.due_time.data)
            task.due_at, task.due_date = to_utc(due, user.timezone), None
        else:
            task.due_at, task.due_date = None, self.due_date.data
        task.assignees = self.chosen(self.assignees.data)


class EventForm(ItemForm):
    description = TextAreaField("Description", validators=[
        Length(max=5000, message="Keep the description to 5,000 characters or fewer.")])
    location = StringField("Location", filters=[strip], validators=[
        Length(max=255, message="Keep the location to 255 characters or fewer.")])
    all_day = BooleanField("All day")
    start_date = ClearDateField("Start date", validators=[InputRequired("Start date is required."), sane_year])
    start_time = ClearTimeField("Start time", validators=[Optional()], description="Not needed for all-day events.")
    end_date = ClearDateField("End date", validators=[Optional(), sane_year],
                         description="All-day events: the last day (inclusive). Empty means the same day.")
    end_time = ClearTimeField("End time", validators=[Optional()])
    timezone = ZoneField()
    attendees = PeopleField("Attendees", coerce=int)
    submit = SubmitField("Save event")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.valid(self.start_date, self.end_date, self.start_time, self.end_time, self.timezone):
            return False
        if self.all_day.data:
            if self.end_date.data and self.end_date.data < self.start_date.data:
                self.end_date.errors.append("The end date must be on or after the start date.")
                return False
            return ok
        return self.require(self.start_time, self.end_time) and self.check_timed_range(self.timezone.data) and ok

    def booking(self) -> tuple[list[User], datetime, datetime] | None:
        """Who and when, for the conflict check (app.portal.conflicts); None for an all-day event."""
        if self.all_day.data:
            return None
        return (self.chosen(self.attendees.data), *self.timed_range(self.timezone.data))

    def load(self, event: Event, user: User) -> None:
        self.title.data, self.description.data, self.location.data = event.title, event.description, event.location
        self.all_day.data = event.all_day
        self.timezone.process_data(event.timezone)
        self.attendees.data = [u.id for u in event.attendees]
        if event.all_day:
            self.start_date.data, self.end_date.data = event.start_date, event.end_date
        else:
            self.load_range(event.start_at, event.end_at, event.timezone)

    def apply(self, event: Event, user: User) -> None:
        event.title = self.title.data
        event.description, event.location = self.description.data or "", self.location.data or ""
        event.all_day, event.timezone = self.all_day.data, self.timezone.data
        if event.all_day:
            event.start_date, event.end_date = self.start_date.data, self.end_date.data or self.start_date.data
            event.start_at = event.end_at = None
        else:
            event.start_at, event.end_at = self.timed_range(event.timezone)
            event.start_date = event.end_date = None
        event.attendees = self.chosen(self.attendees.data)


class AppointmentForm(ItemForm):
    start_date = ClearDateField("Date", validators=[InputRequired("Date is required."), sane_year])
    start_time = ClearTimeField("Start time", validators=[InputRequired("Start time is required.")])
    end_date = ClearDateField("End date", validators=[Optional(), sane_year], description="Empty means the same day.")
    end_time = ClearTimeField("End time", validators=[InputRequired("End time is required.")])
    timezone = ZoneField()
    staff = PersonField("Staff member", coerce=int)
    contact = PersonField("Contact", coerce=int)
    location = StringField("Location", filters=[strip], validators=[
        Length(max=255, message="Keep the location to 255 characters or fewer.")])
    video = RadioField("Video", default=VIDEO_NONE, choices=[
        SelectChoice(VIDEO_NONE, "None"), SelectChoice(VIDEO_MEET, "Google Meet (made when it reaches Google)"),
        SelectChoice(VIDEO_LINK, "A link of my own")])
    meeting_link = URLField("Meeting link", filters=[strip], validators=[
        Optional(), Length(max=500, message="Keep the link to 500 characters or fewer."),
        URL(require_tld=False, message="Enter a full link, starting with https://")],
        description="For “A link of my own”: Zoom, Teams or any other.")
    submit = SubmitField("Save appointment")

    def validate_meeting_link(self, field: URLField) -> None:
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError("Enter a full link, starting with https://")

    def choices_for(self, name: str, people: list[User]) -> list[User]:
        wanted = (lambda u: u.is_staff) if name == "staff" else (lambda u: not u.is_staff)
        return [u for u in people if wanted(u)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.valid(self.start_date, self.end_date, self.start_time, self.end_time, self.timezone):
            return False
        if self.video.data == VIDEO_LINK and not self.meeting_link.data and not self.meeting_link.errors:
            self.meeting_link.errors.append("Enter the link, or choose None or Google Meet above.")
            ok = False
        return self.check_timed_range(self.timezone.data, MAX_APPOINTMENT) and ok

    def booking(self) -> tuple[list[User], datetime, datetime] | None:
        return (self.chosen([self.staff.data, self.contact.data]), *self.timed_range(self.timezone.data))

    def load(self, appointment: Appointment, user: User) -> None:
        self.title.data, self.location.data, self.meeting_link.data = (
            appointment.title, appointment.location, appointment.meeting_link)
        self.video.data = appointment.video_choice
        self.staff.data, self.contact.data = appointment.staff_id, appointment.contact_id
        self.timezone.process_data(appointment.timezone)
        self.load_range(appointment.start_at, appointment.end_at, appointment.timezone)

    def apply(self, appointment: Appointment, user: User) -> None:
        """The video choice keeps one link: a link of its own drops the Meet, and the other way round."""
        appointment.title, appointment.location, appointment.video = (
            self.title.data, self.location.data or "", self.video.data)
        appointment.meeting_link = (self.meeting_link.data or "") if self.video.data == VIDEO_LINK else ""
        if self.video.data != VIDEO_MEET:
            appointment.meet_link, appointment.meet_conference = "", None
        appointment.timezone = self.timezone.data
        appointment.start_at, appointment.end_at = self.timed_range(appointment.timezone)
        appointment.staff, appointment.contact = self.people[self.staff.data], self.people[self.contact.data]


def default_zone(user: User) -> str:
    return user.timezone if is_zone(user.timezone) else "UTC"


__all__ = ["AppointmentForm", "EventForm", "ItemForm", "TaskForm", "default_zone"]
