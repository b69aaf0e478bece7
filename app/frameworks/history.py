"""Version history of a framework and a readable diff between any two versions."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from app import access
from app.core.errors import ValidationError
from app.models import CellStatus
from app.services.frameworks import history

# What an unwritten side of a changed cell says, by the cell's status.
EMPTY_CELL_LABELS = {
    CellStatus.DEFINED: "Nothing written",
    CellStatus.EMPTY: "Not written yet",
    CellStatus.NOT_APPLICABLE: "Not applicable at this level",
}

bp = Blueprint("framework_history", __name__, url_prefix="/frameworks")


@bp.route("/<slug>/history")
@access.requires("frameworks.view")
def index(slug: str):
    """Every version of a framework the person may see, newest first, with a form to compare."""
    entries = history.version_history(current_user._get_current_object(), slug)
    return render_template("framework_history/index.html", history=entries)


@bp.route("/<slug>/diff")
@access.requires("frameworks.view")
def diff(slug: str):
    """What changed from one version to another: framework, levels, areas, competencies, cells."""
    old, new = _version_number("from"), _version_number("to")
    comparison = history.compare_versions(current_user._get_current_object(), slug, old, new)
    return render_template(
        "framework_history/diff.html", comparison=comparison, empty_cell_labels=EMPTY_CELL_LABELS
    )


def _version_number(name: str) -> int:
    value = request.args.get(name, "").strip().lstrip("vV")
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        shown = request.args.get(name)
        given = f'"{shown[:20]}" is not a version number' if shown else f'"{name}" is missing'
        raise ValidationError(
            f"Choose two versions to compare: {given}. "
            "Use version numbers, for example ?from=1&to=2."
        )
    return int(value)
