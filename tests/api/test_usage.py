"""Every request made with a token is audited once its answer is known, and each token's rate
limit is counted in the database: two app instances (two workers) share one limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models.identity import ApiRateWindow, ApiToken, ApiTokenUse
from tests.api.helpers import bearer, make_token

MOMENT = datetime(2026, 3, 2, 10, 15, 5, tzinfo=UTC)


def uses(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(ApiTokenUse).order_by(ApiTokenUse.id))
        return [(u.method, u.path, u.status, u.client) for u in rows]


def test_each_use_is_audited_with_its_status(app, client, org):
    secret = make_token(app, org.pm_a1)
    client.get("/api/v1/me", headers=bearer(secret))
    client.get(f"/api/v1/people/{org.pm_b1.id}", headers=bearer(secret))  # not visible: 404
    client.get("/api/v1/people?limit=0", headers=bearer(secret))
    client.get("/api/v1/me")  # no token: nothing to audit it against
    assert uses(app) == [
        ("GET", "/api/v1/me", 200, "127.0.0.1"),
        ("GET", f"/api/v1/people/{org.pm_b1.id}", 404, "127.0.0.1"),
        ("GET", "/api/v1/people", 422, "127.0.0.1"),
    ]


def test_a_use_marks_the_token_used(app, client, org):
    secret = make_token(app, org.pm_a1)
    with time_machine.travel(MOMENT, tick=False):
        client.get("/api/v1/me", headers=bearer(secret))
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) == MOMENT


def test_the_limit_holds_across_two_workers(app, make_app, org):
    first = make_app(API_RATE_LIMIT=3).test_client()
    second = make_app(API_RATE_LIMIT=3).test_client()
    secret = make_token(app, org.pm_a1)
    with time_machine.travel(MOMENT, tick=False):
        answers = [
            client.get("/api/v1/me", headers=bearer(secret))
            for client in (first, second, first, second)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    assert {a.headers["RateLimit-Reset"] for a in answers} == {"55"}
    over = answers[-1]
    assert over.mimetype == "application/problem+json"
    assert over.json["type"] == "/api/v1/problems/rate-limited"
    assert over.headers["Retry-After"] == "55"
    assert uses(app)[-1][2] == 429  # the refusal is audited too


def test_the_limit_is_per_token_and_per_window(app, make_app, org):
    client = make_app(API_RATE_LIMIT=1).test_client()
    one, two = make_token(app, org.pm_a1), make_token(app, org.pm_a1)
    with time_machine.travel(MOMENT, tick=False):
        assert client.get("/api/v1/me", headers=bearer(one)).status_code == 200
        assert client.get("/api/v1/me", headers=bearer(one)).status_code == 429
        assert client.get("/api/v1/me", headers=bearer(two)).status_code == 200
    with time_machine.travel(MOMENT + timedelta(minutes=1), tick=False):
        assert client.get("/api/v1/me", headers=bearer(one)).status_code == 200


def test_old_windows_are_purged_when_a_new_one_opens(app, client, org):
    secret = make_token(app, org.pm_a1)
    for minutes in (0, 0, 1, 5):
        with time_machine.travel(MOMENT + timedelta(minutes=minutes), tick=False):
            client.get("/api/v1/me", headers=bearer(secret))
    with app.app_context():
        windows = db.session.execute(select(ApiRateWindow.window_start, ApiRateWindow.count)).all()
    assert windows == [(MOMENT.replace(second=0) + timedelta(minutes=5), 1)]


def test_public_operations_count_nothing(app, client, org):
    client.get("/api/v1/openapi.json")
    assert uses(app) == []


def test_the_limit_is_set_from_the_environment():
    import pytest

    import config

    assert config.load({}, {"ENV": "testing"})["API_RATE_LIMIT"] == 120
    assert config.load({"RUNGS_API_RATE_LIMIT": "5"}, {"ENV": "testing"})["API_RATE_LIMIT"] == 5
    with pytest.raises(config.ConfigError):
        config.load({"RUNGS_API_RATE_LIMIT": "0"}, {"ENV": "testing"})


def test_last_used_moves_at_most_once_a_minute(app, client, org):
    secret = make_token(app, org.pm_a1)
    for seconds in (0, 30, 59):
        with time_machine.travel(MOMENT + timedelta(seconds=seconds), tick=False):
            client.get("/api/v1/me", headers=bearer(secret))
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) == MOMENT
    with time_machine.travel(MOMENT + timedelta(seconds=61), tick=False):
        client.get("/api/v1/me", headers=bearer(secret))
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) == MOMENT + timedelta(seconds=61)
    assert len(uses(app)) == 4  # every request is still recorded


def test_uses_older_than_the_retention_are_purged_as_tokens_are_used(app, client, org):
    secret = make_token(app, org.pm_a1)
    days = app.config["API_USE_RETENTION_DAYS"]
    assert days == 90
    with time_machine.travel(MOMENT - timedelta(days=days + 1), tick=False):
        client.get("/api/v1/me", headers=bearer(secret))
    with time_machine.travel(MOMENT - timedelta(days=days - 1), tick=False):
        client.get("/api/v1/frameworks", headers=bearer(secret))
    assert [u[1] for u in uses(app)] == ["/api/v1/me", "/api/v1/frameworks"]
    with time_machine.travel(MOMENT, tick=False):
        client.get("/api/v1/people", headers=bearer(secret))  # opens a new window: purges
    assert [u[1] for u in uses(app)] == ["/api/v1/frameworks", "/api/v1/people"]


def test_the_cli_purges_every_old_use_in_batches(app, org, monkeypatch):
    from app.services.api import usage

    secret = make_token(app, org.pm_a1)
    old = MOMENT - timedelta(days=app.config["API_USE_RETENTION_DAYS"] + 5)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
        db.session.add_all(
            ApiTokenUse(token_id=token_id, at=old, method="GET", path="/x", status=200, client="c")
            for _ in range(7)
        )
        db.session.add(
            ApiTokenUse(
                token_id=token_id, at=MOMENT, method="GET", path="/y", status=200, client="c"
            )
        )
        db.session.commit()
    monkeypatch.setattr(usage, "PURGE_BATCH", 3)
    with time_machine.travel(MOMENT, tick=False):
        result = app.test_cli_runner().invoke(args=["api", "purge-uses"])
    assert result.exit_code == 0, result.output
    assert "Purged 7 API request record(s) older than 90 days." in result.output
    assert [u[1] for u in uses(app)] == ["/y"]
    assert secret


def test_refused_uses_of_a_known_token_are_recorded(app, client, org):
    from tests.api.helpers import change_token, expire

    revoked = make_token(app, org.pm_a1, name="revoked")
    expired = make_token(app, org.pm_a1, name="expired")
    change_token(app, revoked, revoked_at=MOMENT)
    expire(app, expired)
    for secret in (revoked, expired):
        assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    client.get("/api/v1/me", headers=bearer("rungs_" + "x" * 43))  # unknown: no token to tie to
    assert uses(app) == [("GET", "/api/v1/me", 401, "127.0.0.1")] * 2
    with app.app_context():
        assert db.session.scalars(select(ApiToken.last_used_at)).all() == [None, None]
