"""Forms of the 1:1 pages. Field names differ between the forms of a meeting page, which
shows them all at once (their ids must be unique)."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import optional_id
from app.services.oneonones.content import ITEM_MAX, NOTES_MAX
from app.services.oneonones.spaces import DURATIONS


def _revision(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # unreadable: treated as stale, so the page shows what is saved


class MeetingForm(FlaskForm):
    starts_at = DateTimeLocalField(
        "Date and time",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message="Enter the date and time of the meeting.")],
        description="In your time zone (Your settings); the other person sees it in theirs.",
    )
    duration_minutes = SelectField(
        "Length",
        coerce=int,
        choices=[SelectChoice(minutes, f"{minutes} minutes") for minutes in DURATIONS],
        default=30,
    )


class CadenceForm(FlaskForm):
    cadence = SelectField("How often you meet", validate_choice=False)
    revision = HiddenField(filters=[_revision])


class AgendaForm(FlaskForm):
    topic = StringField(
        "Topic",
        validators=[
            DataRequired(message="Write the topic before adding it."),
            Length(max=ITEM_MAX, message=f"Use at most {ITEM_MAX} characters."),
        ],
        render_kw={"maxlength": ITEM_MAX},
    )
    link = SelectField(
        "About (optional)",
        validate_choice=False,  # the service checks the viewer may open what is linked
        description="A competency, an evidence item, a goal or the delegation board.",
    )

    def set_choices(self, groups: list[tuple[str, list[tuple[str, str]]]]) -> None:
        self.link.choices = [SelectChoice("", "Nothing in particular")] + [
            SelectChoice(value, label, optgroup=group)
            for group, options in groups
            for value, label in options
        ]


class AgendaEditForm(FlaskForm):
    topic = StringField(
        "Topic",
        validators=[
            DataRequired(message="Write the topic, or remove it instead."),
            Length(max=ITEM_MAX, message=f"Use at most {ITEM_MAX} characters."),
        ],
        render_kw={"maxlength": ITEM_MAX},
    )
    revision = HiddenField(filters=[_revision])


class SharedNotesForm(FlaskForm):
    shared_notes = TextAreaField(
        "Edit the shared notes",
        validators=[Length(max=NOTES_MAX, message=f"Use at most {NOTES_MAX:,} characters.")],
        description="You both see and edit these. Markdown works: **bold**, lists and links.",
        render_kw={"rows": 8},
    )
    shared_revision = HiddenField(filters=[_revision])


class PrivateNoteForm(FlaskForm):
    private_notes = TextAreaField(
        "Your private notes",
        validators=[Length(max=NOTES_MAX, message=f"Use at most {NOTES_MAX:,} characters.")],
        description="Only you ever see these: not the other person, not the head of product.",
        render_kw={"rows": 5},
    )
    private_revision = HiddenField(filters=[_revision])


class ActionForm(FlaskForm):
    action = StringField(
        "Action item",
        validators=[
            DataRequired(message="Write what will be done."),
            Length(max=ITEM_MAX, message=f"Use at most {ITEM_MAX} characters."),
        ],
        render_kw={"maxlength": ITEM_MAX},
    )
    owner_id = SelectField("Who does it", coerce=optional_id, validate_choice=False)
    due_on = DateField("Due (optional)", validators=[Optional()])

    def set_owners(self, owners: list[tuple[int, str]], viewer_id: int) -> None:
        self.owner_id.choices = [
            SelectChoice(pid, "You" if pid == viewer_id else name) for pid, name in owners
        ]
