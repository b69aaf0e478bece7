"""For the head of product: create, import, edit drafts, publish, archive."""

from flask import Blueprint

bp = Blueprint("framework_editor", __name__, url_prefix="/frameworks")
