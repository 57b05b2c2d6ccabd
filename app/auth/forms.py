from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company code", validators=[Optional(), Length(max=60)],
                          description="Only needed when your email is used in several portals.")
    next = HiddenField()
    submit = SubmitField("Sign in")
