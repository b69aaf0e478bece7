"""The reset throttle and single-use links hold when requests arrive at once from several
worker processes (SQLite and PostgreSQL, like the sign-in throttle)."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.infra.passwords import verify_password
from app.models import OutboundMessage, PasswordResetLink, User
from app.services.people import auth
from tests.reset_worker import fire

PROCESSES = 2
PER_PROCESS = 8
EMAIL_ON = {"MAIL_SERVER": "127.0.0.1"}


def burst(app, action: str, values: list) -> Counter:
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(PROCESSES), spawn.Queue()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = [
        spawn.Process(
            target=fire, args=(uri, EMAIL_ON, action, values[n::PROCESSES], barrier, results)
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = Counter(o for _ in workers for o in results.get(timeout=180))
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def test_parallel_requests_for_one_address_send_exactly_its_limit_of_emails(app, org):
    limit = app.config["PASSWORD_RESET_REQUESTS_PER_ADDRESS"]
    attempts = PROCESSES * PER_PROCESS
    values = [("alice@example.com", f"198.51.100.{n}") for n in range(attempts)]
    assert burst(app, "request", values) == {"done": limit, "throttled": attempts - limit}
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(OutboundMessage))
        links = db.session.scalars(select(PasswordResetLink)).all()
    assert sent == limit and len(links) == limit
    assert sum(link.used_at is None for link in links) == 1  # only the newest works


def test_one_link_used_at_once_sets_one_password(app, org):
    with app.app_context():
        head, alice = db.session.get(User, org.head.id), db.session.get(User, org.pm_a1.id)
        token = auth.create_reset_link(head, alice)
        db.session.commit()
    attempts = PROCESSES * PER_PROCESS
    values = [(token, f"parallel password {n:02d}") for n in range(attempts)]
    outcomes = burst(app, "use", values)
    assert outcomes == {"done": 1, "link not valid": attempts - 1}
    with app.app_context():
        stored = db.session.get(User, org.pm_a1.id).password_hash
        assert sum(verify_password(stored, password) for _, password in values) == 1
