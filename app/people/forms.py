"""Forms for creating, editing and importing people."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from app.models import Role
from app.models.user import ROLE_LABELS
from app.services.people import EMAIL_MAX, NAME_MAX

NO_MANAGER = ""


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class PersonForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[
            DataRequired(message="Enter a name."),
            Length(max=NAME_MAX, message=f"Use at most {NAME_MAX} characters."),
        ],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter an email address."),
            Length(max=EMAIL_MAX, message=f"Use at most {EMAIL_MAX} characters."),
        ],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        "Role",
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
        validators=[InputRequired()],
    )
    manager_id = SelectField("Manager", coerce=_optional_int, validate_choice=True)
    level_id = SelectField("Level", coerce=_optional_int, validate_choice=True)
    mentor_ids = SelectMultipleField("Mentors", coerce=int)
    version = HiddenField()

    def set_choices(self, managers, mentors, levels, *, exclude_id: int | None = None) -> None:
        self.level_id.choices = [SelectChoice(None, "Not placed on a level")] + [
            SelectChoice(level_id, label, optgroup=framework)
            for level_id, label, framework in levels
        ]
        self.manager_id.choices = [SelectChoice(None, "No manager")] + [
            SelectChoice(m.id, f"{m.name} ({m.role.label})") for m in managers if m.id != exclude_id
        ]
        self.mentor_ids.choices = [
            SelectChoice(m.id, m.name) for m in mentors if m.id != exclude_id
        ]

    def label_for(self, field_name: str, value) -> str:
        """The label a select shows for a stored value (for showing someone else's save)."""
        for choice in getattr(self, field_name).choices:
            if choice.value == value:
                return choice.label
        return ""


INVITE_LABEL = "Email a link to set a password (an invitation)"


class NewPersonForm(PersonForm):
    invite = BooleanField(INVITE_LABEL, default=True)


class ImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired(message="Choose a CSV file.")],
        render_kw={"accept": ".csv,text/csv"},
        description="Columns: email,name,role,manager_email. Role is pm, manager or "
        "head_of_product; manager_email may be empty or name someone "
        "already in Rungs or in the file.",
    )
    invite = BooleanField(
        "Email each person a link to set a password (an invitation)", default=True
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token."""
