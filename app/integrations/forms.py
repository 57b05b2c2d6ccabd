from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.validators import DataRequired

NEW_CALENDAR = "__new__"


class PushExistingDataForm(FlaskForm):
    calendar_id = SelectField("Google calendar", validators=[DataRequired()], validate_choice=True)
    submit = SubmitField("Push Existing Data")
