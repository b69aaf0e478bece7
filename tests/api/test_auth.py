"""Token sign-in for /api/v1/: only a live Bearer token lets anyone in, as its owner, within its
scope; the browser's cookie session is neither read nor written."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.models.identity import ApiScope
from tests.api.helpers import app_with_test_operations, bearer, change_token, expire, make_token
from tests.factories import sign_in


def assert_unauthenticated(response, detail_word: str, *, invalid: bool = True):
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/unauthenticated"
    assert detail_word in response.json["detail"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="rungs"')
    assert ('error="invalid_token"' in challenge) is invalid


def test_a_token_acts_as_its_owner(app, client, org):
    secret = make_token(app, org.pm_a1, scope=ApiScope.READ, name="Reports")
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json["id"] == org.pm_a1.id
    assert response.json["email"] == "alice@example.com"
    assert response.json["token"] == {
        "name": "Reports",
        "scope": "read",
        "hint": secret[:10] + "…",
        "expires_at": response.json["token"]["expires_at"],
    }


def test_no_token_is_refused_with_a_challenge(client, org):
    assert_unauthenticated(client.get("/api/v1/me"), "Send a personal access token", invalid=False)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer   ",
        "Token rungs_abc",
        "Bearer not-a-rungs-token",
        "Bearer rungs_ü",
    ],
)
def test_a_malformed_header_is_refused(client, org, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert_unauthenticated(response, "must be 'Bearer '")


def test_an_unknown_token_is_refused(app, client, org):
    secret = make_token(app, org.pm_a1)
    response = client.get(
        "/api/v1/me", headers=bearer(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    )
    assert_unauthenticated(response, "not known")


def test_an_expired_token_is_refused(app, client, org):
    secret = make_token(app, org.pm_a1)
    expire(app, secret)
    assert_unauthenticated(client.get("/api/v1/me", headers=bearer(secret)), "expired")


def test_a_revoked_token_is_refused(app, client, org):
    secret = make_token(app, org.pm_a1)
    change_token(app, secret, revoked_at=utcnow())
    assert_unauthenticated(client.get("/api/v1/me", headers=bearer(secret)), "revoked")


def test_a_deactivated_owners_token_is_refused(app, client, org):
    secret = make_token(app, org.pm_a1)
    with app.app_context():
        db.session.get(User, org.pm_a1.id).deactivated_at = utcnow()
        db.session.commit()
    assert_unauthenticated(client.get("/api/v1/me", headers=bearer(secret)), "no longer")


def test_the_cookie_session_does_not_sign_in_to_the_api(app, client, org):
    sign_in(client, org.head)
    assert client.get("/").status_code == 200  # the cookie works for pages
    response = client.get("/api/v1/me")
    assert_unauthenticated(response, "Send a personal access token", invalid=False)
    assert "Set-Cookie" not in response.headers


def test_with_a_cookie_and_a_token_the_token_decides(app, client, org):
    sign_in(client, org.head)
    secret = make_token(app, org.pm_a1)
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.json["id"] == org.pm_a1.id
    assert "Set-Cookie" not in response.headers
    assert client.get("/").status_code == 200  # and the browser's session is untouched


def test_api_answers_never_set_a_cookie(app, client, org):
    secret = make_token(app, org.pm_a1)
    for path in ("/api/v1/me", "/api/v1/people", "/api/v1/nope", "/api/v1/openapi.json"):
        for headers in ({}, bearer(secret)):
            assert "Set-Cookie" not in client.get(path, headers=headers).headers, path


def test_a_read_token_may_not_write(app, make_app, org):
    other = app_with_test_operations(make_app)
    client = other.test_client()
    reader = make_token(app, org.pm_a1, scope=ApiScope.READ)
    writer = make_token(app, org.pm_a1, scope=ApiScope.READ_WRITE)
    body = {"name": "x", "size": 1}
    refused = client.post("/api/v1/test/things", json=body, headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.json["type"] == "/api/v1/problems/insufficient-scope"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    made = client.post("/api/v1/test/things", json=body, headers=bearer(writer))
    assert made.status_code == 201
    assert made.json == body


def test_writes_need_no_csrf_token_but_a_bearer_token(app, make_app, org):
    """The API is exempt from CSRF because a cookie grants nothing there: a signed-in browser's
    cross-site POST is refused for want of a token."""
    other = app_with_test_operations(make_app)
    client = other.test_client()
    sign_in(client, org.head)
    response = client.post("/api/v1/test/things", json={"name": "x", "size": 1})
    assert response.status_code == 401


def test_a_token_is_held_to_its_owners_route_level_rules(app, make_app, org):
    other = app_with_test_operations(make_app)
    client = other.test_client()
    pm = client.get("/api/v1/test/heads-only", headers=bearer(make_token(app, org.pm_a1)))
    assert pm.status_code == 403
    assert pm.json["type"] == "/api/v1/problems/forbidden"
    head = client.get("/api/v1/test/heads-only", headers=bearer(make_token(app, org.head)))
    assert head.status_code == 200


def test_a_remember_me_cookie_does_not_sign_in_to_the_api(app, client, org):
    sign_in(client, org.head, remember=True)
    client.delete_cookie("session")  # a new browser session: only the remember cookie is left
    assert client.get("/").status_code == 200  # it signs in to pages
    client.delete_cookie("session")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
