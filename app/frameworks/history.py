"""Version history of a framework and a readable diff between any two versions."""

from flask import Blueprint

bp = Blueprint("framework_history", __name__, url_prefix="/frameworks")
