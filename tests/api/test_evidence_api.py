"""Evidence through /api/v1/: the list (filters, cursor pages), one item, logging, changing with
the version check and the Trash, each answered as the evidence pages answer the same person."""

from __future__ import annotations

import multiprocessing
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Evidence, EvidenceKind, EvidenceRevision, Visibility
from app.models.identity import ApiScope
from tests.api.helpers import bearer, make_token
from tests.api.patch_worker import patch_at_once
from tests.evidence_helpers import publish_and_place, record
from tests.factories import sign_in
from tests.queries import count_queries

PROCESSES = 4
NEW = {
    "title": "Cut onboarding to one screen",
    "occurred_on": "2026-09-14",
    "kind": "experiment",
    "competency_keys": ["skill-0-0"],
    "body": "A/B test over **two weeks**.",
    "visibility": "shared",
    "metric": "Day-1 activation",
    "metric_before": "41",
    "metric_after": "47",
    "metric_unit": "%",
    "links": [{"url": "https://example.com/test", "label": "Readout"}],
}


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.manager_a])
    return org


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


def test_the_list_holds_what_the_caller_may_read_and_nothing_in_the_trash(app, client, placed):
    org = placed
    own = record(app, org.pm_a1, title="Mine, private", visibility=Visibility.PRIVATE)
    shared = record(app, org.pm_a1, title="Mine, shared")
    record(app, org.pm_a2, title="Arun's draft", visibility=Visibility.PRIVATE)
    reported = record(app, org.pm_a2, title="Arun's launch")
    trashed = record(app, org.pm_a1, title="Thrown away")
    with app.app_context():
        db.session.get(Evidence, trashed).deleted_at = db.func.now()
        db.session.commit()

    alice = bearer(make_token(app, org.pm_a1))
    ada = bearer(make_token(app, org.manager_a))
    ben = bearer(make_token(app, org.manager_b))
    assert sorted(_ids(client.get("/api/v1/evidence", headers=alice))) == sorted([own, shared])
    assert sorted(_ids(client.get("/api/v1/evidence", headers=ada))) == sorted([shared, reported])
    assert _ids(client.get("/api/v1/evidence", headers=ben)) == []  # another line's manager


def test_filters_narrow_the_list_as_the_timeline_does(app, client, placed):
    org = placed
    launch = record(app, org.pm_a1, title="Pricing launch", occurred_on=date(2026, 3, 2))
    experiment = record(
        app,
        org.pm_a1,
        title="Trial length test",
        kind=EvidenceKind.EXPERIMENT,
        competency_keys=["skill-1-1"],
        occurred_on=date(2026, 5, 9),
        visibility=Visibility.PRIVATE,
        body="50% off for 100_000 users",
    )
    theirs = record(app, org.pm_a2, title="Pricing page copy", occurred_on=date(2026, 4, 1))
    ada = bearer(make_token(app, org.manager_a))
    alice = bearer(make_token(app, org.pm_a1))

    def ids(headers, **args):
        return sorted(_ids(client.get("/api/v1/evidence", query_string=args, headers=headers)))

    assert ids(ada, owner=org.pm_a1.id) == [launch]  # her draft is hers alone
    assert ids(ada, q="PRICING") == sorted([launch, theirs])
    assert ids(alice, q="100_000") == [experiment]  # _ is no wildcard
    assert ids(alice, q="100%000") == []
    assert ids(alice, kind="experiment") == [experiment]
    assert ids(alice, competency="skill-1-1") == [experiment]
    assert ids(alice, visibility="private") == [experiment]
    assert ids(ada, since="2026-03-03", until="2026-04-30") == [theirs]


