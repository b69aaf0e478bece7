"""Promotion cycles without HTTP: opening, phase moves and their preconditions, nominating,
withdrawing, deciding, publishing (people move level, history kept) and who sees which case."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    DecisionLogEntry,
    FrameworkVersion,
    Level,
    LevelPlacement,
    Notification,
    NotificationKind,
    Outcome,
    PromotionCase,
    PromotionCycle,
    RatingSource,
    User,
    VersionStatus,
)
from app.models.base import utcnow
from app.policy import SYSTEM, can
from app.services.frameworks import files
from app.services.promotions import case_lists, cycles, loading
from app.services.promotions.cycles import STATEMENT_MAX
from tests import promotion_helpers as ph
from tests.framework_samples import framework_yaml
from tests.promotion_helpers import user


def cycle_row(cycle_id: int) -> PromotionCycle:
    return db.session.get(PromotionCycle, cycle_id)


def log_actions(cycle_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(DecisionLogEntry.action)
            .where(DecisionLogEntry.cycle_id == cycle_id)
            .order_by(DecisionLogEntry.id)
        ).scalars()
    )


def notified(kind: NotificationKind, case_id: int | None = None) -> set[int]:
    query = select(Notification.recipient_id).where(Notification.kind == kind)
    if case_id is not None:
        query = query.where(Notification.case_id == case_id)
    return set(db.session.execute(query).scalars())


def settle(app, case_ids, *, outcome=Outcome.PROMOTE, lock=True, decision=None) -> None:
    """Give cases an outcome (and a decision), and lock their sessions."""
    with app.app_context():
        for case_id in case_ids:
            case = db.session.get(PromotionCase, case_id)
            case.outcome = outcome
            case.outcome_rationale = "Agreed in the session."
            if decision is not None:
                case.decision = decision
            if lock and case.session_id:
                db.session.get(CalibrationSession, case.session_id).locked_at = utcnow()
        db.session.commit()


def submit_managers(app, case_ids) -> None:
    for case_id in case_ids:
        ph.rate(app, case_id, RatingSource.MANAGER, ph.all_meets())


def move(actor, cycle_id, to, reason=""):
    revision = cycle_row(cycle_id).revision
    return cycles.move_phase(actor, cycle_id, to, reason, expected_revision=revision)


# --- opening a cycle ----------------------------------------------------------------------------


def test_a_cycle_is_pinned_to_every_published_version_by_default(app, org, ctx):
    ph.publish_sample(app)
    cycle = cycles.create_cycle(user(org.head), "  H1   2027 ")
    db.session.commit()
    assert cycle.name == "H1 2027"
    assert cycle.phase is CyclePhase.NOMINATIONS
    published = db.session.execute(
        select(FrameworkVersion.id).where(FrameworkVersion.status == VersionStatus.PUBLISHED)
    ).scalars()
    assert [v.id for v in loading.cycle(cycle.id).versions] == list(published)
    assert log_actions(cycle.id) == ["cycle.opened"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "Give the cycle a name"),
        ("x" * 121, "Use at most 120 characters."),
        ("h1 2027", "There is already a cycle called “h1 2027”"),
    ],
)
def test_a_bad_cycle_name_is_refused_and_nothing_is_made(app, org, ctx, name, message):
    ph.publish_sample(app)
    ph.make_cycle(app, name="H1 2027")
    with pytest.raises(ValidationError, match=message) as error:
        cycles.create_cycle(user(org.head), name)
    assert error.value.field == "name"
    db.session.rollback()
    assert db.session.scalar(select(func.count(PromotionCycle.id))) == 1


def test_only_published_versions_can_be_pinned(app, org, ctx):
    ph.publish_sample(app)
    draft, _ = files.import_text(SYSTEM, framework_yaml(slug="draft-one"), "yaml", publish=False)
    db.session.commit()
    with pytest.raises(ValidationError, match="published framework versions only") as error:
        cycles.create_cycle(user(org.head), "H1 2027", [draft.id])
    assert error.value.field == "version_ids"
    with pytest.raises(ValidationError, match="published framework versions only"):
        cycles.create_cycle(user(org.head), "H1 2027", [999_999])


def test_a_cycle_needs_a_published_framework(app, org, ctx):
    with pytest.raises(ValidationError, match="Publish a career framework"):
        cycles.create_cycle(user(org.head), "H1 2027")


def test_only_the_head_of_product_opens_cycles(app, org, ctx):
    ph.publish_sample(app)
    with pytest.raises(ForbiddenError):
        cycles.create_cycle(user(org.manager_a), "H1 2027")


# --- moving phases ------------------------------------------------------------------------------


def test_a_cycle_without_cases_cannot_leave_nominations(app, org, ctx):
    ph.publish_sample(app)
    cycle_id = ph.make_cycle(app)
    with pytest.raises(ValidationError, match="Nominate at least one person"):
        move(user(org.head), cycle_id, CyclePhase.SELF_ASSESSMENT)


def test_moving_forward_logs_and_notifies_candidates_and_managers(app, org, ctx):
    data = ph.cycle_with_cases(app, org)
    cycle = move(user(org.head), data.cycle_id, CyclePhase.SELF_ASSESSMENT)
    db.session.commit()
    assert cycle.phase is CyclePhase.SELF_ASSESSMENT
    entry = db.session.execute(
        select(DecisionLogEntry).where(DecisionLogEntry.action == "phase.forward")
    ).scalar_one()
    assert (entry.from_value, entry.to_value, entry.actor_id) == (
        "nominations",
        "self_assessment",
        org.head.id,
    )
    case_a1 = data.case_ids[org.pm_a1.id]
    assert notified(NotificationKind.CASE_PHASE, case_a1) == {org.pm_a1.id, org.manager_a.id}


def test_phases_move_forward_one_at_a_time(app, org, ctx):
    data = ph.cycle_with_cases(app, org)
    with pytest.raises(ValidationError, match="one at a time"):
        move(user(org.head), data.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    with pytest.raises(ValidationError, match="already in nominations"):
        move(user(org.head), data.cycle_id, CyclePhase.NOMINATIONS)
    with pytest.raises(ValidationError, match="Choose one of the cycle's phases"):
        move(user(org.head), data.cycle_id, "done")


def test_calibration_needs_every_manager_assessment_and_names_who_is_missing(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.MANAGER_ASSESSMENT)
    submit_managers(app, [data.case_ids[org.pm_a1.id]])
    with pytest.raises(ValidationError) as error:
        move(user(org.head), data.cycle_id, CyclePhase.CALIBRATION)
    assert "Bea Pm (manager: Ben Manager)" in error.value.message
    assert "Alice" not in error.value.message
    db.session.rollback()
    submit_managers(app, [data.case_ids[org.pm_b1.id]])
    assert move(user(org.head), data.cycle_id, CyclePhase.CALIBRATION).phase is (
        CyclePhase.CALIBRATION
    )


def test_decisions_need_every_case_in_a_locked_session_with_an_outcome(app, org, ctx):
    data = ph.cycle_with_cases(
        app, org, phase=CyclePhase.CALIBRATION, candidates=("pm_a1", "pm_b1", "pm_d1")
    )
    a1, b1 = data.case_ids[org.pm_a1.id], data.case_ids[org.pm_b1.id]
    ph.make_session(
        app, data.cycle_id, facilitator=org.head, participants=[org.manager_a], case_ids=[a1, b1]
    )
    settle(app, [a1], lock=False)
    with pytest.raises(ValidationError) as error:
        move(user(org.head), data.cycle_id, CyclePhase.DECISIONS)
    message = error.value.message
    assert "Not in a calibration session: Dev Pm" in message
    assert "not locked yet: Alice Pm (Senior PM calibration), Bea Pm" in message
    assert "without an outcome: Bea Pm" in message
    db.session.rollback()
    # Withdrawn cases do not hold the cycle up.
    cycles.withdraw(user(org.director), data.case_ids[org.pm_d1.id], "Moving teams.")
    db.session.commit()
    settle(app, [a1, b1])
    db.session.expire_all()
    assert move(user(org.head), data.cycle_id, CyclePhase.DECISIONS).phase is CyclePhase.DECISIONS


def test_publishing_needs_a_decision_on_every_case(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    settle(app, [data.case_ids[org.pm_a1.id]], decision=Outcome.PROMOTE)
    with pytest.raises(ValidationError, match=r"H1 2027; 1 case has none: Bea Pm\.$"):
        move(user(org.head), data.cycle_id, CyclePhase.PUBLISHED)
    assert cycle_row(data.cycle_id).published_at is None


def test_going_back_needs_a_reason_which_is_logged(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION)
    with pytest.raises(ValidationError, match="needs a reason") as error:
        move(user(org.head), data.cycle_id, CyclePhase.SELF_ASSESSMENT, "  ")
    assert error.value.field == "reason"
    with pytest.raises(ValidationError, match="at most 2,000"):
        move(user(org.head), data.cycle_id, CyclePhase.SELF_ASSESSMENT, "x" * 2001)
    move(user(org.head), data.cycle_id, CyclePhase.SELF_ASSESSMENT, "Bea was on leave.")
    db.session.commit()
    entry = db.session.execute(
        select(DecisionLogEntry).where(DecisionLogEntry.action == "phase.back")
    ).scalar_one()
    assert (entry.from_value, entry.to_value, entry.reason) == (
        "calibration",
        "self_assessment",
        "Bea was on leave.",
    )


def test_a_published_cycle_is_final(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.PUBLISHED)
    with pytest.raises(ValidationError, match="cannot change phase"):
        move(user(org.head), data.cycle_id, CyclePhase.DECISIONS, "Oops.")


def test_a_stale_revision_is_a_conflict_and_nothing_moves(app, org, ctx):
    data = ph.cycle_with_cases(app, org)
    stale = cycle_row(data.cycle_id).revision
    move(user(org.head), data.cycle_id, CyclePhase.SELF_ASSESSMENT)
    db.session.commit()
    with pytest.raises(ConflictError) as error:
        cycles.move_phase(
            user(org.head), data.cycle_id, CyclePhase.MANAGER_ASSESSMENT, expected_revision=stale
        )
    assert error.value.current == {"phase": "Self-assessment"}
    db.session.rollback()
    assert cycle_row(data.cycle_id).phase is CyclePhase.SELF_ASSESSMENT


def test_only_the_head_moves_phases_and_unknown_cycles_are_not_found(app, org, ctx):
    data = ph.cycle_with_cases(app, org)
    with pytest.raises(ForbiddenError):
        move(user(org.manager_a), data.cycle_id, CyclePhase.SELF_ASSESSMENT)
    with pytest.raises(NotFoundError, match="no such promotion cycle"):
        cycles.move_phase(user(org.head), 999, CyclePhase.SELF_ASSESSMENT, expected_revision=1)


# --- publishing ---------------------------------------------------------------------------------


def test_publishing_moves_promoted_people_and_keeps_their_level_history(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    a1, b1 = data.case_ids[org.pm_a1.id], data.case_ids[org.pm_b1.id]
    settle(app, [a1], decision=Outcome.PROMOTE)
    settle(app, [b1], outcome=Outcome.NOT_YET, decision=Outcome.NOT_YET)
    cycle = move(user(org.head), data.cycle_id, CyclePhase.PUBLISHED)
    db.session.commit()
    assert cycle.published_at is not None
    assert user(org.pm_a1).level_id == data.level_ids["L2"]
    assert user(org.pm_b1).level_id == data.level_ids["L1"]
    placements = (
        db.session.execute(
            select(LevelPlacement)
            .where(LevelPlacement.user_id == org.pm_a1.id)
            .order_by(LevelPlacement.id)
        )
        .scalars()
        .all()
    )
    assert [(p.level_id, p.source, p.case_id) for p in placements] == [
        (data.level_ids["L1"], "placed", None),
        (data.level_ids["L2"], "promotion", a1),
    ]
    assert placements[0].ended_at == placements[1].started_at
    assert placements[1].ended_at is None
    assert log_actions(data.cycle_id)[-3:] == ["phase.forward", "level.changed", "cycle.published"]
    change = db.session.execute(
        select(DecisionLogEntry).where(DecisionLogEntry.action == "level.changed")
    ).scalar_one()
    assert (change.case_id, change.from_value, change.to_value) == (a1, "L1", "L2")
    assert notified(NotificationKind.CASE_PUBLISHED) == {org.pm_a1.id, org.pm_b1.id}
    assert notified(NotificationKind.CASE_PHASE) == {org.manager_a.id, org.manager_b.id}


def test_a_promotion_lands_on_the_level_of_the_version_published_now(app, org, ctx):
    data = ph.cycle_with_cases(
        app, org, phase=CyclePhase.DECISIONS, candidates=("pm_a1",), with_session=True
    )
    settle(app, list(data.case_ids.values()), decision=Outcome.PROMOTE)
    with app.app_context():  # a newer version of the same framework, published mid-cycle
        newer = framework_yaml().replace("at L1.", "at L1, well.")
        files.import_text(SYSTEM, newer, "yaml", publish=True)
        db.session.commit()
    move(user(org.head), data.cycle_id, CyclePhase.PUBLISHED)
    db.session.commit()
    level = db.session.get(Level, user(org.pm_a1).level_id)
    assert level.code == "L2"
    assert level.id != data.level_ids["L2"]
    version = db.session.get(FrameworkVersion, level.version_id)
    assert version.status is VersionStatus.PUBLISHED


# --- nominating ---------------------------------------------------------------------------------


@pytest.fixture
def open_cycle(app, org):
    levels = ph.publish_sample(app)
    ph.place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1], levels["L1"])
    return ph.CycleData(ph.make_cycle(app), levels)


def test_a_manager_nominates_a_report(app, org, open_cycle, ctx):
    case = cycles.nominate(
        user(org.manager_a),
        open_cycle.cycle_id,
        org.pm_d1.id,
        open_cycle.level_ids["L3"],
        "  **Leads** discovery.  ",
    )
    db.session.commit()
    assert case.current_level_id == open_cycle.level_ids["L1"]
    assert case.proposed_level_id == open_cycle.level_ids["L3"]
    assert case.manager_id == org.director.id  # the candidate's own manager writes the assessment
    assert case.nominated_by_id == org.manager_a.id
    assert case.statement == "**Leads** discovery."
    entry = db.session.execute(
        select(DecisionLogEntry).where(DecisionLogEntry.action == "case.opened")
    ).scalar_one()
    assert (entry.case_id, entry.from_value, entry.to_value) == (case.id, "L1", "L3")
    assert notified(NotificationKind.CASE_OPENED, case.id) == {org.pm_d1.id, org.director.id}


def test_the_head_nominates_someone_without_a_manager_and_becomes_their_manager(
    app, org, open_cycle, ctx
):
    loner = db.session.execute(select(User).where(User.id == org.manager_b.id)).scalar_one()
    loner.manager_id, loner.level_id = None, open_cycle.level_ids["L1"]
    db.session.commit()
    case = cycles.nominate(
        user(org.head), open_cycle.cycle_id, org.manager_b.id, open_cycle.level_ids["L2"], "Ready."
    )
    assert case.manager_id == org.head.id


def nominate_error(org, open_cycle, *, actor=None, candidate=None, level="L2", statement="Ok."):
    actor = user(actor or org.manager_a)
    candidate_id = candidate.id if hasattr(candidate, "id") else candidate
    level_id = open_cycle.level_ids.get(level, level)
    with pytest.raises(ValidationError) as error:
        cycles.nominate(actor, open_cycle.cycle_id, candidate_id, level_id, statement)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PromotionCase.id))) == 0
    return error.value


def test_bad_nominations_are_refused_with_a_clear_message_and_nothing_changes(
    app, org, open_cycle, ctx
):
    cases = [
        ({"candidate": org.pm_b1}, "candidate_id", "only people who report to you"),
        ({"candidate": org.manager_a}, "candidate_id", "cannot nominate yourself"),
        ({"candidate": 999_999}, "candidate_id", "Choose the person to nominate."),
        ({"candidate": "abc"}, "candidate_id", "Choose the person to nominate."),
        ({"candidate": org.director}, "candidate_id", "Dora Director is not placed on a level"),
        ({"candidate": org.pm_a1, "level": "L1"}, "proposed_level_id", "above Alice Pm's"),
        ({"candidate": org.pm_a1, "level": 999_999}, "proposed_level_id", "Choose a level of"),
        ({"candidate": org.pm_a1, "statement": "  "}, "statement", "why Alice Pm is ready"),
        (
            {"candidate": org.pm_a1, "statement": "x" * (STATEMENT_MAX + 1)},
            "statement",
            "at most 10,000",
        ),
    ]
    for kwargs, field, message in cases:
        error = nominate_error(org, open_cycle, **kwargs)
        assert (error.field, message in error.message) == (field, True), (kwargs, error.message)


def test_a_level_of_a_version_the_cycle_does_not_use_is_refused(app, org, open_cycle, ctx):
    other, _ = files.import_text(SYSTEM, framework_yaml(slug="other"), "yaml", publish=True)
    db.session.commit()
    level_id = db.session.execute(
        select(Level.id).where(Level.version_id == other.id, Level.code == "L3")
    ).scalar_one()
    error = nominate_error(org, open_cycle, candidate=org.pm_a1, level=level_id)
    assert error.message == "Choose a level of the career paths H1 2027 uses."


def test_one_open_case_per_person_per_cycle(app, org, open_cycle, ctx):
    first = cycles.nominate(
        user(org.manager_a), open_cycle.cycle_id, org.pm_a1.id, open_cycle.level_ids["L2"], "Ok."
    )
    db.session.commit()
    with pytest.raises(ValidationError, match=r"Alice Pm already has an open case in H1 2027\."):
        cycles.nominate(
            user(org.head), open_cycle.cycle_id, org.pm_a1.id, open_cycle.level_ids["L3"], "Ok."
        )
    db.session.rollback()
    cycles.withdraw(user(org.manager_a), first.id, "Wrong level.")
    again = cycles.nominate(
        user(org.manager_a), open_cycle.cycle_id, org.pm_a1.id, open_cycle.level_ids["L3"], "Ok."
    )
    db.session.commit()
    assert again.id != first.id


def test_product_managers_cannot_nominate_and_nominations_close_after_their_phase(
    app, org, open_cycle, ctx
):
    with pytest.raises(ForbiddenError):
        cycles.nominate(
            user(org.pm_a2), open_cycle.cycle_id, org.pm_a1.id, open_cycle.level_ids["L2"], "Ok."
        )
    db.session.rollback()
    ph.set_phase(app, open_cycle.cycle_id, CyclePhase.SELF_ASSESSMENT)
    with pytest.raises(ValidationError, match="Nominations is open during nominations"):
        cycles.nominate(
            user(org.manager_a), open_cycle.cycle_id, org.pm_a1.id, open_cycle.level_ids["L2"], "x"
        )
    with pytest.raises(NotFoundError):
        cycles.nominate(user(org.manager_a), 999, org.pm_a1.id, open_cycle.level_ids["L2"], "x")


# --- withdrawing and deciding -------------------------------------------------------------------


def test_withdrawing_needs_a_reason_and_is_logged(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    case_id = data.case_ids[org.pm_a1.id]
    with pytest.raises(ValidationError, match="Say why") as error:
        cycles.withdraw(user(org.manager_a), case_id, " ")
    assert error.value.field == "reason"
    with pytest.raises(ForbiddenError):
        cycles.withdraw(user(org.pm_a1), case_id, "I'd rather not.")
    with pytest.raises(NotFoundError):
        cycles.withdraw(user(org.manager_b), case_id, "Not mine.")
    cycles.withdraw(user(org.manager_a), case_id, "Moving to another team.")
    db.session.commit()
    entry = db.session.execute(
        select(DecisionLogEntry).where(DecisionLogEntry.action == "case.withdrawn")
    ).scalar_one()
    assert (entry.case_id, entry.reason) == (case_id, "Moving to another team.")
    with pytest.raises(ValidationError, match="already withdrawn"):
        cycles.withdraw(user(org.manager_a), case_id, "Again.")


def test_cases_cannot_be_withdrawn_once_decisions_start(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS)
    with pytest.raises(ValidationError, match="Withdrawing a case is open during"):
        cycles.withdraw(user(org.head), data.case_ids[org.pm_a1.id], "Too late.")


def decide(actor, case_id, decision, rationale=""):
    revision = db.session.get(PromotionCase, case_id).revision
    return cycles.decide(actor, case_id, decision, rationale, expected_revision=revision)


def test_a_decision_defaults_to_the_session_outcome(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    settle(app, [case_id])
    case = decide(user(org.head), case_id, None)
    db.session.commit()
    assert (case.decision, case.decided_by_id) == (Outcome.PROMOTE, org.head.id)
    entry = db.session.execute(
        select(DecisionLogEntry).where(DecisionLogEntry.action == "decision")
    ).scalar_one()
    assert (entry.from_value, entry.to_value) == ("", "promote")
    assert notified(NotificationKind.CASE_DECIDED, case_id) == {org.manager_a.id}


def test_a_decision_away_from_the_outcome_needs_a_rationale(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    settle(app, [case_id])
    with pytest.raises(ValidationError, match=r"differs from the session's outcome \(Promote\)"):
        decide(user(org.head), case_id, "defer")
    db.session.rollback()
    case = decide(user(org.head), case_id, "defer", "Budget freeze until Q3.")
    db.session.commit()
    assert (case.decision, case.decision_rationale) == (Outcome.DEFER, "Budget freeze until Q3.")
    assert (
        db.session.execute(
            select(DecisionLogEntry.reason).where(DecisionLogEntry.action == "decision")
        ).scalar_one()
        == "Budget freeze until Q3."
    )


def test_bad_decisions_are_refused(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    a1, b1 = data.case_ids[org.pm_a1.id], data.case_ids[org.pm_b1.id]
    settle(app, [a1])
    with pytest.raises(ValidationError, match=r"Choose promote, not yet or defer\."):
        decide(user(org.head), a1, "maybe")
    with pytest.raises(ValidationError, match="no outcome for this case; choose a decision"):
        decide(user(org.head), b1, None)
    with pytest.raises(ValidationError, match="at most 5,000"):
        decide(user(org.head), a1, "defer", "x" * 5001)
    with pytest.raises(ForbiddenError):
        decide(user(org.manager_a), a1, None)
    with pytest.raises(NotFoundError):
        cycles.decide(user(org.head), 999, None, "", expected_revision=1)
    db.session.rollback()
    assert db.session.get(PromotionCase, a1).decision is None


def test_decisions_only_in_their_phase_and_a_stale_form_is_a_conflict(app, org, ctx):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    settle(app, [case_id])
    with pytest.raises(ValidationError, match="Recording decisions is open during decisions"):
        decide(user(org.head), case_id, None)
    db.session.rollback()
    ph.set_phase(app, data.cycle_id, CyclePhase.DECISIONS)
    stale = db.session.get(PromotionCase, case_id).revision
    decide(user(org.head), case_id, "not_yet", "Not enough evidence on strategy.")
    db.session.commit()
    with pytest.raises(ConflictError) as error:
        cycles.decide(user(org.head), case_id, "promote", "", expected_revision=stale)
    assert error.value.current["decision"] == "Not yet"
    db.session.rollback()
    assert db.session.get(PromotionCase, case_id).decision is Outcome.NOT_YET


# --- who sees which case ------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [CyclePhase.CALIBRATION, CyclePhase.PUBLISHED])
def test_the_lists_show_exactly_what_the_policy_allows(app, org, ctx, phase):
    data = ph.cycle_with_cases(
        app, org, phase=phase, candidates=("pm_a1", "pm_b1", "pm_d1", "pm_a2")
    )
    ph.make_session(
        app,
        data.cycle_id,
        facilitator=org.director,
        participants=[org.manager_b],
        case_ids=[data.case_ids[org.pm_a1.id]],
    )
    db.session.expire_all()
    cases = db.session.execute(select(PromotionCase)).scalars().all()
    for person in org.__dict__.values():
        viewer = user(person)
        listed = {row.id: row for row in case_lists.cycle_cases(viewer, data.cycle_id, 1)[1]}
        for case in cases:
            assert (case.id in listed) == can(viewer, "case.view", case), (person.name, case.id)
            if case.id in listed:
                row = listed[case.id]
                assert row.may_open_session == (
                    case.session is not None and can(viewer, "session.view", case.session)
                ), (person.name, case.id)
        rows = case_lists.cycle_cases(viewer, data.cycle_id, 1)[1]
        own = [row for row in rows if row.is_own]
        if own and phase is not CyclePhase.PUBLISHED:
            db.session.rollback()
            settle(app, [own[0].id], decision=Outcome.PROMOTE)
            row = next(r for r in case_lists.cycle_cases(viewer, data.cycle_id, 1)[1] if r.is_own)
            assert (row.outcome, row.decision) == (None, None)


def test_nominees_are_the_placed_reports_without_an_open_case(app, org, open_cycle, ctx):
    cycles.nominate(
        user(org.manager_a), open_cycle.cycle_id, org.pm_a1.id, open_cycle.level_ids["L2"], "Ok."
    )
    db.session.commit()
    names = [
        c.label.split(" — ")[0]
        for c in case_lists.nominees(user(org.manager_a), open_cycle.cycle_id)
    ]
    assert names == ["Arun Pm", "Dev Pm"]  # Dora is not placed, Alice already has a case
    assert case_lists.nominees(user(org.pm_a2), open_cycle.cycle_id) == []
    head_names = [
        c.label.split(" — ")[0] for c in case_lists.nominees(user(org.head), open_cycle.cycle_id)
    ]
    assert head_names == ["Arun Pm", "Bea Pm", "Dev Pm"]
