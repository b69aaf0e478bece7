"""Self-assessment and manager assessment of a case."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assessments", __name__)
