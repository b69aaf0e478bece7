"""Forms of growth plans: a goal, its status, agreeing it and linking evidence."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.models import GoalStatus
from app.services.evidence import CompetencyChoice
from app.services.goals import MEASURE_HINT, TEXT_MAX, LevelOption

TOO_LONG = f"Use at most {TEXT_MAX:,} characters."
NEXT_LEVEL = ""  # the level field's value for "the next level"


class GoalForm(FlaskForm):
    competency_key = SelectField(
        "Competency", validators=[InputRequired(message="Choose a competency.")]
    )
    # The service refuses a level the person cannot aim for, next to the field.
    target_level_id = SelectField("Toward level", validate_choice=False)
    change = TextAreaField(
        "What will change",
        validators=[Length(max=TEXT_MAX, message=TOO_LONG)],
        description="What will be different in how you work, in a sentence or two.",
        render_kw={"rows": 3},
    )
    measure = TextAreaField(
        "How it will be measured",
        validators=[Length(max=TEXT_MAX, message=TOO_LONG)],
        description=MEASURE_HINT,
        render_kw={"rows": 3},
    )
    target_on = DateField(
        "Target date",
        validators=[Optional()],
        invalid_value_message="Enter a date like 2027-03-31.",
        description="Optional. When you expect to see the outcome.",
    )
    revision = HiddenField()

    def set_choices(self, competencies: list[CompetencyChoice], levels: list[LevelOption]):
        self.competency_key.choices = [SelectChoice("", "Choose a competency")] + [
            SelectChoice(c.key, c.name, optgroup=c.area) for c in competencies
        ]
        self.target_level_id.choices = [
            SelectChoice(
                str(level.id),
                f"{level.title} ({level.code}, {level.track})"
                + (" · the next level" if level.is_next else ""),
            )
            for level in levels
        ] or [SelectChoice(NEXT_LEVEL, "The next level")]


STATUS_CHOICES = [SelectChoice(status.value, status.label) for status in GoalStatus]


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=STATUS_CHOICES)
    note = TextAreaField(
        "Outcome achieved, or why it is dropped",
        validators=[Length(max=TEXT_MAX, message=TOO_LONG)],
        description="Done: what changed, measured as the goal said. Dropped: why.",
        render_kw={"rows": 3},
    )
    revision = HiddenField()


class AgreeForm(FlaskForm):
    revision = HiddenField()


class LinkForm(FlaskForm):
    # The service refuses an item it may not link, with a message next to the field.
    evidence_id = SelectField("Evidence item", choices=[], validate_choice=False)


class GoalLinkForm(FlaskForm):
    """On an evidence item's page: link it to one of the owner's open goals."""

    goal_id = SelectField("Goal", choices=[], validate_choice=False)


class PacketGoalsForm(FlaskForm):
    packets_show_goals = BooleanField("Committee packets show the candidate's growth-plan goals")
