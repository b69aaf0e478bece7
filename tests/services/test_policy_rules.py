"""Every rule's check for one object and its filter for many agree, for everyone, everywhere.

Pages about one object ask the check (`policy.can`); lists, counts, search and notifications ask
the filter (`policy.where`). Over organisations that hypothesis generates (reporting chains,
mentors, heads, evidence in draft, shared and the Trash, corroboration requests, a cycle in each
phase with sessions, participants and votes, jobs, framework versions), every active person and
every object must get the same answer from both, so that loosening either side fails here. A
new rule must either give a filter or be listed below as having no object, or as acting on one
object at a time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from app import policy
from app.extensions import db
from app.models import (
    CalibrationSession,
    Corroboration,
    CyclePhase,
    DelegationBoard,
    DelegationPick,
    DelegationRound,
    DelegationRow,
    Evidence,
    EvidenceKind,
    FeedbackAsk,
    FeedbackRequest,
    FrameworkVersion,
    Goal,
    Job,
    Meeting,
    OneOnOne,
    PairKind,
    PrivateNote,
    PromotionCase,
    PromotionCycle,
    Rating,
    Role,
    Thanks,
    User,
    VersionStatus,
    Visibility,
    Vote,
    mentorships,
)
from app.models.base import utcnow
from tests import promotion_helpers as helpers

# Rules about no object: the route-level ones, and those that only ask the actor's role.
OBJECT_FREE = {
    "account.manage",
    "coaching.use",
    "feedback.request",
    "cycles.manage",
    "evidence.log",
    "fairness.view",
    "frameworks.manage",
    "frameworks.view",
    "home.view",
    "notifications.view",
    "people.manage",
    "promotions.view",
    "settings.manage",
    "team.view",
    "thanks.give",
    "thanks.view",
}
# Acting on one object at a time (and when the phase allows): no list asks who may.
ONE_OBJECT_AT_A_TIME = {
    "case.decide",
    "case.manager_assess",
    "case.self_assess",
    "case.withdraw",
    "session.facilitate",
    "session.reopen",
    "session.vote",
}
FILTERED = sorted(action for action, rule in policy.RULES.items() if rule.filter is not None)
MODELS = sorted({policy.RULES[action].model for action in FILTERED}, key=lambda m: m.__name__)


def test_every_rule_about_an_object_has_a_filter_or_is_listed():
    for action, rule in policy.RULES.items():
        if rule.model is None:
            assert action in OBJECT_FREE, f"{action}: name its model and give it a filter"
        elif rule.filter is None:
            assert action in ONE_OBJECT_AT_A_TIME, f"{action} has objects but no filter"
    assert set(policy.RULES) >= OBJECT_FREE | ONE_OBJECT_AT_A_TIME


def test_a_rule_without_a_filter_has_none_to_give(app, make):
    admin = make.person(role=Role.HEAD)
    with app.app_context():
        with pytest.raises(LookupError):
            policy.where("session.vote", db.session.get(User, admin.id))
        with pytest.raises(LookupError):
            policy.where("no.such.action", db.session.get(User, admin.id))


# --- generated organisations --------------------------------------------------------------------

EVIDENCE_STATES = ["draft", "shared", "trash", "shared trash", "shared lesson"]
picks = st.integers(min_value=0, max_value=30)  # an index into whatever list, modulo its length


@st.composite
def organisations(draw) -> dict:
    size = draw(st.integers(min_value=3, max_value=7))
    people = [
        (
            draw(st.sampled_from([Role.PM, Role.PM, Role.MANAGER, Role.MANAGER, Role.HEAD])),
            draw(st.none() | st.integers(0, i - 1)) if i else None,  # a manager above: no loops
            draw(st.booleans()) and draw(st.booleans()),  # deactivated, now and then
        )
        for i in range(size)
    ]
    cycles = [
        {
            "cases": draw(
                st.lists(st.tuples(picks, st.booleans(), st.booleans(), st.booleans()), max_size=3)
            ),
            "session": draw(
                st.tuples(picks, st.sets(picks, max_size=3), st.booleans(), st.booleans())
            ),
            "votes": draw(st.lists(st.tuples(picks, picks), max_size=3)),
        }
        for _ in CyclePhase
    ]
    return {
        "people": people,
        "mentors": draw(st.lists(st.tuples(picks, picks), max_size=3)),
        "evidence": draw(
            st.lists(
                st.tuples(
                    picks,
                    st.sampled_from(EVIDENCE_STATES),
                ),
                max_size=6,
            )
        ),
        "asks": draw(st.lists(st.tuples(picks, picks), max_size=3)),
        "cycles": cycles,
        "jobs": draw(st.lists(picks, max_size=3)),
        "pairs": draw(st.lists(st.tuples(picks, picks), max_size=3)),
        "goals": draw(st.lists(picks, max_size=3)),
        "boards": draw(st.lists(st.tuples(picks, st.booleans()), max_size=3)),
        "feedback": draw(st.lists(st.tuples(picks, picks, st.booleans()), max_size=3)),
        "thanks": draw(st.lists(st.tuples(picks, picks), max_size=2)),
    }


def build(shape: dict, level_ids: dict[str, int]) -> None:
    """The organisation as rows, flushed only: the caller rolls it back."""
    users = []
    for number, (role, manager, gone) in enumerate(shape["people"]):
        user = User(
            email=f"p{number}@example.com",
            name=f"P{number}",
            role=role,
            manager_id=users[manager].id if manager is not None else None,
            deactivated_at=utcnow() if gone else None,
        )
        db.session.add(user)
        db.session.flush()
        users.append(user)

    def pick(i: int) -> User:
        return users[i % len(users)]

    pairs = {(pick(a).id, pick(b).id) for a, b in shape["mentors"] if pick(a) is not pick(b)}
    for mentor_id, mentee_id in pairs:
        db.session.execute(insert(mentorships).values(mentor_id=mentor_id, mentee_id=mentee_id))
    _evidence(shape, pick)
    for number, cycle in enumerate(shape["cycles"]):
        _cycle(number, cycle, pick, users, level_ids)
    for creator in shape["jobs"]:
        db.session.add(Job(kind="packet", created_by_id=pick(creator).id))
    _coaching(shape, pick, level_ids)
    db.session.flush()


def _coaching(shape: dict, pick, level_ids) -> None:
    """1:1s with a private note each, goals, boards with a round of picks, feedback, thanks."""
    pairs = {(pick(a).id, pick(b).id) for a, b in shape["pairs"] if pick(a) is not pick(b)}
    for lead_id, member_id in pairs:
        pair = OneOnOne(lead_id=lead_id, member_id=member_id, kind=PairKind.MANAGER)
        db.session.add(pair)
        db.session.flush()
        meeting = Meeting(one_on_one_id=pair.id, starts_at=utcnow())
        db.session.add(meeting)
        db.session.flush()
        for author_id in (lead_id, member_id):
            db.session.add(PrivateNote(meeting_id=meeting.id, author_id=author_id, body="Mine"))
    framework_id = db.session.scalar(select(FrameworkVersion.framework_id))
    for person in shape["goals"]:
        db.session.add(
            Goal(
                person_id=pick(person).id,
                framework_id=framework_id,
                competency_key="skill-0-0",
                change="Change",
                measure="Measure",
            )
        )
    for person_pick, revealed in shape["boards"]:
        person = pick(person_pick)
        if db.session.scalar(
            select(DelegationBoard.id).where(DelegationBoard.person_id == person.id)
        ):
            continue
        board = DelegationBoard(person_id=person.id)
        db.session.add(board)
        db.session.flush()
        row = DelegationRow(board_id=board.id, decision="Roadmap", expected=4)
        played = DelegationRound(
            board_id=board.id, number=1, revealed_at=utcnow() if revealed else None
        )
        db.session.add_all([row, played])
        db.session.flush()
        for picker_id in {person.id, person.manager_id or person.id}:
            db.session.add(
                DelegationPick(round_id=played.id, row_id=row.id, picker_id=picker_id, level=3)
            )
    for requester, giver, shared in shape["feedback"]:
        asker = pick(requester)
        request = FeedbackRequest(requester_id=asker.id, competency_keys=["skill-0-0"])
        db.session.add(request)
        db.session.flush()
        db.session.add(
            FeedbackAsk(
                request_id=request.id,
                giver_id=pick(giver).id,
                shared_with_manager_at=utcnow() if shared else None,
                shared_with_id=asker.manager_id if shared else None,
            )
        )
    for giver, recipient in shape["thanks"]:
        db.session.add(
            Thanks(giver_id=pick(giver).id, recipient_id=pick(recipient).id, message="Thanks")
        )


def _evidence(shape: dict, pick) -> None:
    items = []
    for owner, state in shape["evidence"]:
        shared = "shared" in state
        item = Evidence(
            owner_id=pick(owner).id,
            title="An item",
            occurred_on=date(2026, 5, 1),
            kind=EvidenceKind.LAUNCH,
            visibility=Visibility.SHARED if shared else Visibility.PRIVATE,
            shared_at=utcnow() if shared else None,
            deleted_at=utcnow() if "trash" in state else None,
            lesson_shared_at=utcnow() if "lesson" in state else None,
        )
        db.session.add(item)
        items.append(item)
    db.session.flush()
    asks = {(items[i % len(items)].id, pick(peer).id) for i, peer in shape["asks"] if items}
    for evidence_id, peer_id in asks:
        db.session.add(Corroboration(evidence_id=evidence_id, peer_id=peer_id))


def _cycle(number: int, shape: dict, pick, users: list[User], level_ids) -> None:
    phase = list(CyclePhase)[number]
    cycle = PromotionCycle(name=f"Cycle {number}", phase=phase)
    db.session.add(cycle)
    db.session.flush()
    facilitator, participants, revealed, locked = shape["session"]
    session = CalibrationSession(
        cycle_id=cycle.id,
        name="Session",
        facilitator_id=pick(facilitator).id,
        votes_revealed_at=utcnow() if revealed else None,
        locked_at=utcnow() if locked else None,
    )
    session.participants = list({pick(p).id: pick(p) for p in participants}.values())
    db.session.add(session)
    db.session.flush()
    cases = []
    for candidate, assessed, withdrawn, in_session in shape["cases"]:
        person = pick(candidate)
        if any(c.candidate_id == person.id for c in cases):
            continue
        manager_id = person.manager_id or users[(users.index(person) + 1) % len(users)].id
        case = PromotionCase(
            cycle_id=cycle.id,
            candidate_id=person.id,
            current_level_id=level_ids["L1"],
            proposed_level_id=level_ids["L2"],
            manager_id=manager_id,
            nominated_by_id=manager_id,
            manager_submitted_at=utcnow() if assessed else None,
            withdrawn_at=utcnow() if withdrawn else None,
            session_id=session.id if in_session else None,
        )
        db.session.add(case)
        cases.append(case)
    db.session.flush()
    in_session = [case for case in cases if case.session_id]
    votes = {
        (in_session[c % len(in_session)].id, pick(v).id) for c, v in shape["votes"] if in_session
    }
    for case_id, voter_id in votes:
        db.session.add(
            Vote(
                session_id=session.id,
                case_id=case_id,
                voter_id=voter_id,
                competency_key="skill-0-0",
                rating=Rating.MEETS,
            )
        )


@pytest.fixture
def levels(app):
    """The sample framework published (levels L1…L3), with a draft and an archived version."""
    level_ids = helpers.publish_sample(app)
    with app.app_context():
        published = db.session.scalar(select(FrameworkVersion))
        number = db.session.scalar(select(func.max(FrameworkVersion.number)))
        for offset, status in enumerate([VersionStatus.DRAFT, VersionStatus.ARCHIVED], 1):
            db.session.add(
                FrameworkVersion(
                    framework_id=published.framework_id,
                    number=number + offset,
                    status=status,
                    name="Product management",
                )
            )
        db.session.commit()
    return level_ids


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_check_and_filter_agree_for_every_person_and_object(app, levels, model):
    actions = [a for a in FILTERED if policy.RULES[a].model is model]
    answers: dict[str, set[bool]] = defaultdict(set)

    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(organisations())
    def agree(shape):
        with app.app_context():
            try:
                build(shape, levels)
                for action in actions:
                    answers[action] |= _answers(action, model)
            finally:
                db.session.rollback()

    agree()
    # Agreement would also hold for a check and a filter that both refuse (or allow) everything.
    assert {a: answers[a] for a in actions} == {a: {True, False} for a in actions}


def _answers(action: str, model) -> set[bool]:
    """Check and filter for every active person and object; the answers given."""
    objects = db.session.scalars(select(model)).all()
    people = db.session.scalars(select(User).where(User.deactivated_at.is_(None))).all()
    given_answers = set()
    for person in people:
        listed = set(db.session.scalars(select(model.id).where(policy.where(action, person))))
        for target in objects:
            checked = policy.can(person, action, target)
            assert checked == (target.id in listed), (
                action,
                person.name,
                model.__name__,
                target.id,
            )
            given_answers.add(checked)
    return given_answers


def test_filters_combine_in_one_query(app, org):
    """Each filter reads the reporting line in a subquery of its own; two in one statement
    once failed to compile, as both named their recursive query "tree"."""
    with app.app_context():
        viewer = db.session.get(User, org.manager_a.id)
        both = select(PromotionCase.id).where(
            policy.where("case.view", viewer), policy.where("packet.committee", viewer)
        )
        assert db.session.scalars(both).all() == []
        people = select(User.id).where(
            policy.where("person.view", viewer), policy.where("growth.view", viewer)
        )
        assert set(db.session.scalars(people)) == {
            org.manager_a.id,
            org.pm_a1.id,
            org.pm_a2.id,
            org.director.id,
            org.pm_d1.id,
        }
