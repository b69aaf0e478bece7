"""Growth pages: readiness for a level with evidence over time, and the readiness thresholds."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from app import access
from app.core.errors import ConflictError
from app.forms import saved, submit
from app.growth.forms import ThresholdsForm, thresholds_form
from app.services.growth import pages
from app.services.growth import thresholds as rules

bp = Blueprint("growth", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/growth")
@access.requires("growth.view")
def show():
    """Your readiness for the next level (or one you pick) and your evidence over time."""
    page = pages.growth_page(_actor(), current_user.id, level_code=_level_code())
    return render_template("growth/show.html", page=page)


@bp.route("/growth/<int:person_id>")
@access.requires("growth.view")
def person(person_id: int):
    """A report's or mentee's readiness, from the evidence they shared."""
    if person_id == current_user.id:
        return redirect(url_for("growth.show", level=_level_code()))
    page = pages.growth_page(_actor(), person_id, level_code=_level_code())
    return render_template("growth/show.html", page=page)


@bp.route("/settings/readiness", methods=["GET", "POST"])
@access.requires("settings.manage")
def thresholds():
    """When a competency's evidence counts as enough: the head of product's thresholds."""
    settings = rules.thresholds_settings()
    stored = settings.stored
    levels = {rules.level_field(code): items for code, items in stored.thresholds.levels.items()}
    data = {**asdict(stored.thresholds), **levels, "token": stored.token}
    form = thresholds_form(settings.levels, stored.thresholds.min_items, data)
    return submit(
        form,
        lambda: rules.save_thresholds(
            _actor(), _wanted(form, settings.levels), expected_token=_token(form)
        ),
        page=lambda status, error=None: _thresholds_page(form, settings, status, error),
        done=lambda _: saved("The readiness thresholds were saved.", "growth.thresholds"),
    )


def _thresholds_page(form: ThresholdsForm, settings: rules.ThresholdsSettings, status: int, error):
    conflict = error if isinstance(error, ConflictError) else None
    if conflict:
        form.token.data = settings.stored.token  # saving again now overwrites, knowingly
    level_fields = [form[rules.level_field(code)] for code, _title, _rank in settings.levels]
    page = render_template(
        "growth/thresholds.html",
        form=form,
        stored=settings.stored,
        level_fields=level_fields,
        conflict=conflict,
    )
    return page, status


def _token(form: ThresholdsForm) -> str:
    return form.token.data or ""


def _wanted(form: ThresholdsForm, levels: list[tuple[str, str, int]]) -> rules.Thresholds:
    per_level = {code: form[rules.level_field(code)].data for code, _title, _rank in levels}
    return rules.Thresholds(
        **{name: getattr(form, name).data for name in rules.LIMITS},
        levels={code: items for code, items in per_level.items() if items is not None},
    )


def _level_code() -> str | None:
    return request.args.get("level", "").strip()[:30] or None
