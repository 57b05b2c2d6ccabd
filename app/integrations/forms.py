from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

NEW_CALENDAR = "__new__"
KEEP_EVENTS, REMOVE_EVENTS = "keep", "remove"


# Push Existing Data's windows: "all", or items from this many months ago onward.
WINDOW_MONTHS = {"all": None, "12": 12, "6": 6, "3": 3, "1": 1}


class PushExistingDataForm(FlaskForm):
    calendar_id = SelectField("Google calendar", validators=[DataRequired()], validate_choice=True)
    # Labels carry the item counts; the route fills them in.
    since = SelectField("Items to push", choices=list(WINDOW_MONTHS), default="all", validate_choice=True)
    new_calendar_name = StringField("Name of the new calendar", validators=[Length(max=100)],
                                    description="Used when you choose “Create a new calendar”.")
    submit = SubmitField("Push Existing Data")

    def new_calendar_summary(self, default: str) -> str:
        return (self.new_calendar_name.data or "").strip() or default


class ChangeCalendarForm(PushExistingDataForm):
    """The active card's calendar switch: same fields, the portal's events move to the chosen calendar."""

    submit = SubmitField("Save")


class DeleteConnectionForm(FlaskForm):
    """Delete asks what happens to the events already in Google; keeping them is the default."""

    events = RadioField("Events already in Google", default=KEEP_EVENTS, choices=[
        SelectChoice(KEEP_EVENTS, "Keep them in Google Calendar"),
        SelectChoice(REMOVE_EVENTS, "Remove them from Google Calendar"),
    ])
    submit = SubmitField("Delete")


class BusyCalendarsForm(FlaskForm):
    """Which of the person's Google calendars count as busy; the route fills the choices from Google."""

    calendars = SelectMultipleField("Calendars that count as busy", validate_choice=True,
                                    invalid_choice_message="Choose among your own Google calendars listed here.",
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    submit = SubmitField("Save")
