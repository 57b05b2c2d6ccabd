from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company code", validators=[Optional(), Length(max=60)],
                          description="Only needed when your email is used in several portals.")
    next = HiddenField()
    submit = SubmitField("Sign in")


NEW_PASSWORD = [DataRequired(), Length(min=10, max=200, message="Choose a password of 10 to 200 characters.")]
SAME_AGAIN = [DataRequired(), EqualTo("new_password", message="The two new passwords are not the same.")]


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField("New password", validators=NEW_PASSWORD)
    confirm = PasswordField("New password again", validators=SAME_AGAIN)
    submit = SubmitField("Change password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    company = StringField("Company code", validators=[Optional(), Length(max=60)],
                          description="Only needed when your email is used in several portals.")
    submit = SubmitField("Send me a link")


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField("New password", validators=NEW_PASSWORD)
    confirm = PasswordField("New password again", validators=SAME_AGAIN)
    submit = SubmitField("Save my new password")


class MailPreferencesForm(FlaskForm):
    """What the portal may send a person by mail (the daily summary is offered to admins only)."""

    email_notices = BooleanField("Email me when my calendar sync needs me (one message, and one reminder)")
    daily_digest = BooleanField("Email me a daily summary of our company's calendar connections that need "
                                "attention (only when something changed)")
    submit = SubmitField("Save mail settings")
