"""Error pages that look like the product, the 500 rollback, and security headers."""

import re

import pytest
from sqlalchemy import select

from app import access
from app.core.errors import ConflictError
from app.extensions import db
from app.models import User
from tests.factories import sign_in

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)")  # a script element without a source file


@pytest.fixture
def fragile_app(make_app):
    """A second app on the same database with views that fail on purpose."""
    fragile = make_app(PROPAGATE_EXCEPTIONS=False)

    @access.requires("home.view")
    def write_then_crash():
        db.session.add(User(email="half@example.com", name="Half Written", role="pm"))
        db.session.flush()
        raise RuntimeError("boom")

    @access.requires("home.view")
    def conflict():
        raise ConflictError("Someone saved first.")

    fragile.add_url_rule("/crash", "crash", write_then_crash)
    fragile.add_url_rule("/conflict", "conflict", conflict)
    return fragile


def test_500_page_rolls_back_and_looks_like_the_product(app, fragile_app, org):
    client = fragile_app.test_client()
    sign_in(client, org.pm_a1)
    response = client.get("/crash")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page and 'class="site-header"' in page
    assert "boom" not in page
    with app.app_context():
        assert (
            db.session.execute(select(User).where(User.email == "half@example.com")).first() is None
        )


def test_409_page(fragile_app, org):
    client = fragile_app.test_client()
    sign_in(client, org.pm_a1)
    response = client.get("/conflict")
    assert response.status_code == 409
    assert "Someone saved first." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "path", "status", "title"),
    [
        (None, "/no/such/page", 404, "Page not found"),
        ("pm_a1", "/people/", 403, "You do not have access to this page"),
        ("head", "/people/?status=bogus", 400, "That request could not be handled"),
    ],
)
def test_error_pages(client, org, who, path, status, title):
    if who:
        sign_in(client, getattr(org, who))
    response = client.get(path)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert title in page and 'class="site-header"' in page and f"Error {status}" in page


def test_security_headers_on_every_response(client, org):
    for response in (
        client.get("/login"),
        client.get("/static/css/rungs.css"),
        client.get("/nowhere"),
    ):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        response.close()
    sign_in(client, org.pm_a1)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client, org):
    """Scripts come from files (`<script src>`, allowed by the CSP's 'self'); none is inline."""
    sign_in(client, org.head)
    for path in ("/", "/people/", f"/people/{org.pm_a1.id}", "/people/new", "/people/import"):
        page = client.get(path).get_data(as_text=True)
        assert not INLINE_SCRIPT.search(page), path
        assert "<style" not in page and " style=" not in page, path