def test_cursor_pages_walk_every_item_once_in_a_stable_order(app, client, placed):
    org = placed
    made = [
        record(app, org.pm_a1, title=f"Item {i}", occurred_on=date(2026, 1, 1 + i % 3))
        for i in range(7)
    ]
    alice = bearer(make_token(app, org.pm_a1))
    seen, cursor, pages = [], None, 0
    while True:
        args = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/evidence", query_string=args, headers=alice)
        seen += _ids(response)
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        # An item logged between two pages does not shift the next one.
        if pages == 1:
            made.append(record(app, org.pm_a1, title="Late", occurred_on=date(2026, 6, 1)))
    assert pages == 3
    assert sorted(seen) == sorted(made[:-1])
    assert len(seen) == len(set(seen))
    with app.app_context():
        order = db.session.execute(
            select(Evidence.id)
            .where(Evidence.id.in_(seen))
            .order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
        ).scalars()
        assert seen == list(order)


@pytest.mark.parametrize(
    "args, field",
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # [1, 2]: no date
        ({"limit": "0"}, "limit"),
        ({"limit": "10000"}, "limit"),
        ({"kind": "rumour"}, "kind"),
        ({"since": "yesterday"}, "since"),
        ({"owner": "-4"}, "owner"),
    ],
)
def test_bad_query_values_are_problems_naming_the_parameter(app, client, placed, args, field):
    response = client.get(
        "/api/v1/evidence", query_string=args, headers=bearer(make_token(app, placed.pm_a1))
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.json["errors"]] == [field]


def test_one_item_is_404_where_its_page_is(app, client, placed):
    org = placed
    draft = record(app, org.pm_a1, title="Draft", visibility=Visibility.PRIVATE)
    shared = record(app, org.pm_a1, title="Shared")
    ada = bearer(make_token(app, org.manager_a))
    assert client.get(f"/api/v1/evidence/{draft}", headers=ada).status_code == 404
    found = client.get(f"/api/v1/evidence/{shared}", headers=ada)
    assert found.status_code == 200
    assert found.json["owner"] == {"id": org.pm_a1.id, "name": "Alice Pm"}
    assert found.json["competencies"][0]["key"] == "skill-0-0"
    assert found.json["links"] == [{"url": "https://example.com/launch", "label": "Launch notes"}]
    assert found.json["version"] == 1
    assert client.get("/api/v1/evidence/999999", headers=ada).status_code == 404


def test_logging_an_item_answers_201_with_its_location(app, client, placed):
    alice = bearer(make_token(app, placed.pm_a1))
    response = client.post("/api/v1/evidence", json=NEW, headers=alice)
    assert response.status_code == 201, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.endswith(f"/api/v1/evidence/{response.json['id']}")
    again = client.get(location, headers=alice)
    assert again.json["title"] == NEW["title"]
    assert again.json["visibility"] == "shared"
    assert again.json["metric_after"] == "47"
    with app.app_context():  # the page's service: its history starts with "created"
        actions = db.session.execute(
            select(EvidenceRevision.action).where(EvidenceRevision.evidence_id == again.json["id"])
        ).scalars()
        assert list(actions) == ["created"]


