"""Self-assessment and manager assessment of a case."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Form, FormField, HiddenField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app import access
from app.core.errors import ConflictError, ValidationError
from app.forms import saved, submit, submit_json
from app.models import Rating, RatingSource
from app.services.promotions import assessments
from app.services.promotions.assessments import Assessment, EntryInput, IncompleteError

bp = Blueprint("assessments", __name__)

RATING_CHOICES = [SelectChoice(rating.value, rating.label) for rating in Rating]
RATING_HINTS = {
    "below": "Not shown yet at this level.",
    "developing": "Shown at times; growing into it.",
    "meets": "Shown consistently, as this level expects.",
    "exceeds": "Goes beyond what this level expects.",
}
FIELD_PREFIX = "c_"  # competency keys become field names; the prefix keeps them off form attributes
POSTED_FIELD = re.compile(rf"^{FIELD_PREFIX}(.+)-(rating|rationale|evidence)$")


def _actor():
    return current_user._get_current_object()


# --- forms ------------------------------------------------------------------------------------


class ScaleField(RadioField):
    def pre_validate(self, form) -> None:
        """Values off the scale are the service's to refuse, naming the competency."""


class LinksField(SelectMultipleField):
    def pre_validate(self, form) -> None:
        """Evidence the candidate may not link is the service's to refuse."""


class CompetencyForm(Form):
    rating = ScaleField("Rating", choices=RATING_CHOICES)
    rationale = TextAreaField(
        # No maxlength: a browser would cut a pasted text silently; the service says how long.
        "Rationale",
        render_kw={"rows": 5, "data-limit": assessments.RATIONALE_MAX},
    )
    evidence = LinksField("Evidence", choices=[])


class AssessmentForm(FlaskForm):
    statement = TextAreaField("Statement", render_kw={"rows": 8})
    revision = HiddenField()

    def competency(self, key: str) -> CompetencyForm:
        return self[FIELD_PREFIX + key].form


def form_class(keys) -> type[AssessmentForm]:
    """A form class with one group of fields per competency key."""
    fields = {FIELD_PREFIX + key: FormField(CompetencyForm) for key in keys}
    return type("CaseAssessmentForm", (AssessmentForm,), fields)


def build_form(model: Assessment) -> AssessmentForm:
    """A form with one group of fields per competency of the proposed level."""
    form_type = form_class(entry.key for entry in model.entries)
    form = form_type() if request.method == "POST" else form_type(data=_stored(model))
    if model.source is RatingSource.SELF:
        form.statement.label.text = "Your statement"
        form.statement.description = (
            "Optional: what you want the calibration committee to know, in your words. "
            "Markdown works."
        )
    else:
        form.statement.label.text = "Nomination statement"
        form.statement.description = (
            f"Why {model.case.candidate.name} is ready for {model.case.proposed_level.title}; "
            "calibration reads it first. Markdown works."
        )
    return form


def _stored(model: Assessment) -> dict:
    data = {
        FIELD_PREFIX + entry.key: {
            "rating": entry.rating.value if entry.rating else None,
            "rationale": entry.rationale,
            "evidence": [str(i) for i in entry.linked_ids],
        }
        for entry in model.entries
    }
    return {"statement": model.statement, "revision": model.revision, **data}


def _entries(form: AssessmentForm, keys) -> dict[str, EntryInput]:
    entries = {}
    for key in keys:
        sub = form.competency(key)
        entries[key] = EntryInput(
            sub.rating.data, sub.rationale.data or "", tuple(sub.evidence.data or ())
        )
    return entries


@dataclass(frozen=True)
class AreaProgress:
    """One area in the form's section navigation: where it starts and how far it is."""

    anchor: str
    name: str
    done: int  # competencies rated and explained, as the form holds them now
    total: int


def _progress(form: AssessmentForm, model: Assessment) -> list[AreaProgress]:
    """Per area, from the form's values (stored ones, or what was sent back with an error)."""
    return [
        AreaProgress(
            f"area-{number}",
            area,
            sum(1 for entry in entries if _is_complete(form.competency(entry.key))),
            len(entries),
        )
        for number, (area, entries) in enumerate(model.by_area, 1)
    ]


def _is_complete(sub: CompetencyForm) -> bool:
    return bool(sub.rating.data) and bool((sub.rationale.data or "").strip())


