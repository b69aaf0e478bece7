"""Locking a calibration session as services: every competency of every case needs an agreed
rating and every case an outcome; "agree with the manager's rating for the rest" fills what the
manager rated, each logged; after the lock nothing changes until the head reopens it. Also what
the confirmation pages of lock, reveal, publish and withdraw say, and the case's log of cycle
events."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.core.errors import ForbiddenError, ValidationError
from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    CyclePhase,
    Notification,
    NotificationKind,
    Outcome,
    PromotionCase,
    Rating,
    RatingSource,
)
from app.services.promotions import confirmations, cycles, loading, records
from app.services.promotions.calibration import decisions, planning, votes
from tests.promotion_helpers import (
    KEYS,
    LOCKED,
    D,
    M,
    all_meets,
    cycle_with_cases,
    log_entries,
    rate,
    ratings,
    set_phase,
    user,
)

AGREED_LOG = "Agreed with the manager's rating."


def agreed(case_id: int) -> dict[str, tuple[Rating, str]]:
    rows = db.session.scalars(
        select(CaseRating).where(
            CaseRating.case_id == case_id, CaseRating.source == RatingSource.AGREED
        )
    )
    return {r.competency_key: (r.rating, r.rationale) for r in rows}


@pytest.fixture
def meeting(app, org):
    """A cycle in calibration; the head facilitates manager_a and manager_b; manager ratings
    (meets, meets, developing, developing) submitted for both cases."""
    data = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    for case_id in data.case_ids.values():
        rate(app, case_id, RatingSource.MANAGER, ratings(M, M, D, D), by=org.manager_a)
    return data


def _ready(meeting, head):
    """Every competency agreed and an outcome on every case: the session may be locked."""
    for case_id in meeting.case_ids.values():
        if len(agreed(case_id)) < len(KEYS):
            decisions.agree_rest(head, meeting.session_id, case_id)
        revision = db.session.get(PromotionCase, case_id).revision
        decisions.set_outcome(
            head, case_id, Outcome.NOT_YET, "Next cycle.", expected_revision=revision
        )
    db.session.commit()


# --- agree with the manager's rating for the rest -------------------------------------------


def test_agree_rest_fills_the_manager_s_ratings_and_logs_each(app, org, meeting, ctx):
    head = user(org.head)
    a1, b1 = meeting.case_ids[org.pm_a1.id], meeting.case_ids[org.pm_b1.id]
    decisions.agree(
        head,
        meeting.session_id,
        a1,
        "skill-1-0",
        M,
        "Led it.",
        "Two launches.",
        expected_revision=0,
    )
    done = decisions.agree_rest(head, meeting.session_id, a1)
    db.session.commit()
    assert done == decisions.AgreedRest("Alice Pm", ["Skill 0.0", "Skill 0.1", "Skill 1.1"], [])
    rationale = decisions.AGREED_RATIONALE
    assert agreed(a1) == {
        "skill-0-0": (M, rationale),
        "skill-0-1": (M, rationale),
        "skill-1-0": (M, "Led it."),  # agreed by hand before: left as it was
        "skill-1-1": (D, rationale),
    }
    assert agreed(b1) == {}  # only the case asked for
    entries = log_entries("rating.agreed")
    assert [(e.competency_key, e.from_value, e.to_value, e.reason) for e in entries] == [
        ("skill-1-0", "developing", "meets", "Two launches."),
        ("skill-0-0", "meets", "meets", AGREED_LOG),
        ("skill-0-1", "meets", "meets", AGREED_LOG),
        ("skill-1-1", "developing", "developing", AGREED_LOG),
    ]
    assert {(e.actor_id, e.case_id, e.session_id) for e in entries} == {
        (org.head.id, a1, meeting.session_id)
    }
    with pytest.raises(ValidationError, match="Every competency of Alice Pm's case already"):
        decisions.agree_rest(head, meeting.session_id, a1)
    assert len(log_entries("rating.agreed")) == 4


def test_a_competency_the_manager_did_not_rate_is_left_to_its_cell(app, org, meeting, ctx):
    head = user(org.head)
    a1, b1 = meeting.case_ids[org.pm_a1.id], meeting.case_ids[org.pm_b1.id]
    db.session.execute(
        delete(CaseRating).where(
            CaseRating.case_id == a1,
            CaseRating.source == RatingSource.MANAGER,
            CaseRating.competency_key == "skill-1-1",
        )
    )
    db.session.execute(
        delete(CaseRating).where(
            CaseRating.case_id == b1, CaseRating.source == RatingSource.MANAGER
        )
    )
    db.session.commit()
    done = decisions.agree_rest(head, meeting.session_id, a1)
    assert done.filled == ["Skill 0.0", "Skill 0.1", "Skill 1.0"]
    assert done.no_manager == ["Skill 1.1"]
    assert "skill-1-1" not in agreed(a1)
    with pytest.raises(ValidationError, match=r"The manager gave no rating for Skill 0\.0, "):
        decisions.agree_rest(head, meeting.session_id, b1)
    assert agreed(b1) == {}


def test_only_the_facilitator_agrees_the_rest_and_only_while_calibrating(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    with pytest.raises(ForbiddenError, match="only the facilitator"):
        decisions.agree_rest(user(org.manager_a), meeting.session_id, a1)
    db.session.rollback()  # the helper writes from its own connection
    set_phase(app, meeting.cycle_id, CyclePhase.DECISIONS)
    db.session.expire_all()
    with pytest.raises(ValidationError, match="is open during calibration"):
        decisions.agree_rest(user(org.head), meeting.session_id, a1)
    assert agreed(a1) == {} and log_entries("rating.agreed") == []


# --- locking ----------------------------------------------------------------------------------


def test_locking_needs_an_agreed_rating_for_every_competency_and_names_what_is_missing(
    app, org, meeting, ctx
):
    head = user(org.head)
    a1, b1 = meeting.case_ids[org.pm_a1.id], meeting.case_ids[org.pm_b1.id]
    decisions.agree(head, meeting.session_id, a1, "skill-0-0", M, "Yes.", "", expected_revision=0)
    for case_id in (a1, b1):
        revision = db.session.get(PromotionCase, case_id).revision
        decisions.set_outcome(head, case_id, Outcome.PROMOTE, "Ready.", expected_revision=revision)
    with pytest.raises(ValidationError) as refused:
        decisions.lock(head, meeting.session_id)
    assert refused.value.message == (
        "Every case needs an agreed rating for each competency and an outcome before Senior "
        "PM calibration is locked. Alice Pm: 3 of 4 competencies have no agreed rating. "
        "Bea Pm: 4 of 4 competencies have no agreed rating."
    )
    decisions.agree_rest(head, meeting.session_id, a1)
    with pytest.raises(ValidationError, match=r"locked\. Bea Pm: 4 of 4 competencies have no"):
        decisions.lock(head, meeting.session_id)
    decisions.agree_rest(head, meeting.session_id, b1)
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    assert db.session.get(CalibrationSession, meeting.session_id).is_locked


def test_locking_needs_every_outcome_and_tells_the_people(app, org, meeting, ctx):
    head = user(org.head)
    a1 = meeting.case_ids[org.pm_a1.id]
    revision = db.session.get(PromotionCase, a1).revision
    decisions.set_outcome(head, a1, Outcome.PROMOTE, "Ready.", expected_revision=revision)
    for case_id in meeting.case_ids.values():
        decisions.agree_rest(head, meeting.session_id, case_id)
    with pytest.raises(ValidationError, match=r"is locked\. Still without an outcome: Bea Pm\.$"):
        decisions.lock(head, meeting.session_id)
    _ready(meeting, head)
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    assert len(log_entries("session.locked")) == 1
    told = db.session.scalars(
        select(Notification.recipient_id).where(
            Notification.kind == NotificationKind.SESSION_LOCKED
        )
    ).all()
    assert sorted(told) == sorted([org.manager_a.id, org.manager_b.id])  # and the head: she locked


def test_after_lock_every_edit_is_refused_until_the_head_reopens(app, org, meeting, ctx):
    head = user(org.head)
    _ready(meeting, head)
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    a1 = meeting.case_ids[org.pm_a1.id]
    revision = db.session.get(PromotionCase, a1).revision
    session_revision = db.session.get(CalibrationSession, meeting.session_id).revision
    edits = [
        lambda: votes.vote(user(org.manager_a), meeting.session_id, a1, all_meets()),
        lambda: decisions.agree(
            head, meeting.session_id, a1, "skill-0-0", M, "Yes.", "", expected_revision=0
        ),
        lambda: decisions.set_outcome(
            head, a1, Outcome.PROMOTE, "Yes.", expected_revision=revision
        ),
        lambda: votes.reveal(head, meeting.session_id),
        lambda: decisions.agree_rest(head, meeting.session_id, a1),
        lambda: decisions.lock(head, meeting.session_id),
        lambda: planning.change_session(
            head,
            meeting.session_id,
            planning.Scope("New name", org.head.id, [org.manager_a.id], [a1]),
            expected_revision=session_revision,
        ),
    ]
    for edit in edits:
        with pytest.raises(ValidationError, match=LOCKED):
            edit()
    with pytest.raises(ForbiddenError):
        decisions.reopen(user(org.manager_a), meeting.session_id, "Missed a case.")
    with pytest.raises(ValidationError) as refused:
        decisions.reopen(head, meeting.session_id, " ")
    assert refused.value.field == "reason"
    decisions.reopen(head, meeting.session_id, "A late piece of evidence.")
    db.session.commit()
    [entry] = log_entries("session.reopened")
    assert entry.reason == "A late piece of evidence."
    assert votes.vote(user(org.manager_a), meeting.session_id, a1, all_meets()) == 4
    with pytest.raises(ValidationError, match="is not locked"):
        decisions.reopen(head, meeting.session_id, "Again.")


def test_a_locked_session_is_not_reopened_once_the_cycle_left_calibration(app, org, meeting, ctx):
    head = user(org.head)
    _ready(meeting, head)
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    set_phase(app, meeting.cycle_id, CyclePhase.DECISIONS)
    db.session.expire_all()
    with pytest.raises(ValidationError, match="is open during calibration"):
        decisions.reopen(user(org.head), meeting.session_id, "Too late.")
    assert log_entries("session.reopened") == []


# --- publishing needs a decision on every open case -------------------------------------------


def test_publishing_names_every_open_case_without_a_decision(app, org, meeting, ctx):
    head = user(org.head)
    _ready(meeting, head)
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    cycle = loading.cycle(meeting.cycle_id)
    cycles.move_phase(head, cycle.id, CyclePhase.DECISIONS, expected_revision=cycle.revision)
    db.session.commit()

    def publish():
        cycle = loading.cycle(meeting.cycle_id)
        return cycles.move_phase(
            head, cycle.id, CyclePhase.PUBLISHED, expected_revision=cycle.revision
        )

    with pytest.raises(ValidationError) as refused:
        publish()
    assert refused.value.message == (
        "Record a decision for every open case before publishing H1 2027; 2 cases have none: "
        "Alice Pm, Bea Pm."
    )
    shown = confirmations.publish_page(head, meeting.cycle_id)
    assert shown.blockers == [refused.value.message] and not shown.is_possible
    db.session.rollback()
    a1 = meeting.case_ids[org.pm_a1.id]
    case = db.session.get(PromotionCase, a1)
    cycles.decide(head, a1, Outcome.PROMOTE, "Ready now.", expected_revision=case.revision)
    with pytest.raises(ValidationError, match=r"; 1 case has none: Bea Pm\.$"):
        publish()
    db.session.rollback()
    case = db.session.get(PromotionCase, a1)
    cycles.decide(head, a1, Outcome.PROMOTE, "Ready now.", expected_revision=case.revision)
    db.session.commit()
    set_phase(app, meeting.cycle_id, CyclePhase.CALIBRATION)  # withdrawing is open then
    db.session.expire_all()
    cycles.withdraw(head, meeting.case_ids[org.pm_b1.id], "Moving teams.")
    db.session.commit()
    set_phase(app, meeting.cycle_id, CyclePhase.DECISIONS)
    db.session.expire_all()
    shown = confirmations.publish_page(head, meeting.cycle_id)
    assert shown.is_possible
    assert shown.summary == "1 person will be promoted; 1 candidate will see their outcome."
    assert [(g.label, g.names) for g in shown.groups] == [
        ("Promoted to their new level", ["Alice Pm (L1 → L2)"])
    ]
    assert publish().is_published
    db.session.commit()
    [entry] = log_entries("cycle.published")
    assert entry.to_value == "1 of 1 promoted"


# --- what the confirmation pages say ------------------------------------------------------------


def test_the_lock_and_reveal_pages_say_what_happens_and_what_is_missing(app, org, meeting, ctx):
    head = user(org.head)
    with pytest.raises(ForbiddenError):
        confirmations.lock_page(user(org.manager_a), meeting.session_id)
    lock = confirmations.lock_page(head, meeting.session_id)
    assert lock.title == "Lock Senior PM calibration?"
    assert lock.blockers == [
        "Alice Pm: 4 of 4 competencies have no agreed rating.",
        "Bea Pm: 4 of 4 competencies have no agreed rating.",
        "Still without an outcome: Alice Pm, Bea Pm.",
    ]
    assert [name for _id, name in lock.cases_to_finish] == ["Alice Pm", "Bea Pm"]
    reveal = confirmations.reveal_page(head, meeting.session_id)
    assert reveal.is_possible
    assert reveal.summary == (
        "Everyone in Senior PM calibration (2 people) will see every vote on its 2 cases, "
        "with who voted what."
    )
    assert [(g.label, g.names) for g in reveal.groups] == [
        ("Will see every vote", ["Ada Manager", "Ben Manager"]),
        ("Have not voted on every case yet", ["Ada Manager", "Ben Manager"]),
    ]
    _ready(meeting, head)
    lock = confirmations.lock_page(head, meeting.session_id)
    assert lock.is_possible and lock.cases_to_finish == []
    assert lock.summary.startswith("The agreed ratings and outcomes of 2 cases become final")
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    assert confirmations.lock_page(head, meeting.session_id).blockers == [
        "Senior PM calibration is locked; nothing in it can be changed unless the head of "
        "product reopens it."
    ]


def test_the_withdraw_page_names_the_candidate_and_their_manager(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    shown = confirmations.withdraw_page(user(org.manager_a), a1)
    assert shown.title == "Withdraw Alice Pm's case?"
    assert shown.summary == (
        "Alice Pm's case (L1 → L2) leaves H1 2027 for good; Alice Pm sees on the case that it "
        "was withdrawn."
    )
    assert "It leaves the calibration session Senior PM calibration." in shown.details
    assert shown.groups[0].names == ["Alice Pm (candidate)", "Ada Manager (manager)"]
    with pytest.raises(ForbiddenError):
        confirmations.withdraw_page(user(org.manager_b), a1)


# --- the case's log shows the cycle's events ----------------------------------------------------


def test_a_case_log_shows_the_cycle_s_moves_and_publication_while_the_case_was_open(
    app, org, meeting, ctx
):
    head = user(org.head)
    _ready(meeting, head)
    decisions.lock(head, meeting.session_id)
    db.session.commit()
    a1, b1 = meeting.case_ids[org.pm_a1.id], meeting.case_ids[org.pm_b1.id]
    cycles.withdraw(head, b1, "Moving teams.")
    db.session.commit()
    cycle = loading.cycle(meeting.cycle_id)
    cycles.move_phase(head, cycle.id, CyclePhase.DECISIONS, expected_revision=cycle.revision)
    case = db.session.get(PromotionCase, a1)
    cycles.decide(head, a1, Outcome.NOT_YET, "", expected_revision=case.revision)
    cycle = loading.cycle(meeting.cycle_id)
    cycles.move_phase(head, cycle.id, CyclePhase.PUBLISHED, expected_revision=cycle.revision)
    db.session.commit()

    def log_of(case_id):
        return records.log_rows(head, records.case_scope(head, case_id))

    events = [(r.action, r.to_label) for r in log_of(a1) if r.is_cycle_event]
    assert events == [
        ("Cycle published", "0 of 1 promoted"),
        ("Phase moved forward", "Published"),
        ("Phase moved forward", "Decisions"),
    ]
    assert [r for r in log_of(b1) if r.is_cycle_event] == []  # withdrawn before the moves
    assert not any(r.is_cycle_event for r in log_of(a1) if r.case_id is not None)
    scope = records.case_scope(head, a1)
    table = records.log_csv(scope, log_of(a1))
    assert ",Cycle published (cycle event),," in table and ",Decision,," in table
