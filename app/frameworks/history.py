"""Version history of a framework and a readable diff between any two versions."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app import access
from app.models import CellStatus
from app.services.errors import ValidationError
from app.services.frameworks import history
from app.services.frameworks.diff import describe_right

# What an unwritten side of a changed cell says, by the cell's status.
EMPTY_CELL_LABELS = {
    CellStatus.DEFINED: "Nothing written",
    CellStatus.EMPTY: "Not written yet",
    CellStatus.NOT_APPLICABLE: "Not applicable at this level",
}

bp = Blueprint("framework_history", __name__, url_prefix="/frameworks")


@bp.context_processor
def _helpers() -> dict:
    return {
        "version_url": version_url,
        "describe_right": describe_right,
        "empty_cell_labels": EMPTY_CELL_LABELS,
    }


def version_url(slug: str, number: int) -> str:
    """The matrix page of a version (`/frameworks/<slug>/v<number>/`)."""
    if "frameworks.version" in current_app.view_functions:
        try:
            return url_for("frameworks.version", slug=slug, number=number)
        except BuildError:
            pass  # its arguments are named differently: the path below is the same page
    return f"{request.script_root}/frameworks/{quote(slug)}/v{number}/"


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
    return render_template("framework_history/diff.html", comparison=comparison)


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
