"""The forms of the calibration pages: planning a session, voting, agreeing, the outcome."""

from __future__ import annotations

from dataclasses import asdict

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app.forms import optional_id
from app.infra import timezones
from app.models import Outcome, Rating
from app.services.promotions import deadlines
from app.services.promotions.calibration import grid, planning, votes
from app.services.promotions.calibration.checks import TEXT_MAX

RATING_CHOICES = [SelectChoice(r.value, r.label) for r in Rating]
OUTCOME_CHOICES = [SelectChoice(o.value, o.label) for o in Outcome]
TEXT_LIMIT = Length(max=TEXT_MAX, message="Use at most 5,000 characters.")


# --- forms --------------------------------------------------------------------------------------


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, laid out by the template."""

    def pre_validate(self, form) -> None:
        """Unknown ids are the service's to refuse, with a message that names them."""


class SessionForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[Length(max=planning.NAME_MAX, message="Use at most 120 characters.")],
        description="What the meeting is about, e.g. “Senior PM, H1 2027”.",
        render_kw={"autocomplete": "off", "maxlength": planning.NAME_MAX},
    )
    facilitator_id = SelectField(
        "Facilitator",
        coerce=optional_id,
        validate_choice=False,
        description="Runs the meeting: reveals the votes, sets agreed ratings and outcomes, locks.",
    )
    participant_ids = CheckboxesField("Participants", coerce=optional_id)
    case_ids = CheckboxesField("Cases", coerce=optional_id)
    proposing_level_id = SelectField(
        "And every case proposing", coerce=optional_id, validate_choice=False
    )
    scheduled_at = StringField(
        "When it meets",
        description="Date and time, in your time zone. Optional: participants see it, and "
        "their votes are due by then.",
        render_kw={"type": "datetime-local"},
    )
    revision = HiddenField()

    def set_choices(self, choices: planning.PlanningPage) -> None:
        self.facilitator_id.choices = [SelectChoice(None, "Choose a person")] + [
            SelectChoice(i, name) for i, name in choices.people
        ]
        self.participant_ids.choices = [SelectChoice(i, name) for i, name in choices.people]
        self.case_ids.choices = [SelectChoice(c.id, c.candidate) for c in choices.cases]
        self.proposing_level_id.choices = [
            SelectChoice(None, "No level: only the cases ticked")
        ] + [SelectChoice(i, label) for i, label in choices.levels]

    def scope(self, zone: str) -> planning.Scope:
        """What was chosen; the meeting's time read in `zone` (refused next to its field when
        it is no time, or one the clocks skip)."""
        return planning.Scope(
            self.name.data or "",
            self.facilitator_id.data,
            [i for i in self.participant_ids.data or [] if i is not None],
            [i for i in self.case_ids.data or [] if i is not None],
            self.proposing_level_id.data,
            deadlines.read_local(self.scheduled_at.data, zone, field="scheduled_at"),
        )


class AgreeForm(FlaskForm):
    rating = RadioField("Agreed rating", choices=RATING_CHOICES, validate_choice=False)
    rationale = TextAreaField(
        "Rationale",
        validators=[TEXT_LIMIT],
        description="Why this rating, in words the candidate reads once the cycle is published.",
        render_kw={"rows": 4},
    )
    reason = TextAreaField(
        "Reason for departing from the manager's rating",
        validators=[TEXT_LIMIT],
        description="Needed whenever the agreed rating differs from the manager's; it is kept "
        "in the decision log.",
        render_kw={"rows": 3},
    )
    revision = HiddenField()


class OutcomeForm(FlaskForm):
    outcome = RadioField("Outcome", choices=OUTCOME_CHOICES, validate_choice=False)
    outcome_rationale = TextAreaField(
        "Rationale for the outcome",
        validators=[TEXT_LIMIT],
        description="The candidate reads it once the cycle is published.",
        render_kw={"rows": 4},
    )
    revision = HiddenField()


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Why reopen it",
        validators=[TEXT_LIMIT],
        description="Kept in the decision log.",
        render_kw={"rows": 2},
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


def vote_form(ballot: votes.Ballot) -> FlaskForm:
    """One radio group per competency, named by position (keys are the service's)."""

    class VoteForm(FlaskForm):
        pass

    for i, competency in enumerate(ballot.competencies):
        setattr(
            VoteForm,
            f"c{i}",
            RadioField(
                competency.name,
                choices=RATING_CHOICES,
                default=getattr(ballot.my_votes.get(competency.key), "value", None),
                validators=[InputRequired(message="Choose a rating.")],
            ),
        )
    return VoteForm()


def session_form(page: planning.PlanningPage, zone: str) -> SessionForm:
    """The session form with its choices, showing the session's scope until it is sent (its
    meeting time in `zone`)."""
    form = SessionForm()
    form.set_choices(page)
    if page.current is not None and not form.is_submitted():
        shown = asdict(page.current)
        shown["scheduled_at"] = timezones.input_value(page.current.scheduled_at, zone)
        form.process(data={**shown, "revision": page.revision})
    return form


def outcome_form(ballot: votes.Ballot) -> OutcomeForm:
    """The outcome form filled with the case's outcome as saved."""
    case = ballot.case
    return OutcomeForm(
        formdata=None,
        data={
            "outcome": case.outcome.value if case.outcome else None,
            "outcome_rationale": case.outcome_rationale,
            "revision": case.revision,
        },
    )


def agree_form(shown: grid.Cell) -> AgreeForm:
    """The agree form, starting from the agreed rating or else the manager's."""
    start = shown.agreed or shown.manager
    data = {
        "rating": start.rating.value if start and start.rating else None,
        "rationale": shown.agreed.rationale if shown.agreed else "",
        "reason": shown.agreed.reason if shown.agreed else "",
        "revision": shown.agreed_revision,
    }
    return AgreeForm(data=data)
