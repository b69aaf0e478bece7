"""Every error under /api/v1/ is an RFC 9457 problem: application/problem+json with a stable
type, a title, the status and a detail (and `errors` for invalid values)."""

from __future__ import annotations

import pytest

from tests.api.helpers import app_with_test_operations, bearer, make_token


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["type"] == f"/api/v1/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def extra(make_app):
    return app_with_test_operations(make_app).test_client()


@pytest.fixture
def secret(app, org):
    return make_token(app, org.pm_a1)


def test_an_unknown_route(client, secret):
    assert_problem(client.get("/api/v1/nope", headers=bearer(secret)), 404, "not-found")
    assert_problem(client.get("/api/v1/nope"), 404, "not-found")


def test_a_method_not_allowed(client, secret):
    response = client.delete("/api/v1/me", headers=bearer(secret))
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]


def test_an_object_the_owner_may_not_see_is_not_found(client, org, secret):
    body = assert_problem(
        client.get(f"/api/v1/people/{org.pm_b1.id}", headers=bearer(secret)), 404, "not-found"
    )
    assert body["detail"] == "Not found."


def test_an_invalid_query_value_names_the_field(client, secret):
    response = client.get("/api/v1/people?limit=0&status=sleeping", headers=bearer(secret))
    body = assert_problem(response, 422, "validation-failed")
    assert sorted(error["field"] for error in body["errors"]) == ["limit", "status"]
    assert all(error["message"] for error in body["errors"])


def test_a_control_character_in_the_query_is_refused_as_invalid(client, secret):
    response = client.get("/api/v1/people?cursor=a%00b", headers=bearer(secret))
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["field"] == "cursor"


def test_a_body_that_is_not_json(extra, secret):
    response = extra.post(
        "/api/v1/test/things",
        data=b'{"name": "x",',
        headers={**bearer(secret), "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-json")


def test_a_body_of_another_type(extra, secret):
    response = extra.post("/api/v1/test/things", data="name=x", headers=bearer(secret))
    assert_problem(response, 415, "unsupported-media-type")


def test_invalid_body_values_are_listed_with_pointers(extra, secret):
    response = extra.post(
        "/api/v1/test/things", json={"name": "", "size": 0, "extra": 1}, headers=bearer(secret)
    )
    body = assert_problem(response, 422, "validation-failed")
    assert {(e["field"], e["pointer"]) for e in body["errors"]} == {
        ("name", "/name"),
        ("size", "/size"),
        ("extra", "/extra"),
    }


def test_a_body_too_large(make_app, app, org):
    client = app_with_test_operations(make_app, MAX_CONTENT_LENGTH=100).test_client()
    response = client.post(
        "/api/v1/test/things",
        json={"name": "x" * 200, "size": 1},
        headers=bearer(make_token(app, org.pm_a1)),
    )
    assert_problem(response, 413, "too-large")


def test_a_conflict_carries_the_current_values(extra, secret):
    body = assert_problem(
        extra.get("/api/v1/test/conflict", headers=bearer(secret)), 409, "conflict"
    )
    assert body["current"] == {"title": "Theirs", "version": 3}


def test_a_server_error(make_app, app, org):
    client = app_with_test_operations(make_app, PROPAGATE_EXCEPTIONS=False).test_client()
    response = client.get("/api/v1/test/boom", headers=bearer(make_token(app, org.pm_a1)))
    body = assert_problem(response, 500, "server-error")
    assert "a bug" not in body["detail"]


def test_anything_under_api_is_a_problem_but_the_reference_page(client, org):
    assert_problem(client.get("/api/v2/people"), 404, "not-found")
    assert_problem(client.post("/api/docs"), 405, "method-not-allowed")  # not its route: no page
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_every_problem_type_uri_is_a_public_page_that_explains_it(client, org):
    from app.errors import PROBLEMS, SLUG_TITLES
    from tests.factories import sign_in

    slugs = [slug for slug, _ in PROBLEMS.values()] + list(SLUG_TITLES)
    listing = client.get("/api/v1/problems/")
    assert listing.status_code == 200 and listing.mimetype == "text/html"
    listed = listing.get_data(as_text=True)
    for slug in slugs:
        assert f'id="{slug}"' in listed
        page = client.get(f"/api/v1/problems/{slug}")
        assert page.status_code == 200, slug
        assert page.mimetype == "text/html"
        assert f"/api/v1/problems/{slug}" in page.get_data(as_text=True)
    assert client.get("/api/v1/problems/no-such-thing").status_code == 404
    sign_in(client, org.pm_a1)
    reference = client.get("/api/docs").get_data(as_text=True)
    assert 'href="/api/v1/problems/"' in reference
    description = client.get("/api/v1/openapi.json").json["info"]["description"]
    assert all(slug in description for slug in slugs)
    assert "/api/v1/problems/" in description


def test_a_problem_answer_names_a_type_that_resolves(client):
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert client.get(answer.json["type"]).status_code == 200
