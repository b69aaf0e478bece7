"""The API's policy matrix: for each person of a seeded organisation, the API answers exactly what
the pages answer the same person.

Each person reads every evidence item, cycle and case twice: through the pages, signed in with
their password, and through /api/v1/ with a token of theirs. The two must agree: the same
readable evidence ids (the list holds what the item pages open, less the person's Trash), 404
wherever a page is 404, the same cases in a cycle, and, inside a case, the same parts (the
manager's statement, the self, manager and agreed ratings, the outcome and the decision: each
carries a marker text that is either on the page and in the JSON, or in neither). Votes are
compared with where the pages show them (a cell of the meeting grid, the decision log) and with
the rule written out here: blind before the reveal (the session's people see them once they
voted), never the candidate's, and after the lock also the manager chain's.

The cycle is seeded in each phase that changes what someone sees: self-assessment (a draft),
calibration with blind votes, calibration after the reveal, decisions (locked, decided) and
published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from app.extensions import db
from app.models import (
    CalibrationSession,
    Corroboration,
    CyclePhase,
    Evidence,
    Outcome,
    PromotionCase,
    RatingSource,
    Role,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services.promotions.calibration import votes as vote_service
from tests.api.helpers import bearer, make_token
from tests.evidence_helpers import record
from tests.factories import Person, sign_in
from tests.promotion_helpers import (
    KEYS,
    B,
    D,
    E,
    M,
    all_meets,
    make_case,
    make_cycle,
    make_session,
    place,
    publish_sample,
    rate,
    ratings,
    set_phase,
)

pytestmark = pytest.mark.midday

MARKS = {
    "statement": "STATEMENTMARK",
    "self": "SELFMARK",
    "manager": "MANAGERMARK",
    "agreed": "AGREEDMARK",
    "outcome": "OUTCOMEMARK",
    "decision": "DECISIONMARK",
}
STATES = ["self_assessment", "calibration_blind", "calibration_revealed", "decided", "published"]
ROLES = [
    "head",
    "manager",
    "other manager",
    "PM",
    "another PM",
    "committee member",
]


@dataclass(frozen=True)
class World:
    people: dict[str, Person]
    deactivated: Person
    cycle_ids: list[int]
    case_ids: list[int]  # Alice's case first, then Bea's
    session_id: int | None
    evidence_ids: list[int]


def _seed_people(make, org) -> tuple[dict[str, Person], Person]:
    other = make.person(name="Cal Manager", role=Role.MANAGER, manager=org.head)
    gone = make.person(name="Gil Gone", manager=org.manager_a)
    people = {
        "head": org.head,
        "manager": org.manager_a,  # Alice's manager
        "other manager": other,  # no report, no session
        "PM": org.pm_a1,  # Alice: the candidate
        "another PM": org.pm_a2,  # Arun: Alice's teammate, mentors Bea, asked to corroborate
        "committee member": org.director,  # in the session, outside both candidates' lines
    }
    return people, gone


def _seed_evidence(app, org, gone: Person) -> list[int]:
    ids = [
        record(app, org.pm_a1, title="Alice shared"),
        record(app, org.pm_a1, title="Alice draft", visibility=Visibility.PRIVATE),
        record(app, org.pm_a1, title="Alice trashed"),
        record(app, org.pm_a2, title="Arun shared"),
        record(app, org.pm_b1, title="Bea shared"),
        record(app, org.pm_b1, title="Bea draft", visibility=Visibility.PRIVATE),
        record(app, org.pm_d1, title="Dev shared"),
        record(app, gone, title="Gil shared"),
    ]
    with app.app_context():
        db.session.get(Evidence, ids[2]).deleted_at = utcnow()
        db.session.add(Corroboration(evidence_id=ids[0], peer_id=org.pm_a2.id))
        db.session.commit()
    return ids


def _vote(app, session_id: int, case_id: int, voter: Person, given) -> None:
    with app.app_context():
        vote_service.vote(db.session.get(User, voter.id), session_id, case_id, given)
        db.session.commit()


def _seed_cycle(app, org, state: str) -> tuple[list[int], list[int], int | None]:
    levels = publish_sample(app)
    older = make_cycle(app, name="H2 2026", phase=CyclePhase.PUBLISHED)
    phase = CyclePhase.SELF_ASSESSMENT if state == "self_assessment" else CyclePhase.CALIBRATION
    cycle_id = make_cycle(app, name="H1 2027", phase=phase)
    case_ids = [
        make_case(
            app,
            cycle_id,
            person,
            current_level_id=levels["L1"],
            proposed_level_id=levels["L2"],
            statement=f"Ready. {MARKS['statement']}",
        )
        for person in (org.pm_a1, org.pm_b1)
    ]
    alice_case = case_ids[0]
    if state == "self_assessment":
        rate(app, alice_case, RatingSource.SELF, all_meets(), rationale=MARKS["self"], submit=False)
        return [older, cycle_id], case_ids, None
    for case_id in case_ids:
        rate(app, case_id, RatingSource.SELF, all_meets(), rationale=MARKS["self"])
        rate(app, case_id, RatingSource.MANAGER, ratings(M, E, M, D), rationale=MARKS["manager"])
    session_id = make_session(
        app,
        cycle_id,
        facilitator=org.head,
        participants=[org.manager_a, org.manager_b, org.director],
        case_ids=case_ids,
    )
    _vote(app, session_id, alice_case, org.manager_b, ratings(M, M, D, B))
    _vote(app, session_id, alice_case, org.director, ratings(E, M, M, M))
    if state == "calibration_blind":
        return [older, cycle_id], case_ids, session_id
    with app.app_context():
        db.session.get(CalibrationSession, session_id).votes_revealed_at = utcnow()
        db.session.commit()
    if state == "calibration_revealed":
        return [older, cycle_id], case_ids, session_id
    for case_id in case_ids:
        rate(app, case_id, RatingSource.AGREED, all_meets(), rationale=MARKS["agreed"])
    with app.app_context():
        db.session.get(CalibrationSession, session_id).locked_at = utcnow()
        for case_id in case_ids:
            case = db.session.get(PromotionCase, case_id)
            case.outcome, case.outcome_rationale = Outcome.PROMOTE, MARKS["outcome"]
            case.decision, case.decision_rationale = Outcome.PROMOTE, MARKS["decision"]
            case.decided_at = utcnow()
        db.session.commit()
    set_phase(app, cycle_id, CyclePhase.DECISIONS if state == "decided" else CyclePhase.PUBLISHED)
    return [older, cycle_id], case_ids, session_id


def _seed(app, make, org, state: str) -> World:
    people, gone = _seed_people(make, org)
    levels = publish_sample(app)
    place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, gone], levels["L1"])
    evidence_ids = _seed_evidence(app, org, gone)
    cycle_ids, case_ids, session_id = _seed_cycle(app, org, state)
    return World(people, gone, cycle_ids, case_ids, session_id, evidence_ids)


# --- reading through the pages and through the API ----------------------------------------------


def _linked(html: str, prefix: str) -> set[int]:
    return {int(found) for found in re.findall(rf'href="{prefix}/(\d+)"', html)}


@dataclass
class Reader:
    """One person reading through both doors."""

    client: object
    headers: dict[str, str]

    def page(self, path: str):
        return self.client.get(path)

    def api(self, path: str, **args):
        return self.client.get(f"/api/v1{path}", query_string=args, headers=self.headers)

    def api_all(self, path: str) -> list[dict]:
        items, cursor = [], None
        while True:
            response = self.api(path, limit=2, **({"cursor": cursor} if cursor else {}))
            assert response.status_code == 200, (path, response.get_data(as_text=True))
            items += response.json["items"]
            cursor = response.json["next_cursor"]
            if cursor is None:
                return items


def _reader(app, person: Person) -> Reader:
    client = app.test_client()
    sign_in(client, person)
    return Reader(client, bearer(make_token(app, person)))


def _evidence_differences(reader: Reader, world: World) -> list[str]:
    differences = []
    opens = set()
    for evidence_id in world.evidence_ids:
        page = reader.page(f"/evidence/{evidence_id}").status_code
        api = reader.api(f"/evidence/{evidence_id}").status_code
        if page != api:
            differences.append(f"evidence {evidence_id}: page {page}, API {api}")
        if page == 200:
            opens.add(evidence_id)
    trash = _linked(reader.page("/evidence/trash").get_data(as_text=True), "/evidence")
    listed = {item["id"] for item in reader.api_all("/evidence")}
    if listed != opens - trash:
        differences.append(f"evidence list: API {sorted(listed)}, pages {sorted(opens - trash)}")
    return differences


def _case_differences(reader: Reader, world: World, case_id: int) -> list[str]:
    page = reader.page(f"/cases/{case_id}")
    api = reader.api(f"/cases/{case_id}")
    if page.status_code != api.status_code:
        return [f"case {case_id}: page {page.status_code}, API {api.status_code}"]
    if page.status_code != 200:
        return []
    html, text = page.get_data(as_text=True), api.get_data(as_text=True)
    return [
        f"case {case_id} {part}: on the page {mark in html}, in the API {mark in text}"
        for part, mark in MARKS.items()
        if (mark in html) != (mark in text)
    ]


def _votes_on_pages(reader: Reader, world: World, case_id: int) -> bool:
    """Whether a page shows this person the case's votes: a cell of the grid (the session's
    people) or the case's decision log (the committee)."""
    cell = reader.page(f"/sessions/{world.session_id}/cases/{case_id}/competencies/{KEYS[0]}")
    if cell.status_code == 200 and 'class="cal-votes"' in cell.get_data(as_text=True):
        return True
    log = reader.page(f"/cases/{case_id}/log")
    html = log.get_data(as_text=True)
    return log.status_code == 200 and "Vote" in html and "Hidden (blind pre-vote)" not in html


