from tests.api.helpers import bearer, make_token


def test_me(app, client, org):
    secret = make_token(app, org.pm_a1)
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["email"] == "alice@example.com"
    assert response.json["token"]["scope"] == "read_write"
    assert "Set-Cookie" not in response.headers
    assert response.headers["RateLimit-Limit"] == "120"


def test_no_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/unauthenticated"


def test_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/me" in response.json["paths"]
