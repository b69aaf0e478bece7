"""Who may see and do what in a promotion cycle, phase by phase: the policy as a matrix.

One case (Alice, reporting to Ada) sits in a calibration session facilitated by Fay, with Ben
participating. The people: the candidate, their manager, a session participant, a manager outside
both, the facilitator and the head of product. Each table below says, per action and person, in
which phases the policy allows it; every cell of the matrix is checked.
"""

from __future__ import annotations

import pytest

from app import policy
from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    PromotionCase,
    PromotionCycle,
    RatingSource,
    Role,
    User,
)
from app.models.base import utcnow
from tests import promotion_helpers as helpers

P = CyclePhase
ALL = frozenset(CyclePhase)
NEVER = frozenset()
BEFORE_DECISIONS = frozenset(
    {P.NOMINATIONS, P.SELF_ASSESSMENT, P.MANAGER_ASSESSMENT, P.CALIBRATION}
)
PEOPLE = ("candidate", "manager", "participant", "outsider", "facilitator", "head")


def everyone(phases):
    return dict.fromkeys(PEOPLE, phases)


# action → person → phases in which it is allowed (the case's manager assessment not yet in,
# votes not revealed, nobody has voted, the session unlocked)
MATRIX = {
    "case.view": {**everyone(ALL), "outsider": NEVER},
    "case.view_assessment": {**everyone(ALL), "candidate": NEVER, "outsider": NEVER},
    "case.view_log": {**everyone(ALL), "candidate": NEVER, "outsider": NEVER},
    "case.view_result": {**everyone(ALL), "candidate": {P.PUBLISHED}, "outsider": NEVER},
    "case.view_self_assessment": {**everyone(NEVER), "candidate": ALL},
    "case.self_assess": {**everyone(NEVER), "candidate": {P.SELF_ASSESSMENT}},
    "case.manager_assess": {
        **everyone(NEVER),
        "manager": {P.MANAGER_ASSESSMENT},
        "head": {P.MANAGER_ASSESSMENT},
    },
    "case.withdraw": {**everyone(NEVER), "manager": BEFORE_DECISIONS, "head": BEFORE_DECISIONS},
    "case.decide": {**everyone(NEVER), "head": {P.DECISIONS}},
    "session.view": {**everyone(NEVER), "participant": ALL, "facilitator": ALL, "head": ALL},
    "session.vote": {**everyone(NEVER), "participant": {P.CALIBRATION}},
    "session.facilitate": {**everyone(NEVER), "facilitator": {P.CALIBRATION}},
    "session.reopen": everyone(NEVER),  # only a locked session can be reopened
    "votes.view": everyone(NEVER),  # blind: nobody has voted, nothing revealed
    "packet.committee": {**everyone(NEVER), "manager": ALL, "head": ALL},
    "packet.candidate": {
        **everyone(NEVER),
        "candidate": {P.PUBLISHED},
        "manager": ALL,
        "head": ALL,
    },
    "cycles.manage": {**everyone(NEVER), "head": ALL},
    "fairness.view": {**everyone(NEVER), "head": ALL},
}


@pytest.fixture
def world(app, make, org):
    facilitator = make.person(name="Fay Facilitator", role=Role.MANAGER, manager=org.head)
    data = helpers.cycle_with_cases(app, org, candidates=("pm_a1",))
    case_id = data.case_ids[org.pm_a1.id]
    session_id = helpers.make_session(
        app,
        data.cycle_id,
        facilitator=facilitator,
        participants=[org.manager_b],
        case_ids=[case_id],
    )
    people = {
        "candidate": org.pm_a1,
        "manager": org.manager_a,
        "participant": org.manager_b,
        "outsider": org.director,  # a manager, but neither in Alice's line nor in the session
        "facilitator": facilitator,
        "head": org.head,
    }
    return data.cycle_id, case_id, session_id, people


def allowed(app, person, action, phase, case_id, session_id, *, change=None) -> bool:
    with app.app_context():
        cycle = db.session.get(PromotionCycle, db.session.get(PromotionCase, case_id).cycle_id)
        cycle.phase = phase
        case = db.session.get(PromotionCase, case_id)
        session = db.session.get(CalibrationSession, session_id)
        if change:
            change(case, session)
        target = session if action.startswith("session.") else case
        if action in ("cycles.manage", "fairness.view"):
            target = None
        result = policy.can(db.session.get(User, person.id), action, target)
        db.session.rollback()
        return result


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_the_matrix(app, world, action):
    _cycle_id, case_id, session_id, people = world
    wrong = []
    for who in PEOPLE:
        for phase in CyclePhase:
            expected = phase in MATRIX[action][who]
            if allowed(app, people[who], action, phase, case_id, session_id) != expected:
                wrong.append(f"{who} in {phase.value}: expected {expected}")
    assert not wrong, f"{action}: " + "; ".join(wrong)


