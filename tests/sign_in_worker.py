"""Run in child processes by test_sign_in_concurrency: sign-in attempts fired together in threads.

Each process builds its own app on the test database (another worker), waits for the others at a
barrier, then fires its attempts at once, one thread (and one database session) per attempt. The
password check is made slow here, as a real Argon2 profile is, so that a throttle which counts
before the check and without a lock lets attempts through; the process counts every check made.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from app import create_app
from app.extensions import db
from app.services.people import auth

CHECK_SECONDS = 0.2


def fire_sign_ins(database_uri, overrides, emails, clients, barrier, results) -> None:
    """Try a wrong password once per (email, client), all at once; put (checks made, outcomes)
    on `results`."""
    app = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_uri, **overrides}, environ={}
    )
    checks = []
    lock = threading.Lock()
    real_verify = auth.verify_password

    def slow_verify(password_hash, candidate):
        with lock:
            checks.append(1)
        time.sleep(CHECK_SECONDS)
        return real_verify(password_hash, candidate)

    auth.verify_password = slow_verify  # this process only

    def attempt(email: str, client: str) -> str:
        with app.app_context():
            try:
                auth.authenticate(email, "wrong", client=client)
                outcome = "signed in"
            except auth.SignInError:
                outcome = "refused"
            except auth.ThrottledError:
                outcome = "throttled"
            except Exception as error:  # reported to the test, which fails on it
                db.session.rollback()
                outcome = f"{type(error).__name__}: {error}"[:200]
            else:
                db.session.commit()
            if outcome in ("refused", "throttled"):
                db.session.commit()  # as the sign-in view does: keep what was recorded
            db.session.remove()
            return outcome

    with app.app_context():
        db.session.execute(db.select(1))  # connect before the start, not during the burst
        db.session.remove()
    barrier.wait(timeout=120)
    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(pool.map(attempt, emails, clients))
    with app.app_context():
        db.engine.dispose()
    results.put((len(checks), outcomes))
