"""Run in child processes by test_todo_reminders: one `flask reminders send`-like pass of
queue_reminders, started together with the other process's (a barrier), then committed."""

from datetime import datetime

from app import create_app
from app.extensions import db
from app.services.todo import reminders


def queue_once(database_uri: str, now: datetime, barrier) -> int:
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "MAIL_SERVER": "127.0.0.1",
        },
        environ={},
    )
    with app.app_context():
        barrier.wait(timeout=60)
        queued = reminders.queue_reminders(now)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return queued
