"""Career path pages for everyone: frameworks, the matrix, a level, and comparing two levels."""

from flask import Blueprint, render_template

from app import policy
from app.services.frameworks import store

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")


@bp.route("/")
@policy.requires("frameworks.view")
def index():
    """Every framework with its published version (drafts too, for the head of product)."""
    return render_template("frameworks/index.html", frameworks=store.list_frameworks())
