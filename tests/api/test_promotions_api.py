"""Promotion cycles and cases through /api/v1/: the lists page by cursor in a fixed number of
queries, a case reads as its page in the current phase (tests/api/test_policy_matrix.py compares
the two for every person), and votes stay blind until the session's people may see them."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import CalibrationSession, CyclePhase, RatingSource, User
from app.models.base import utcnow
from app.services.promotions.calibration import votes as vote_service
from tests.api.helpers import bearer, make_token
from tests.factories import Person
from tests.promotion_helpers import (
    KEYS,
    B,
    E,
    M,
    all_meets,
    cycle_with_cases,
    make_case,
    make_cycle,
    rate,
    ratings,
)
from tests.queries import count_queries

pytestmark = pytest.mark.midday


def _get(client, path: str, person_secret: str, **args):
    return client.get(f"/api/v1{path}", query_string=args, headers=bearer(person_secret))


def test_cycles_page_newest_first_and_walk_by_cursor(app, client, org):
    made = [make_cycle(app, name=f"Cycle {i}") for i in range(5)]
    secret = make_token(app, org.pm_a1)
    seen, cursor = [], None
    while True:
        response = _get(
            client, "/cycles", secret, limit=2, **({"cursor": cursor} if cursor else {})
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        seen += [c["id"] for c in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    first = _get(client, f"/cycles/{made[0]}", secret).json
    assert first["name"] == "Cycle 0"
    assert first["phase"] == "nominations"
    assert [d["phase"] for d in first["due_dates"]][:2] == ["nominations", "self_assessment"]
    assert _get(client, "/cycles/999999", secret).status_code == 404
    assert _get(client, "/cycles/999999/cases", secret).status_code == 404
    bad = _get(client, "/cycles", secret, cursor="WyJ4Il0")  # ["x"]: not an id
    assert bad.status_code == 422


def test_a_cycles_cases_are_those_its_page_lists_the_caller(app, client, org):
    data = cycle_with_cases(app, org, candidates=("pm_a1", "pm_a2", "pm_b1"))
    alice, arun, bea = (data.case_ids[p.id] for p in (org.pm_a1, org.pm_a2, org.pm_b1))

    def ids(person: Person) -> list[int]:
        response = _get(client, f"/cycles/{data.cycle_id}/cases", make_token(app, person))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [c["id"] for c in response.json["items"]]

    assert ids(org.head) == [alice, arun, bea]
    assert ids(org.manager_a) == [alice, arun]
    assert ids(org.pm_a1) == [alice]
    assert ids(org.pm_d1) == []
    row = _get(client, f"/cycles/{data.cycle_id}/cases", make_token(app, org.pm_a1)).json
    assert row["items"][0]["candidate"] == {"id": org.pm_a1.id, "name": "Alice Pm"}
    assert row["items"][0]["manager"] == {"id": org.manager_a.id, "name": "Ada Manager"}
    assert row["items"][0]["outcome"] is None


def test_votes_are_blind_until_the_caller_voted_or_the_reveal(app, client, org):
    data = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    rate(app, case_id, RatingSource.MANAGER, all_meets())
    with app.app_context():
        voter = db.session.get(User, org.manager_b.id)
        vote_service.vote(voter, data.session_id, case_id, ratings(M, E, M, B))
        db.session.commit()
    ben, ada, head = (make_token(app, p) for p in (org.manager_b, org.manager_a, org.head))

    def votes(secret: str):
        lines = _get(client, f"/cases/{case_id}", secret).json["competencies"]
        return {line["key"]: (line["votes"], line["my_vote"]) for line in lines}

    assert votes(ben)[KEYS[1]] == (
        [{"voter_id": org.manager_b.id, "voter_name": "Ben Manager", "rating": "exceeds"}],
        "exceeds",
    )
    assert votes(ada)[KEYS[1]] == (None, None)  # in the session, not voted yet
    assert votes(head)[KEYS[1]] == (None, None)  # the facilitator too
    case = _get(client, f"/cases/{case_id}", ada).json
    assert case["calibration"]["votes_visible"] is False
    assert case["manager_assessment"]["is_visible"] is True
    with app.app_context():
        db.session.get(CalibrationSession, data.session_id).votes_revealed_at = utcnow()
        db.session.commit()
    assert votes(ada)[KEYS[1]][0] == [
        {"voter_id": org.manager_b.id, "voter_name": "Ben Manager", "rating": "exceeds"}
    ]
    candidate = _get(client, f"/cases/{case_id}", make_token(app, org.pm_a1)).json
    assert {line["votes"] for line in candidate["competencies"]} == {None}
    assert candidate["manager_assessment"] == {
        "is_visible": False,
        "is_started": False,
        "submitted_at": None,
    }
    assert candidate["statement"] is None


def test_a_case_is_404_where_its_page_is(app, client, org):
    data = cycle_with_cases(app, org)
    case_id = data.case_ids[org.pm_a1.id]
    assert _get(client, f"/cases/{case_id}", make_token(app, org.manager_b)).status_code == 404
    assert _get(client, "/cases/999999", make_token(app, org.head)).status_code == 404
    found = _get(client, f"/cases/{case_id}", make_token(app, org.pm_a1))
    assert found.status_code == 200
    assert found.json["proposed_level"]["code"] == "L2"
    assert [line["key"] for line in found.json["competencies"]] == KEYS


@pytest.mark.parametrize("path", ["/cycles", "/cycles/{cycle}/cases"])
def test_the_lists_read_a_fixed_number_of_queries(app, client, make, org, path):
    data = cycle_with_cases(app, org, candidates=())

    def grow(n: int) -> int:
        for _ in range(n):
            person = make.person(manager=org.manager_a, password=None)
            make_case(
                app,
                data.cycle_id,
                person,
                current_level_id=data.level_ids["L1"],
                proposed_level_id=data.level_ids["L2"],
            )
            make_cycle(app, name=f"Cycle for {person.name}")
        api = _ApiClient(client, make_token(app, org.head))  # a token's first use, each time
        return count_queries(app, api, f"/api/v1{path.format(cycle=data.cycle_id)}?limit=100")

    few = grow(5)
    assert grow(45) == few


class _ApiClient:
    def __init__(self, client, secret: str):
        self.client, self.headers = client, bearer(secret)

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)
