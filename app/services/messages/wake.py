"""A transaction that queued messages says so; the sender (sending.py) then submits its job
just before that transaction commits, so a worker sends them after it (never the request)."""

from __future__ import annotations

from app.extensions import db

KEY = "rungs_messages_queued"


def mark() -> None:
    db.session.info[KEY] = True
