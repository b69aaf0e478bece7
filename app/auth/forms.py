"""Sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.infra.passwords import MAX_LENGTH
from app.services.people import EMAIL_MAX


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(message="Enter your email address.")],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(message="Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device for 14 days")
    next = StringField(render_kw={"hidden": True})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(message="Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(message="Enter a new password.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("new_password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(message="Enter a new password.")],
        render_kw={"autocomplete": "new-password", "autofocus": True},
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter your email address."),
            Length(max=EMAIL_MAX, message=f"Use at most {EMAIL_MAX} characters."),
        ],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
