"""Forms for asking for feedback, answering it and thanking a colleague."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.forms import optional_id
from app.services.feedback.asks import ANSWER_MAX, MESSAGE_MAX
from app.services.feedback.thanks import MESSAGE_MAX as THANKS_MAX

# Situation-behaviour-impact: each part with a short example of what a useful answer says.
PROMPTS = {
    "situation": (
        "Situation",
        "When and where: “In the pricing review with Sales on 3 March…”",
    ),
    "behaviour": (
        "Behaviour",
        "What they did or said, as you saw it: “…you showed the churn data before the proposal "
        "and asked Sales what would change their mind…”",
    ),
    "impact": (
        "Impact",
        "What it changed, for you, the team or the outcome: “…the room agreed the price test "
        "in ten minutes instead of another meeting.”",
    ),
}


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes; the template lays them out, the service refuses unknown
    values with a message that names them."""

    def pre_validate(self, form) -> None:
        """Left to the service."""


def _answer_part(name: str) -> TextAreaField:
    label, example = PROMPTS[name]
    return TextAreaField(
        label,
        validators=[Length(max=ANSWER_MAX, message=f"Keep it to {ANSWER_MAX:,} characters.")],
        description=example,
        render_kw={"rows": 3, "maxlength": ANSWER_MAX},
    )


class RequestForm(FlaskForm):
    colleague_ids = CheckboxesField("Colleagues to ask", coerce=optional_id)
    competency_keys = CheckboxesField("Competencies")
    message = TextAreaField(
        "Message (optional)",
        validators=[Length(max=MESSAGE_MAX, message=f"Keep it to {MESSAGE_MAX:,} characters.")],
        description="What you would like to hear about: a project, a meeting, a habit.",
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX},
    )
    due_on = DateField(
        "Answer by (optional)",
        validators=[Optional()],
        invalid_value_message="Enter a date like 2026-03-31.",
    )

    def set_choices(self, page) -> None:
        self.colleague_ids.choices = [SelectChoice(i, name) for i, name, _ in page.colleagues]
        self.competency_keys.choices = [SelectChoice(c.key, c.name) for c in page.competencies]


class AnswerForm(FlaskForm):
    situation = _answer_part("situation")
    behaviour = _answer_part("behaviour")
    impact = _answer_part("impact")
    revision = HiddenField()


class ThankForm(FlaskForm):
    recipient_id = SelectField(
        "Whom to thank", coerce=optional_id, validate_choice=False, validators=[Optional()]
    )
    message = TextAreaField(
        "What for",
        validators=[Length(max=THANKS_MAX, message=f"Keep it to {THANKS_MAX} characters.")],
        description="The outcome and what they did for it, in a sentence or two. Everyone in "
        "the organisation can read it.",
        render_kw={"rows": 3, "maxlength": THANKS_MAX},
    )
    evidence_id = HiddenField(filters=[optional_id])

    def set_choices(self, people: list[tuple[int, str]]) -> None:
        self.recipient_id.choices = [SelectChoice(None, "Choose a person")] + [
            SelectChoice(person_id, name) for person_id, name in people
        ]