@pytest.mark.parametrize(
    "change, field, pointer",
    [
        ({"title": "   "}, "title", "/title"),  # the service's message, as on the page
        ({"competency_keys": ["no-such-skill"]}, "competency_keys", "/competency_keys"),
        ({"competency_keys": []}, "competency_keys", "/competency_keys"),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "/occurred_on"),
        ({"metric_after": ""}, "metric", "/metric"),
        ({"links": [{"url": "javascript:alert(1)"}]}, "links", "/links"),
        ({"title": "x" * 201}, "title", "/title"),
        ({"metric_unit": "u" * 31}, "metric_unit", "/metric_unit"),
        ({"title": "Nul\x00byte"}, "title", "/title"),
        ({"kind": "rumour"}, "kind", "/kind"),
        ({"links": [{"url": "https://example.com", "x": 1}]}, "links.0.x", "/links/0/x"),
        ({"colour": "red"}, "colour", "/colour"),
    ],
)
def test_refused_items_are_422_problems_pointing_at_the_field(
    app, client, placed, change, field, pointer
):
    response = client.post(
        "/api/v1/evidence", json=NEW | change, headers=bearer(make_token(app, placed.pm_a1))
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert [(e["field"], e["pointer"]) for e in errors] == [(field, pointer)]
    with app.app_context():
        assert db.session.execute(select(Evidence.id)).first() is None


def test_a_body_that_is_not_json_is_a_400_problem(app, client, placed):
    response = client.post(
        "/api/v1/evidence",
        data="{not json",
        content_type="application/json",
        headers=bearer(make_token(app, placed.pm_a1)),
    )
    assert response.status_code == 400
    assert response.json["type"].endswith("/malformed-json")


def test_a_read_token_cannot_write(app, client, placed):
    item = record(app, placed.pm_a1)
    read = bearer(make_token(app, placed.pm_a1, scope=ApiScope.READ))
    refused = [
        client.post("/api/v1/evidence", json=NEW, headers=read),
        client.patch(f"/api/v1/evidence/{item}", json={"version": 1, "title": "X"}, headers=read),
        client.delete(f"/api/v1/evidence/{item}", headers=read),
    ]
    for response in refused:
        assert response.status_code == 403
        assert response.json["type"].endswith("/insufficient-scope")
    assert client.get(f"/api/v1/evidence/{item}", headers=read).json["title"] == (
        "Launched CSV import"
    )


def test_a_change_keeps_what_it_does_not_send_and_a_stale_version_is_a_conflict(
    app, client, placed
):
    item = record(app, placed.pm_a1)
    alice = bearer(make_token(app, placed.pm_a1))
    changed = client.patch(
        f"/api/v1/evidence/{item}",
        json={"version": 1, "title": "Launched CSV export"},
        headers=alice,
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["title"] == "Launched CSV export"
    assert changed.json["metric"] == "Activation"  # not sent: kept
    assert [t["key"] for t in changed.json["competencies"]] == ["skill-0-0", "skill-1-0"]
    assert changed.json["version"] == 2

    stale = client.patch(
        f"/api/v1/evidence/{item}", json={"version": 1, "title": "Overwritten?"}, headers=alice
    )
    assert stale.status_code == 409
    assert stale.mimetype == "application/problem+json"
    assert stale.json["current"]["version"] == 2
    assert stale.json["current"]["title"] == "Launched CSV export"
    assert stale.json["current"]["competencies"] == ["skill-0-0", "skill-1-0"]
    again = client.get(f"/api/v1/evidence/{item}", headers=alice).json
    assert (again["title"], again["version"]) == ("Launched CSV export", 2)


def test_changes_sent_at_the_same_moment_store_one_and_refuse_the_others(app, placed):
    """Four scripts send a change with the version they all read: one is stored, the others
    are 409 (the version check, or the row's version column when they truly meet), none lost."""
    item = record(app, placed.pm_a1)
    secret = make_token(app, placed.pm_a1)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        barrier = manager.Barrier(PROCESSES)
        statuses = pool.starmap(
            patch_at_once, [(uri, secret, item, f"Title {i}", barrier) for i in range(PROCESSES)]
        )
    assert sorted(statuses) == [200] + [409] * (PROCESSES - 1)
    with app.app_context():
        stored = db.session.get(Evidence, item)
        assert stored.revision == 2
        assert stored.title in {f"Title {i}" for i in range(PROCESSES)}


def test_nobody_changes_or_trashes_someone_elses_item(app, client, placed):
    item = record(app, placed.pm_a1)
    ada = bearer(make_token(app, placed.manager_a))  # may read it, not change it
    assert client.get(f"/api/v1/evidence/{item}", headers=ada).status_code == 200
    answers = [
        client.patch(f"/api/v1/evidence/{item}", json={"version": 1, "title": "X"}, headers=ada),
        client.delete(f"/api/v1/evidence/{item}", headers=ada),
        client.post(f"/api/v1/evidence/{item}/restore", headers=ada),
    ]
    for answer in answers:  # she may read it: no secret that it exists, so 403, said in words
        assert answer.status_code == 403, answer.get_data(as_text=True)
        assert answer.json["type"] == "/api/v1/problems/forbidden"
        assert "may read this item but not change it" in answer.json["detail"]
    bea = bearer(make_token(app, placed.pm_b1))  # may not even read it: 404, as its page
    assert client.get(f"/api/v1/evidence/{item}", headers=bea).status_code == 404
    assert (
        client.patch(
            f"/api/v1/evidence/{item}", json={"version": 1, "title": "X"}, headers=bea
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/evidence/{item}", headers=bea).status_code == 404
    assert client.post(f"/api/v1/evidence/{item}/restore", headers=bea).status_code == 404
    with app.app_context():
        stored = db.session.get(Evidence, item)
        assert stored.title != "X" and stored.deleted_at is None and stored.revision == 1


def test_deleting_moves_to_the_trash_and_restoring_brings_it_back_as_the_pages_do(
    app, client, placed
):
    item = record(app, placed.pm_a1)
    alice = bearer(make_token(app, placed.pm_a1))
    ada = bearer(make_token(app, placed.manager_a))
    assert client.delete(f"/api/v1/evidence/{item}", headers=alice).status_code == 204
    assert client.get(f"/api/v1/evidence/{item}", headers=alice).json["in_trash"] is True
    assert client.get(f"/api/v1/evidence/{item}", headers=ada).status_code == 404
    assert _ids(client.get("/api/v1/evidence", headers=alice)) == []
    assert client.delete(f"/api/v1/evidence/{item}", headers=alice).status_code == 422
    change = client.patch(
        f"/api/v1/evidence/{item}", json={"version": 2, "title": "Back?"}, headers=alice
    )
    assert change.status_code == 422
    sign_in(client, placed.pm_a1)
    assert "Launched CSV import" in client.get("/evidence/trash").get_data(as_text=True)
    restored = client.post(f"/api/v1/evidence/{item}/restore", headers=alice)
    assert restored.status_code == 200, restored.get_data(as_text=True)
    assert restored.json["in_trash"] is False
    assert client.get(f"/api/v1/evidence/{item}", headers=ada).status_code == 200
    again = client.post(f"/api/v1/evidence/{item}/restore", headers=alice)
    assert again.status_code == 422
    assert client.post(f"/api/v1/evidence/{item}/restore", headers=ada).status_code == 403


def test_the_list_reads_a_fixed_number_of_queries(app, client, placed):
    def count(n: int) -> int:
        for i in range(n):
            record(app, placed.pm_a2, title=f"Item {i}")
        return count_queries(
            app, _ApiClient(client, make_token(app, placed.manager_a)), "/api/v1/evidence?limit=100"
        )

    few = count(5)
    assert count(45) == few  # 50 items now


class _ApiClient:
    """count_queries' client, sending the token."""

    def __init__(self, client, secret: str):
        self.client, self.headers = client, bearer(secret)

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)


def test_null_is_refused_where_a_field_cannot_be_empty_and_clears_where_the_page_can(
    app, client, placed
):
    item = record(app, placed.pm_a1)
    alice = bearer(make_token(app, placed.pm_a1))
    for name in ("title", "occurred_on", "kind", "visibility", "competency_keys"):
        refused = client.patch(
            f"/api/v1/evidence/{item}", json={"version": 1, name: None}, headers=alice
        )
        assert refused.status_code == 422, (name, refused.get_data(as_text=True))
        assert refused.json["errors"][0]["pointer"] == f"/{name}"
        assert "cannot be null" in refused.json["errors"][0]["message"]
    with app.app_context():
        assert db.session.get(Evidence, item).revision == 1  # nothing stored
    cleared = client.patch(
        f"/api/v1/evidence/{item}",
        json={
            "version": 1,
            "body": None,
            "links": None,
            "metric": None,
            "metric_before": None,
            "metric_after": None,
            "metric_unit": None,
        },
        headers=alice,
    )
    assert cleared.status_code == 200, cleared.get_data(as_text=True)
    assert cleared.json["body"] == "" and cleared.json["links"] == []
    assert cleared.json["metric"] in ("", None)
    assert cleared.json["title"] == "Launched CSV import"


def test_the_schema_says_which_fields_may_be_null_in_a_change(client):
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["EvidenceChange"]
    assert "cannot be null" in schema["description"]
    assert schema["properties"]["title"].get("type") == "string"
    assert "default" not in schema["properties"]["title"]
    assert any(
        option.get("type") == "null" for option in schema["properties"]["body"].get("anyOf", [])
    )