def test_the_matrix_covers_every_promotion_rule():
    promotion_rules = {
        action
        for action in policy.RULES
        if action.split(".")[0] in ("case", "session", "votes", "cycles", "fairness", "packet")
    }
    # case.nominate is about a person, not a case: its own test below
    assert promotion_rules == {*MATRIX, "case.nominate"}


def _manager_submitted(case, _session):
    case.manager_submitted_at = utcnow()


def test_the_committee_sees_the_self_assessment_once_the_manager_submitted(app, world):
    _cycle_id, case_id, session_id, people = world
    for who in PEOPLE:
        expected = who in ("candidate", "manager", "participant", "facilitator", "head")
        assert (
            allowed(
                app,
                people[who],
                "case.view_self_assessment",
                P.CALIBRATION,
                case_id,
                session_id,
                change=_manager_submitted,
            )
            is expected
        ), who


def test_nobody_assesses_twice(app, world):
    _cycle_id, case_id, session_id, people = world

    def self_submitted(case, _session):
        case.self_submitted_at = utcnow()

    assert not allowed(
        app,
        people["candidate"],
        "case.self_assess",
        P.SELF_ASSESSMENT,
        case_id,
        session_id,
        change=self_submitted,
    )
    for who in ("manager", "head"):
        assert not allowed(
            app,
            people[who],
            "case.manager_assess",
            P.MANAGER_ASSESSMENT,
            case_id,
            session_id,
            change=_manager_submitted,
        )


def test_a_withdrawn_case_can_be_seen_but_not_worked_on(app, world):
    _cycle_id, case_id, session_id, people = world

    def withdrawn(case, _session):
        case.withdrawn_at = utcnow()

    for action, who, phase in [
        ("case.self_assess", "candidate", P.SELF_ASSESSMENT),
        ("case.manager_assess", "manager", P.MANAGER_ASSESSMENT),
        ("case.withdraw", "head", P.NOMINATIONS),
        ("case.decide", "head", P.DECISIONS),
    ]:
        assert not allowed(app, people[who], action, phase, case_id, session_id, change=withdrawn)
    assert allowed(app, people["manager"], "case.view", P.NOMINATIONS, case_id, session_id)


def test_after_lock_nothing_in_the_session_can_be_done_but_reopening_by_the_head(app, world):
    _cycle_id, case_id, session_id, people = world

    def locked(_case, session):
        session.locked_at = utcnow()

    for who in PEOPLE:
        for action in ("session.vote", "session.facilitate"):
            assert not allowed(
                app, people[who], action, P.CALIBRATION, case_id, session_id, change=locked
            ), (who, action)
        reopen = allowed(
            app, people[who], "session.reopen", P.CALIBRATION, case_id, session_id, change=locked
        )
        assert reopen is (who == "head"), who
    assert not allowed(
        app, people["head"], "session.reopen", P.DECISIONS, case_id, session_id, change=locked
    )


def test_votes_stay_blind_until_you_voted_or_the_facilitator_revealed(app, world):
    _cycle_id, case_id, session_id, people = world
    helpers.vote(app, session_id, case_id, people["participant"], helpers.all_meets())
    sees = {
        who: allowed(app, people[who], "votes.view", P.CALIBRATION, case_id, session_id)
        for who in PEOPLE
    }
    assert sees == {**dict.fromkeys(PEOPLE, False), "participant": True}

    def revealed(_case, session):
        session.votes_revealed_at = utcnow()

    sees = {
        who: allowed(
            app, people[who], "votes.view", P.CALIBRATION, case_id, session_id, change=revealed
        )
        for who in PEOPLE
    }
    assert sees == {
        "candidate": False,
        "manager": False,  # not in the session
        "participant": True,
        "outsider": False,
        "facilitator": True,
        "head": True,
    }


def test_managers_nominate_people_in_their_line_and_the_head_anyone(app, world, org):
    with app.app_context():

        def can(actor, candidate):
            return policy.can(
                db.session.get(User, actor.id), "case.nominate", db.session.get(User, candidate.id)
            )

        assert can(org.manager_a, org.pm_a1)
        assert can(org.manager_a, org.pm_d1)  # skip level
        assert not can(org.manager_b, org.pm_a1)
        assert not can(org.pm_a2, org.pm_a1)
        assert can(org.head, org.pm_b1)
        assert not can(org.manager_a, org.manager_a)
        assert not policy.can(db.session.get(User, org.pm_a1.id), "case.nominate")


def test_ratings_rows_do_not_open_anything_for_the_candidate(app, world):
    """Agreed ratings existing changes nothing: the candidate sees results only once published."""
    _cycle_id, case_id, session_id, people = world
    helpers.rate(app, case_id, RatingSource.AGREED, helpers.all_meets(), submit=False)
    for phase in CyclePhase:
        expected = phase is P.PUBLISHED
        assert (
            allowed(app, people["candidate"], "case.view_result", phase, case_id, session_id)
            is expected
        )