def _promotion_differences(reader: Reader, world: World) -> list[str]:
    differences = []
    listed = {item["id"] for item in reader.api_all("/cycles")}
    on_page = _linked(reader.page("/promotions").get_data(as_text=True), "/promotions")
    if listed != on_page:
        differences.append(f"cycles: API {sorted(listed)}, page {sorted(on_page)}")
    for cycle_id in world.cycle_ids:
        page = reader.page(f"/promotions/{cycle_id}")
        api = reader.api(f"/cycles/{cycle_id}")
        if page.status_code != api.status_code:
            differences.append(f"cycle {cycle_id}: page {page.status_code}, API {api.status_code}")
            continue
        cases = {item["id"] for item in reader.api_all(f"/cycles/{cycle_id}/cases")}
        on_page = _linked(page.get_data(as_text=True), "/cases")
        if cases != on_page:
            differences.append(
                f"cycle {cycle_id} cases: API {sorted(cases)}, page {sorted(on_page)}"
            )
    for case_id in world.case_ids:
        differences += _case_differences(reader, world, case_id)
    return differences


def _api_votes(reader: Reader, case_id: int) -> bool | None:
    """Whether the API shows the case's votes (None: the case is not readable)."""
    response = reader.api(f"/cases/{case_id}")
    if response.status_code != 200:
        return None
    shown = [line["votes"] is not None for line in response.json["competencies"]]
    assert len(set(shown)) <= 1, shown  # all the case's competencies, or none
    return bool(shown and shown[0])


