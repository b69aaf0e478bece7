"""Decision logs (per case and per session, CSV) and the fairness view."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("records", __name__)
