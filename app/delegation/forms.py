"""Forms of the delegation board: a row of one's own, the picks of a round, an agreement."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.models import DELEGATION_LEVELS, DaciRole
from app.services.delegation import DECISION_MAX, NOTE_MAX

ROLE_CHOICES = [SelectChoice("", "No DACI role")] + [
    SelectChoice(role.value, role.value.capitalize()) for role in DaciRole
]
LEVEL_CHOICES = [SelectChoice("", "Choose a level")] + [
    SelectChoice(str(level), f"{level} {label}") for level, label in DELEGATION_LEVELS.items()
]


class RowForm(FlaskForm):
    decision = StringField(
        "Decision",
        validators=[
            InputRequired(message="Name the decision, for example “Which customers to interview”."),
            Length(max=DECISION_MAX, message=f"Keep the decision to {DECISION_MAX} characters."),
        ],
        description="A decision one of you makes again and again, in a few words.",
        render_kw={"maxlength": DECISION_MAX},
    )
    role = SelectField("DACI role", choices=ROLE_CHOICES, default="")

    @property
    def role_value(self) -> DaciRole | None:
        return DaciRole(self.role.data) if self.role.data else None


class PicksForm(FlaskForm):
    """The picks themselves are `pick-<row id>` fields, one per row on the board."""


class AgreeForm(FlaskForm):
    level = SelectField("Agreed level", choices=LEVEL_CHOICES, default="")
    note = TextAreaField(
        "Note",
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX:,} characters.")],
        render_kw={"rows": 2, "maxlength": NOTE_MAX},
    )
    revision = IntegerField(validators=[Optional()], widget=HiddenField.widget)


class ConfirmForm(FlaskForm):
    """A button: open the board, start a round, close it, ask for the PDF."""


def picks_from(data) -> dict[int, str]:
    """The `pick-<row id>` fields of a sent form: row id → the level chosen ("" for none)."""
    return {
        int(name[5:]): value
        for name, value in data.items()
        if name.startswith("pick-") and name[5:].isdigit() and len(name) < 16
    }