def expected_votes(role: str, state: str) -> bool:
    """The rule for the votes on Alice's case, written out: Ben and Dora voted, Ada did not."""
    if role in ("PM", "another PM", "other manager") or state == "self_assessment":
        return False
    if state == "calibration_blind":
        return role == "committee member"  # Dora voted; the head and Ada did not
    return role in ("head", "manager", "committee member")  # revealed to the session; locked


@pytest.mark.parametrize("state", STATES)
def test_the_api_answers_what_the_pages_answer(app, make, org, state):
    world = _seed(app, make, org, state)
    differences: list[str] = []
    for role in ROLES:
        reader = _reader(app, world.people[role])
        found = _evidence_differences(reader, world) + _promotion_differences(reader, world)
        differences += [f"{role}: {line}" for line in found]
        alice_case = world.case_ids[0]
        api_votes = _api_votes(reader, alice_case)
        expected = expected_votes(role, state)
        if bool(api_votes) != expected:
            differences.append(f"{role}: votes in the API {api_votes}, the rule says {expected}")
        if world.session_id is not None and _votes_on_pages(reader, world, alice_case) != expected:
            differences.append(f"{role}: votes on the pages disagree with the rule ({expected})")
    assert differences == []


@pytest.mark.parametrize("state", ["calibration_blind", "decided", "published"])
def test_what_each_person_sees_of_a_case(app, make, org, state):
    """The matrix above compares the two doors; this pins down what they show, so both cannot
    be wrong together."""
    world = _seed(app, make, org, state)
    alice_case = world.case_ids[0]
    published = state == "published"
    decided = state in ("decided", "published")
    seen = {}
    for role in ROLES:
        reader = _reader(app, world.people[role])
        response = reader.api(f"/cases/{alice_case}")
        seen[role] = response.get_data(as_text=True) if response.status_code == 200 else None
    assert seen["other manager"] is None and seen["another PM"] is None
    candidate = seen["PM"]
    assert MARKS["self"] in candidate
    assert MARKS["statement"] not in candidate and MARKS["manager"] not in candidate
    for part in ("decision", "agreed", "outcome"):  # only once published
        assert (MARKS[part] in candidate) is published, part
    for role in ("head", "manager", "committee member"):
        assert MARKS["statement"] in seen[role] and MARKS["manager"] in seen[role], role
        assert (MARKS["decision"] in seen[role]) is decided, role
        assert (MARKS["agreed"] in seen[role]) is decided, role


def test_a_deactivated_persons_token_opens_nothing(app, make, org):
    world = _seed(app, make, org, "calibration_revealed")
    secret = make_token(app, world.deactivated)
    with app.app_context():
        db.session.get(User, world.deactivated.id).deactivated_at = utcnow()
        db.session.commit()
    client = app.test_client()
    paths = [
        "/evidence",
        f"/evidence/{world.evidence_ids[-1]}",
        "/cycles",
        f"/cycles/{world.cycle_ids[1]}",
        f"/cycles/{world.cycle_ids[1]}/cases",
        f"/cases/{world.case_ids[0]}",
    ]
    for path in paths:
        response = client.get(f"/api/v1{path}", headers=bearer(secret))
        assert response.status_code == 401, path
        assert response.mimetype == "application/problem+json"
    refused = client.post_form(
        "/login", {"email": world.deactivated.email, "password": world.deactivated.password}
    )
    assert refused.status_code != 302  # the pages let them in no more than the API
