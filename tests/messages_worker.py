"""Run in child processes by tests/test_reminders_cli.py: one `flask reminders send` pass."""

from app import create_app
from app.extensions import db


def send_everything(database_uri: str, mail_settings: dict, barrier) -> list[str]:
    from app.services.messages import run

    app = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_uri, **mail_settings}, environ={}
    )
    with app.app_context():
        barrier.wait(timeout=60)  # every process built its app: the passes start together
        said = list(run.everything())
        db.session.remove()
        db.engine.dispose()
    return said
