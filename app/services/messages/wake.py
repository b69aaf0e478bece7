"""A transaction that queued messages says so; the sender (sending.py) then submits its job
just before that transaction commits, so a worker sends them after it (never the request)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.extensions import db

KEY = "rungs_messages_queued"


def mark() -> None:
    db.session.info[KEY] = True


HERE = "rungs_messages_sent_here"


@contextmanager
def sent_here() -> Iterator[None]:
    """The caller sends the outbox itself (the command line, the send job): no job to submit."""
    db.session.info[HERE] = True
    try:
        yield
    finally:
        db.session.info.pop(HERE, None)