def _show_error(form: AssessmentForm, error: ValidationError) -> None:
    """Next to the fields it concerns ("<key>-rating" etc.), else above the form."""
    if isinstance(error, IncompleteError):
        for key, gaps in error.missing.items():
            sub = form.competency(key)
            if "a rating" in gaps:
                sub.rating.errors = ["Choose a rating before submitting."]
            if "a rationale" in gaps:
                sub.rationale.errors = ["Explain the rating before submitting."]
        form.form_errors.append(error.message)
        return
    if error.field == "statement":
        form.statement.errors = [error.message]
        return
    key, _, part = (error.field or "").rpartition("-")
    if FIELD_PREFIX + key in form and part in ("rating", "rationale", "evidence"):
        getattr(form.competency(key), part).errors = [error.message]
        return
    form.form_errors.append(error.message)


# --- pages ------------------------------------------------------------------------------------


@bp.route("/cases/<int:case_id>/self-assessment", methods=["GET", "POST"])
@access.requires("case.view")
def self_assessment(case_id: int):
    """The candidate's ratings of themselves against the proposed level, with their evidence."""
    return _assessment_page(case_id, RatingSource.SELF)


@bp.route("/cases/<int:case_id>/manager-assessment", methods=["GET", "POST"])
@access.requires("case.view")
def manager_assessment(case_id: int):
    """The manager's ratings of the candidate against the proposed level, and the statement."""
    return _assessment_page(case_id, RatingSource.MANAGER)


def _assessment_page(case_id: int, source: RatingSource):
    model = assessments.assessment(_actor(), case_id, source)
    form = build_form(model)
    is_submit = request.form.get("action") == "submit"
    return submit(
        form,
        lambda: _save(model, form, is_submit),
        page=lambda status, error=None: _render(case_id, model, form, status, error),
        done=lambda _: saved(_saved_message(source, is_submit), request.endpoint, case_id=case_id),
        show=_show_error,
    )


def _render(case_id: int, model: Assessment, form: AssessmentForm, status: int, error=None):
    if error is not None:  # rolled back, which expires what was read: read it again
        model = assessments.assessment(_actor(), case_id, model.source)
    conflict = error if isinstance(error, ConflictError) else None
    if conflict:
        form.revision.data = model.revision  # saving again now replaces theirs, knowingly
    template = "assessments/form.html" if model.is_editable else "assessments/show.html"
    return render_template(
        template,
        model=model,
        form=form,
        conflict=conflict,
        rating_hints=RATING_HINTS,
        progress=_progress(form, model) if model.is_editable else [],
        autosave_url=url_for(AUTOSAVE[model.source], case_id=case_id),
    ), status


def _save(model: Assessment, form: AssessmentForm, is_submit: bool):
    return _store(model.case.id, model.source, form, [e.key for e in model.entries], is_submit)


def _store(case_id: int, source: RatingSource, form: AssessmentForm, keys, is_submit: bool):
    return assessments.save(
        _actor(),
        case_id,
        source,
        _entries(form, keys),
        form.statement.data or "",
        submit=is_submit,
        expected_revision=_int(form.revision.data),
    )


# --- autosave ---------------------------------------------------------------------------------


@bp.post("/cases/<int:case_id>/self-assessment/autosave")
@access.requires("case.view")
def autosave_self_assessment(case_id: int):
    """The self-assessment form's script saves the draft here as the candidate types (JSON)."""
    return _autosave(case_id, RatingSource.SELF)


@bp.post("/cases/<int:case_id>/manager-assessment/autosave")
@access.requires("case.view")
def autosave_manager_assessment(case_id: int):
    """The manager assessment form's script saves the draft here as the manager types (JSON)."""
    return _autosave(case_id, RatingSource.MANAGER)


AUTOSAVE = {
    RatingSource.SELF: "assessments.autosave_self_assessment",
    RatingSource.MANAGER: "assessments.autosave_manager_assessment",
}


def _autosave(case_id: int, source: RatingSource):
    """The same save as "Save draft", never a submission. The competencies are the ones the
    form sent: the service refuses any the level does not have, and stores those not sent as
    empty, exactly as for the page's own form."""
    keys = sorted({m.group(1) for name in request.form if (m := POSTED_FIELD.match(name))})
    form = form_class(keys)()
    return submit_json(
        form,
        lambda: _store(case_id, source, form, keys, is_submit=False),
        done=_autosaved,
    )


def _autosaved(result: assessments.Saved) -> dict:
    return {
        "revision": result.revision,
        "saved_at": result.saved_at.isoformat(),
        "message": f"All changes saved at {result.saved_at:%H:%M} UTC.",
    }


def _saved_message(source: RatingSource, submit: bool) -> str:
    if not submit:
        return "Draft saved. Nobody else sees it until you submit."
    if source is RatingSource.SELF:
        return "Self-assessment submitted. Your manager has been told it is in."
    return "Manager assessment submitted. It goes to calibration as it is now."


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # a form without its revision: answered as a conflict, showing what is stored
