"""Two-factor forms: a code from the app, a recovery code, the password beside them."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.infra.passwords import MAX_LENGTH

APP_CODE = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "pattern": "[0-9 ]*",
    "maxlength": 7,
    "spellcheck": "false",
    "class": "one-time-code",
}

# A recovery code has letters: no numeric keyboard for it.
TEXT_CODE = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}


def app_code(label: str = "Code from your app", **extra):
    return StringField(
        label,
        validators=[
            DataRequired(message="Type the 6-digit code your app shows."),
            Length(max=20, message="A code has 6 digits."),
        ],
        render_kw={**APP_CODE, **extra},
    )


def password(**extra):
    return PasswordField(
        "Your password",
        validators=[DataRequired(message="Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password", **extra},
    )


def focus_first_error(*forms) -> None:
    """After a refusal, the cursor goes to the (first) field with the error, not to the field
    that has it when the page is new: `forms` in the order the page shows them."""
    fields = [field for form in forms for field in form if field.type != "CSRFTokenField"]
    first = next((field for field in fields if field.errors), None)
    if first is None:
        return
    for field in fields:  # a new dict each: render_kw is shared by every form of the class
        attributes = {k: v for k, v in (field.render_kw or {}).items() if k != "autofocus"}
        if field is first:
            attributes["autofocus"] = True
        field.render_kw = attributes


class CodeForm(FlaskForm):
    code = app_code(autofocus=True)


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField(
        "Recovery code",
        validators=[
            DataRequired(message="Type one of your recovery codes."),
            Length(max=40, message="A recovery code looks like abcd-efgh-jkmn."),
        ],
        render_kw=TEXT_CODE,
    )


class TurnOnForm(FlaskForm):
    code = app_code()
    password = password()


class NewCodesForm(FlaskForm):
    password = password()
    code = app_code()


class TurnOffForm(FlaskForm):
    password = password()
    code = StringField(
        "Code from your app, or a recovery code",
        validators=[
            DataRequired(message="Type the code your app shows, or a recovery code."),
            Length(max=40, message="That is too long for a code."),
        ],
        render_kw=TEXT_CODE,
    )


class RequirementForm(FlaskForm):
    required = BooleanField("Require two-factor sign-in for heads of product and managers")


class ConfirmForm(FlaskForm):
    """A button that confirms what the page above it says (only the CSRF token)."""
