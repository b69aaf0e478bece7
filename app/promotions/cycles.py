"""Promotion cycles and their cases: the list, a cycle, nominating, a case, decisions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cycles", __name__)
