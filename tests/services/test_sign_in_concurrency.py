"""Sign-in limits hold exactly when many attempts arrive at once from several worker processes."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta

from tests.sign_in_worker import fire_sign_ins

PROCESSES = 2
PER_PROCESS = 20  # 40 attempts in flight together


def burst(app, emails: str | list[str], clients: list[str], **overrides):
    """Fire one wrong password per client (on one email, or one each), spread over PROCESSES
    processes; returns (password checks made, outcome counts)."""
    emails = [emails] * len(clients) if isinstance(emails, str) else emails
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(PROCESSES), spawn.Queue()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = [
        spawn.Process(
            target=fire_sign_ins,
            args=(uri, overrides, emails[n::PROCESSES], clients[n::PROCESSES], barrier, results),
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    checks = sum(count for count, _ in reports)
    outcomes = Counter(outcome for _, some in reports for outcome in some)
    print(f"{len(clients)} parallel attempts: {checks} password checks, {dict(outcomes)}")
    return checks, outcomes


ATTEMPTS = PROCESSES * PER_PROCESS
ONE_CLIENT = ["198.51.100.7"] * ATTEMPTS
MANY_CLIENTS = [f"198.51.100.{number}" for number in range(ATTEMPTS)]


def test_parallel_wrong_passwords_from_one_client_get_exactly_the_limit_of_checks(app, org):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT"]
    checks, outcomes = burst(app, org.pm_a1.email, ONE_CLIENT)
    assert checks == limit
    assert outcomes == {"refused": limit, "throttled": ATTEMPTS - limit}


def test_parallel_wrong_passwords_from_many_clients_reach_the_account_ceiling_exactly(app, org):
    ceiling = 5  # with a long interval, so the whole burst falls inside it
    checks, outcomes = burst(
        app,
        org.pm_a1.email,
        MANY_CLIENTS,
        LOGIN_ACCOUNT_SLOW_AFTER=ceiling,
        LOGIN_ACCOUNT_SLOW_INTERVAL=timedelta(minutes=10),
    )
    assert checks == ceiling
    assert outcomes == {"refused": ceiling, "throttled": ATTEMPTS - ceiling}


def test_parallel_attempts_on_many_accounts_from_one_client_get_exactly_its_limit(app, org):
    limit = 5
    emails = [f"guess{number}@example.com" for number in range(ATTEMPTS)]
    checks, outcomes = burst(app, emails, ONE_CLIENT, LOGIN_MAX_FAILURES_PER_CLIENT=limit)
    assert checks == limit
    assert outcomes == {"refused": limit, "throttled": ATTEMPTS - limit}
