"""Career path pages for everyone: frameworks, the matrix, a level, and comparing two levels."""

import io
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from app import access
from app.services.frameworks import ladder

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")

VERSION = "/<slug>/v<int:number>"
# The documents of the file formats Rungs imports, by the name in their URL.
FORMAT_DOCS = {
    "rungs-yaml": "framework-format.md",
    "monzo": "monzo-format.md",
    "csv": "csv-format.md",
}


def _actor():
    return current_user._get_current_object()


@bp.route("/")
@access.requires("frameworks.view")
def index():
    """Every framework with its published version (drafts too, for the head of product)."""
    return render_template("frameworks/index.html", page=ladder.catalogue_page(_actor()))


@bp.route("/formats/<name>.md")
@access.requires("frameworks.view")
def format_doc(name: str):
    """The description of a file format Rungs imports, as Markdown text."""
    if name not in FORMAT_DOCS:
        abort(404)
    path = Path(current_app.config["FORMAT_DOCS_DIR"]) / FORMAT_DOCS[name]
    if not path.is_file():
        abort(404)
    return Response(path.read_text(encoding="utf-8"), mimetype="text/plain")


@bp.route("/<slug>/")
@access.requires("frameworks.view")
def show(slug: str):
    """Open a framework at its published version (the head's newest draft before publishing)."""
    number = ladder.current_number(_actor(), slug)
    return redirect(url_for("frameworks.version", slug=slug, number=number))


@bp.route(f"{VERSION}/")
@access.requires("frameworks.view")
def version(slug: str, number: int):
    """The matrix: every competency's expectation at every level of one version."""
    page = ladder.matrix(_actor(), slug, number)
    return render_template("frameworks/matrix.html", page=page)


@bp.route(f"{VERSION}/levels/<code>")
@access.requires("frameworks.view")
def level(slug: str, number: int, code: str):
    """One level: its role, decision rights and what every competency expects at it."""
    page = ladder.level_page(_actor(), slug, number, code)
    return render_template("frameworks/level.html", page=page)


@bp.route(f"{VERSION}/compare")
@access.requires("frameworks.view")
def compare(slug: str, number: int):
    """What changes from level a to level b (and to level c, when given), changed words marked."""
    args = request.args
    shown = ladder.compare_page(_actor(), slug, number, args.get("a"), args.get("b"), args.get("c"))
    return render_template(
        "frameworks/compare.html",
        page=shown.page,
        comparison=shown.comparison,
        paths=shown.paths,
        error=shown.error,
        a=shown.a,
        b=shown.b,
        c_code=shown.c,
    ), (400 if shown.error else 200)


@bp.route(f"{VERSION}/export.<fmt>")
@access.requires("frameworks.view")
def export(slug: str, number: int, fmt: str):
    """Download a version as YAML or CSV, the formats Rungs imports."""
    download = ladder.export_file(_actor(), slug, number, fmt)
    return send_file(
        io.BytesIO(download.text.encode("utf-8")),
        mimetype=download.mimetype,
        as_attachment=True,
        download_name=download.filename,
    )
