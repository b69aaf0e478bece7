"""What the boundary refuses, seen by a user: a NUL in a title, a huge page number, a 1 MB name."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Evidence, User
from tests.evidence_helpers import publish_and_place
from tests.factories import sign_in
from tests.web.test_evidence_pages import form_data

pytestmark = pytest.mark.midday  # the evidence form's date is checked against the app's today


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_nul_in_an_evidence_title_is_refused_naming_the_field_and_nothing_is_saved(
    app, client, org
):
    publish_and_place(app, [org.pm_a1])
    sign_in(client, org.pm_a1)
    response = client.post_form("/evidence/new", form_data(title="Launched\x00 it"))
    assert response.status_code == 400
    assert (
        "The field “title” contains a control character (U+0000 at character 9); remove it "
        "and try again." in response.get_data(as_text=True)
    )
    assert count(app, Evidence) == 0
    # Tab, line feed and carriage return are ordinary text.
    saved = client.post_form("/evidence/new", form_data(body="Line one\r\n\tLine two"))
    assert saved.status_code == 302 and count(app, Evidence) == 1


@pytest.mark.parametrize("url", ["/evidence/?q=a%00b", "/people/?q=%1b", "/frameworks/a%00b/"])
def test_control_characters_in_a_query_string_or_path_are_refused(client, org, url):
    sign_in(client, org.head)
    response = client.get(url)
    assert response.status_code == 400
    assert "contains a control character" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/people/?page=99999999999999999999", "/evidence/?page=1000001", "/jobs?page=1e99"]
)
def test_a_page_no_list_can_have_is_not_found(client, org, url):
    sign_in(client, org.head)
    expected = 200 if url.endswith("1e99") else 404  # not a number: the first page, as before
    assert client.get(url).status_code == expected


def test_an_id_or_version_past_the_database_integers_is_not_found(app, client, org):
    publish_and_place(app, [org.pm_a1])
    sign_in(client, org.head)
    slug = client.get("/frameworks/").get_data(as_text=True)
    slug = re.search(r'href="/frameworks/([a-z0-9-]+)/', slug).group(1)
    assert client.get(f"/frameworks/{slug}/v1/").status_code == 200
    assert client.get(f"/frameworks/{slug}/v99999999999999999999/").status_code == 404
    assert client.get(f"/frameworks/{slug}/v2147483648/").status_code == 404
    assert client.get("/people/99999999999999999999").status_code == 404


def test_a_name_too_long_is_a_400_with_the_reason_next_to_the_field(app, client, org):
    sign_in(client, org.head)
    before = count(app, User)
    person = {"email": "new@example.com", "role": "pm", "manager_id": ""}
    long = client.post_form("/people/new", {**person, "name": "N" * 121})
    assert long.status_code == 400
    assert 'id="name-error">Use at most 120 characters.' in long.get_data(as_text=True)
    huge = client.post_form("/people/new", {**person, "name": "N" * 1_000_000})
    assert huge.status_code == 400
    assert "The field “name” is far too long (1,000,000 characters)" in huge.get_data(as_text=True)
    assert count(app, User) == before
