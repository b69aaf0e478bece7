"""Self-assessment and manager assessment of a case."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms import Form, FormField, HiddenField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app import access
from app.extensions import db
from app.models import Rating, RatingSource
from app.services import markdown
from app.services.errors import ConflictError, ValidationError
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


def _actor():
    return current_user._get_current_object()


# --- what the case page shows -----------------------------------------------------------------


@bp.app_template_global()
def assessment_panel(case) -> assessments.Panel:
    """The case page's self and manager ratings, as the viewer may see them (fixed queries)."""
    return assessments.panel(_actor(), case)


@bp.app_template_global()
def assessment_case_url(case_id: int) -> str:
    """The case page (the cycles blueprint's); its path is fixed by the agreed convention."""
    try:
        return url_for("cycles.case", case_id=case_id)
    except BuildError:
        return f"/cases/{case_id}"


@bp.app_template_filter("assessment_markdown")
def render_markdown(text: str) -> Markup:
    return markdown.render(text)


bp.add_app_template_global(RATING_HINTS, "assessment_rating_hints")


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
        "Rationale", render_kw={"rows": 4, "maxlength": assessments.RATIONALE_MAX}
    )
    evidence = LinksField("Evidence", choices=[])


class AssessmentForm(FlaskForm):
    statement = TextAreaField("Statement", render_kw={"rows": 8})
    revision = HiddenField()

    def competency(self, key: str) -> CompetencyForm:
        return self[FIELD_PREFIX + key].form


def build_form(model: Assessment) -> AssessmentForm:
    """A form with one group of fields per competency of the proposed level."""
    fields = {FIELD_PREFIX + entry.key: FormField(CompetencyForm) for entry in model.entries}
    form_class = type("CaseAssessmentForm", (AssessmentForm,), fields)
    form = form_class() if request.method == "POST" else form_class(data=_stored(model))
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


def _entries(form: AssessmentForm, model: Assessment) -> dict[str, EntryInput]:
    entries = {}
    for entry in model.entries:
        sub = form.competency(entry.key)
        entries[entry.key] = EntryInput(
            sub.rating.data, sub.rationale.data or "", tuple(sub.evidence.data or ())
        )
    return entries


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
    if not form.validate_on_submit():
        return _render(model, form)
    submit = request.form.get("action") == "submit"
    try:
        assessments.save(
            _actor(),
            case_id,
            source,
            _entries(form, model),
            form.statement.data or "",
            submit=submit,
            expected_revision=_int(form.revision.data),
        )
    except ConflictError as error:
        model = _reloaded(case_id, source)
        form.revision.data = model.revision  # saving again now replaces theirs, knowingly
        return _render(model, form, conflict=error, status=409)
    except ValidationError as error:
        model = _reloaded(case_id, source)
        _show_error(form, error)
        return _render(model, form, status=400)
    db.session.commit()
    flash(_saved_message(source, submit), "success")
    return redirect(request.path)


def _reloaded(case_id: int, source: RatingSource) -> Assessment:
    """After a refusal: roll back (which expires what was read) and read the page's data again."""
    db.session.rollback()
    return assessments.assessment(_actor(), case_id, source)


def _render(model: Assessment, form: AssessmentForm, *, conflict=None, status=None):
    if status is None:
        status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    template = "assessments/form.html" if model.is_editable else "assessments/show.html"
    return render_template(template, model=model, form=form, conflict=conflict), status


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
