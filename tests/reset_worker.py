"""Run in child processes by test_password_reset_concurrency: requests for a password email, or
uses of one password link, fired together in threads (one database session each), after the
other processes are ready (a barrier)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from app import create_app
from app.core.errors import NotFoundError
from app.extensions import db
from app.services.people import password_reset


def fire(database_uri, overrides, action, values, barrier, results) -> None:
    """`action` is "request" (values: (email, client) pairs) or "use" (values: (token,
    password) pairs); puts the outcomes on `results`."""
    app = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_uri, **overrides}, environ={}
    )

    def attempt(value) -> str:
        with app.app_context():
            try:
                if action == "request":
                    password_reset.request_reset(value[0], client=value[1])
                else:
                    password_reset.set_password_from_link(value[0], value[1], client="x")
                db.session.commit()
                outcome = "done"
            except password_reset.ResetThrottledError:
                outcome = "throttled"
            except NotFoundError:
                outcome = "link not valid"
            except Exception as error:  # reported to the test, which fails on it
                outcome = f"{type(error).__name__}: {error}"[:200]
            db.session.rollback()
            db.session.remove()
            return outcome

    with app.app_context():
        db.session.execute(db.select(1))  # connect before the start, not during the burst
        db.session.remove()
    barrier.wait(timeout=120)
    with ThreadPoolExecutor(len(values)) as pool:
        outcomes = list(pool.map(attempt, values))
    with app.app_context():
        db.engine.dispose()
    results.put(outcomes)
