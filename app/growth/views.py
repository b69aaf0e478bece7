"""Growth pages: readiness for a level with evidence over time, and the readiness thresholds."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import access
from app.extensions import db
from app.forms import apply_domain_error
from app.growth.forms import ThresholdsForm
from app.services import readiness
from app.services import readiness_thresholds as rules
from app.services.errors import ConflictError, ValidationError

bp = Blueprint("growth", __name__)
# Templates name statuses as readiness_status.ENOUGH etc. (the home page uses them too).
bp.add_app_template_global(readiness.Status, "readiness_status")


def _actor():
    return current_user._get_current_object()


@bp.app_template_global()
def growth_summary():
    """The signed-in person's readiness for their next level (None when not placed)."""
    summary = readiness.readiness(current_user.id)
    return summary if summary.is_placed else None


@bp.route("/growth")
@access.requires("growth.view")
def show():
    """Your readiness for the next level (or one you pick) and your evidence over time."""
    page = readiness.growth_page(_actor(), current_user.id, level_code=_level_code())
    return render_template("growth/show.html", page=page)


@bp.route("/growth/<int:person_id>")
@access.requires("growth.view")
def person(person_id: int):
    """A report's or mentee's readiness, from the evidence they shared."""
    if person_id == current_user.id:
        return redirect(url_for("growth.show", level=_level_code()))
    page = readiness.growth_page(_actor(), person_id, level_code=_level_code())
    return render_template("growth/show.html", page=page)


@bp.route("/settings/readiness", methods=["GET", "POST"])
@access.requires("settings.manage")
def thresholds():
    """When a competency's evidence counts as enough: the head of product's thresholds."""
    stored = rules.stored_thresholds()
    form = ThresholdsForm(data={**asdict(stored.thresholds), "token": stored.token})
    conflict = None
    if form.validate_on_submit():
        wanted = rules.Thresholds(**{name: getattr(form, name).data for name in rules.LIMITS})
        try:
            rules.save_thresholds(_actor(), wanted, expected_token=form.token.data or "")
        except ConflictError as error:
            db.session.rollback()
            conflict, form.token.data = error, stored.token  # saving again overwrites, knowingly
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash("The readiness thresholds were saved.", "success")
            return redirect(url_for("growth.thresholds"))
    status = 409 if conflict else 400 if form.errors or form.form_errors else 200
    page = render_template("growth/thresholds.html", form=form, stored=stored, conflict=conflict)
    return page, status


def _level_code() -> str | None:
    return request.args.get("level", "").strip()[:30] or None
