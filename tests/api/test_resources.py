"""The resources read through the same services and rules as the pages: people (whom the
owner may see, a page at a time) and frameworks (drafts only for the head of product)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files, versions
from tests.api.helpers import bearer, make_token
from tests.factories import sign_in
from tests.framework_samples import framework_yaml


def get(client, app, person, path):
    return client.get(path, headers=bearer(make_token(app, person)))


def all_pages(client, secret, path, limit):
    ids, cursor, pages = [], None, 0
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(path + query, headers=bearer(secret)).json
        ids += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, pages


def test_a_pm_sees_the_people_their_profile_pages_show(app, client, org):
    ids, _ = all_pages(client, make_token(app, org.pm_a2), "/api/v1/people", 50)
    # Themselves, their managers up the line, and the mentee they mentor (Bea).
    assert sorted(ids) == sorted([org.pm_a2.id, org.manager_a.id, org.head.id, org.pm_b1.id])


def test_the_head_pages_through_everyone_without_repeats(app, client, org):
    secret = make_token(app, org.head)
    ids, pages = all_pages(client, secret, "/api/v1/people", 3)
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 8
    assert pages == 3


def test_deactivated_people_are_listed_on_request(app, client, make, org):
    gone = make.person(name="Gone Pm", manager=org.manager_a, active=False)
    secret = make_token(app, org.head)
    active, _ = all_pages(client, secret, "/api/v1/people", 50)
    deactivated, _ = all_pages(client, secret, "/api/v1/people?status=deactivated&x=1", 50)
    assert gone.id not in active and deactivated == [gone.id]


def test_a_cursor_not_made_by_the_list_is_refused(app, client, org):
    secret = make_token(app, org.head)
    for cursor in ("abc", "W10", "WyJ4Il0", "W3siZHQiOiAiMjAyNi0wMS0wMVQwMDowMDowMCJ9XQ"):
        response = client.get(f"/api/v1/people?cursor={cursor}", headers=bearer(secret))
        assert response.status_code == 422, cursor
        assert response.json["errors"][0]["field"] == "cursor"


def test_one_person_like_their_profile_page(app, client, org):
    manager = make_token(app, org.manager_a)
    seen = client.get(f"/api/v1/people/{org.pm_d1.id}", headers=bearer(manager))  # skip-level
    assert seen.status_code == 200
    assert seen.json["name"] == "Dev Pm" and seen.json["role"] == "pm"
    assert seen.json["manager_id"] == org.director.id
    hidden = client.get(f"/api/v1/people/{org.pm_b1.id}", headers=bearer(manager))
    assert hidden.status_code == 404
    sign_in(client, org.manager_a)
    assert client.get(f"/people/{org.pm_b1.id}").status_code == 404  # as the page says


@pytest.fixture
def framework(app):
    """Version 1 published, version 2 a draft: (framework id, v1 id, v2 id)."""
    with app.app_context():
        v1 = files.import_text(SYSTEM, framework_yaml(slug="pm-path"), "yaml", publish=True).version
        draft = versions.new_draft(SYSTEM, v1)
        db.session.commit()
        return v1.framework_id, v1.id, draft.id


def test_frameworks_and_their_versions(app, client, org, framework):
    framework_id, published_id, draft_id = framework
    pm, head = make_token(app, org.pm_a1), make_token(app, org.head)
    listed = client.get("/api/v1/frameworks", headers=bearer(pm)).json["items"]
    assert [(f["id"], f["slug"], f["published_version_id"]) for f in listed] == [
        (framework_id, "pm-path", published_id)
    ]
    pm_versions = client.get(f"/api/v1/frameworks/{framework_id}/versions", headers=bearer(pm))
    assert [v["id"] for v in pm_versions.json["items"]] == [published_id]
    head_versions = client.get(f"/api/v1/frameworks/{framework_id}/versions", headers=bearer(head))
    assert [(v["id"], v["status"]) for v in head_versions.json["items"]] == [
        (draft_id, "draft"),
        (published_id, "published"),
    ]
    assert client.get("/api/v1/frameworks/999", headers=bearer(pm)).status_code == 404


def test_a_version_with_its_content(app, client, org, framework):
    framework_id, published_id, draft_id = framework
    pm = make_token(app, org.pm_a1)
    path = f"/api/v1/frameworks/{framework_id}/versions"
    version = client.get(f"{path}/{published_id}", headers=bearer(pm)).json
    assert version["number"] == 1 and version["status"] == "published"
    document = version["document"]
    assert [level["code"] for level in document["tracks"][0]["levels"]] == ["L1", "L2", "L3"]
    competency = document["areas"][0]["competencies"][0]
    assert set(competency["expectations"]) == {"L1", "L2", "L3"}
    assert client.get(f"{path}/{draft_id}", headers=bearer(pm)).status_code == 404  # a draft
    head = make_token(app, org.head)
    assert client.get(f"{path}/{draft_id}", headers=bearer(head)).status_code == 200


def test_an_export_is_the_pages_download(app, client, org, framework):
    framework_id, published_id, _draft_id = framework
    pm = make_token(app, org.pm_a1)
    sign_in(client, org.pm_a1)
    for fmt, mimetype in (("yaml", "text/yaml"), ("csv", "text/csv")):
        api = client.get(
            f"/api/v1/frameworks/{framework_id}/versions/{published_id}/export?format={fmt}",
            headers=bearer(pm),
        )
        assert api.status_code == 200 and api.mimetype == mimetype
        page = client.get(f"/frameworks/pm-path/v1/export.{fmt}")
        assert api.data == page.data
    refused = client.get(
        f"/api/v1/frameworks/{framework_id}/versions/{published_id}/export?format=pdf",
        headers=bearer(pm),
    )
    assert refused.status_code == 422


def test_a_version_of_another_framework_is_not_found(app, client, org, framework):
    _framework_id, published_id, _draft_id = framework
    with app.app_context():
        other = files.import_text(SYSTEM, framework_yaml(slug="other"), "yaml", publish=True)
        db.session.commit()
        other_id = other.version.framework_id
    response = get(client, app, org.pm_a1, f"/api/v1/frameworks/{other_id}/versions/{published_id}")
    assert response.status_code == 404
