from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.validators import DataRequired

NEW_CALENDAR = "__new__"


# Push Existing Data's windows: "all", or items from this many months ago onward.
WINDOW_MONTHS = {"all": None, "12": 12, "6": 6, "3": 3, "1": 1}


class PushExistingDataForm(FlaskForm):
    calendar_id = SelectField("Google calendar", validators=[DataRequired()], validate_choice=True)
    # Labels carry the item counts; the route fills them in.
    since = SelectField("Items to push", choices=list(WINDOW_MONTHS), default="all", validate_choice=True)
    submit = SubmitField("Push Existing Data")
