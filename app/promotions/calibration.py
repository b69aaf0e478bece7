"""Calibration sessions: blind pre-votes, the meeting grid, agreeing, locking."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calibration", __name__)
