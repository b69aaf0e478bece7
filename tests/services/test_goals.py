"""Growth-plan goals without HTTP: levels, the measure, agreement, status rules, evidence links,
notifications and the audit log."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    AuditEvent,
    Goal,
    GoalStatus,
    Notification,
    NotificationKind,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services import goals as goal_service
from app.services.goals import pages
from app.services.notifications import inbox
from tests.evidence_helpers import publish_and_place, record
from tests.goal_helpers import agree, goal_input, level_id, link, move, propose


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1], "L1")
    return org


def _goal(app, goal_id: int) -> Goal:
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        db.session.expunge(goal)
        return goal


def _refused(app, actor, call) -> ValidationError | ConflictError | NotFoundError:
    with app.app_context():
        user = db.session.get(User, actor.id)
        with pytest.raises((ValidationError, ConflictError, NotFoundError)) as caught:
            call(user)
        db.session.rollback()
        return caught.value


def test_a_goal_aims_for_the_next_level_unless_another_is_chosen(app, placed):
    default = propose(app, placed.manager_a, placed.pm_a1)
    chosen = propose(app, placed.pm_a1, placed.pm_a1, target_level_id=level_id(app, "L3"))
    assert _goal(app, default).target_level_id == level_id(app, "L2")
    assert _goal(app, chosen).target_level_id == level_id(app, "L3")


def test_a_level_at_or_below_the_persons_own_is_refused(app, placed):
    own = level_id(app, "L1")
    error = _refused(
        app,
        placed.pm_a1,
        lambda user: goal_service.create_goal(
            user, placed.pm_a1.id, goal_input(target_level_id=own)
        ),
    )
    assert error.field == "target_level_id"


def test_a_goal_needs_a_measure_of_the_outcome_and_a_competency_of_the_path(app, placed):
    empty = _refused(
        app,
        placed.pm_a1,
        lambda user: goal_service.create_goal(user, placed.pm_a1.id, goal_input(measure="  ")),
    )
    assert empty.field == "measure" and "outcome" in empty.message
    unknown = _refused(
        app,
        placed.pm_a1,
        lambda user: goal_service.create_goal(
            user, placed.pm_a1.id, goal_input(competency_key="no-such-skill")
        ),
    )
    assert unknown.field == "competency_key"
    with app.app_context():
        assert db.session.scalar(select(Goal.id)) is None


def test_an_unplaced_person_gets_no_goal(app, org):
    error = _refused(
        app, org.pm_a1, lambda user: goal_service.create_goal(user, org.pm_a1.id, goal_input())
    )
    assert "level" in error.message


def test_only_the_person_and_their_direct_manager_propose(app, placed):
    for outsider in (placed.director, placed.head, placed.pm_a2, placed.manager_b):
        _refused(
            app,
            outsider,
            lambda user: goal_service.create_goal(user, placed.pm_a1.id, goal_input()),
        )


def test_the_other_of_the_two_agrees_and_both_hear_of_it(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    error = _refused(
        app,
        placed.manager_a,
        lambda user: goal_service.agree_goal(
            user, db.session.get(Goal, goal_id), expected_revision=1
        ),
    )
    assert "other" in error.message
    agree(app, placed.pm_a1, goal_id)
    goal = _goal(app, goal_id)
    assert goal.agreed_by_id == placed.pm_a1.id and goal.agreed_at is not None
    with app.app_context():
        kinds = db.session.execute(
            select(Notification.recipient_id, Notification.kind).where(
                Notification.goal_id == goal_id
            )
        ).all()
    assert set(kinds) == {
        (placed.pm_a1.id, NotificationKind.GOAL_PROPOSED),
        (placed.manager_a.id, NotificationKind.GOAL_AGREED),
    }


def test_the_inbox_says_what_a_goal_notification_is_and_links_the_goal(app, placed):
    goal_id = propose(app, placed.pm_a1, placed.pm_a1)
    with app.app_context():
        manager = db.session.get(User, placed.manager_a.id)
        _pagination, entries = inbox(manager, 1)
        notice = entries[0].notice
    assert notice.verb == "proposed a goal to agree on"
    assert notice.link_text == "Skill 0.0, Alice Pm's growth plan"
    assert notice.endpoint == "goals.show" and dict(notice.values) == {"goal_id": goal_id}


def test_changing_an_agreed_goals_substance_asks_for_agreement_again(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    agree(app, placed.pm_a1, goal_id)
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        user = db.session.get(User, placed.pm_a1.id)
        goal_service.update_goal(
            user,
            goal,
            goal_input(measure="Three of three bets from interviews."),
            expected_revision=goal.revision,
        )
        db.session.commit()
    goal = _goal(app, goal_id)
    assert goal.agreed_by_id is None and goal.created_by_id == placed.pm_a1.id


def test_a_stale_save_is_a_conflict_showing_the_saved_values(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        goal_service.update_goal(
            db.session.get(User, placed.manager_a.id),
            goal,
            goal_input(change="Manager's wording"),
            expected_revision=1,
        )
        db.session.commit()
    error = _refused(
        app,
        placed.pm_a1,
        lambda user: goal_service.update_goal(
            user, db.session.get(Goal, goal_id), goal_input(change="Mine"), expected_revision=1
        ),
    )
    assert isinstance(error, ConflictError)
    assert error.current["change"] == "Manager's wording"
    assert _goal(app, goal_id).change == "Manager's wording"


def test_status_rules_outcome_for_done_reason_for_dropped_agreement_first(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)

    def set_to(status, note=""):
        return lambda user: goal_service.set_status(
            user, db.session.get(Goal, goal_id), status, note=note, expected_revision=1
        )

    assert "Agree" in _refused(app, placed.pm_a1, set_to(GoalStatus.IN_PROGRESS)).message
    agree(app, placed.pm_a1, goal_id)
    move(app, placed.pm_a1, goal_id, GoalStatus.IN_PROGRESS)
    revision = _goal(app, goal_id).revision

    def at(status, note=""):
        return lambda user: goal_service.set_status(
            user, db.session.get(Goal, goal_id), status, note=note, expected_revision=revision
        )

    assert _refused(app, placed.pm_a1, at(GoalStatus.DONE)).field == "note"
    assert _refused(app, placed.pm_a1, at(GoalStatus.DROPPED, "  ")).field == "note"
    move(app, placed.manager_a, goal_id, GoalStatus.DONE, "3 of 3 bets came from interviews")
    goal = _goal(app, goal_id)
    assert goal.status is GoalStatus.DONE and goal.outcome.startswith("3 of 3")
    assert goal.closed_at is not None
    move(app, placed.pm_a1, goal_id, GoalStatus.DROPPED, "Moved to another team")
    goal = _goal(app, goal_id)
    assert (goal.outcome, goal.dropped_reason) == ("", "Moved to another team")


def test_a_mentor_or_skip_level_manager_reads_but_does_not_change(app, placed):
    goal_id = propose(app, placed.director, placed.pm_d1)
    for reader in (placed.manager_a,):
        with app.app_context():
            user = db.session.get(User, reader.id)
            assert goal_service.get_goal(user, goal_id)
        _refused(
            app,
            reader,
            lambda user: goal_service.agree_goal(
                user, db.session.get(Goal, goal_id), expected_revision=1
            ),
        )


def test_evidence_links_count_only_what_the_viewer_may_read(app, placed):
    shared = record(app, placed.pm_a1, title="Shared item")
    draft = record(app, placed.pm_a1, title="Draft item", visibility=Visibility.PRIVATE)
    other = record(app, placed.pm_a2, title="Someone else's")
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    link(app, placed.pm_a1, goal_id, shared)
    link(app, placed.pm_a1, goal_id, draft)
    assert (
        _refused(
            app,
            placed.pm_a1,
            lambda user: goal_service.link_evidence(user, db.session.get(Goal, goal_id), other),
        ).field
        == "evidence_id"
    )
    with app.app_context():
        own = pages.goal_page(db.session.get(User, placed.pm_a1.id), goal_id)
        manager = pages.goal_page(db.session.get(User, placed.manager_a.id), goal_id)
    assert own.goal.evidence_count == 2
    assert [item.title for item in manager.linked] == ["Shared item"]
    assert manager.goal.evidence_count == 1


def test_every_change_is_audited(app, placed):
    item = record(app, placed.pm_a1)
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    agree(app, placed.pm_a1, goal_id)
    link(app, placed.pm_a1, goal_id, item)
    move(app, placed.pm_a1, goal_id, GoalStatus.IN_PROGRESS)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "goals", AuditEvent.entity_id == goal_id)
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["goal.created", "goal.agreed", "goal.evidence_linked", "goal.status"]


def test_rewriting_the_others_unagreed_proposal_makes_it_yours_to_be_agreed_by_them(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        goal_service.update_goal(
            db.session.get(User, placed.pm_a1.id),
            goal,
            goal_input(measure="I decide alone which bets we make."),
            expected_revision=goal.revision,
        )
        db.session.commit()
    goal = _goal(app, goal_id)
    assert goal.agreed_by_id is None and goal.created_by_id == placed.pm_a1.id
    error = _refused(
        app,
        placed.pm_a1,
        lambda user: goal_service.agree_goal(
            user, db.session.get(Goal, goal_id), expected_revision=goal.revision
        ),
    )
    assert "proposed" in error.message
    with app.app_context():
        asked = db.session.execute(
            select(Notification.recipient_id).where(
                Notification.goal_id == goal_id,
                Notification.kind == NotificationKind.GOAL_PROPOSED,
            )
        ).scalars()
        assert sorted(asked) == sorted([placed.pm_a1.id, placed.manager_a.id])
    agree(app, placed.manager_a, goal_id)
    assert _goal(app, goal_id).agreed_by_id == placed.manager_a.id


def test_a_new_target_date_is_substance_too(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    agree(app, placed.pm_a1, goal_id)
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        goal_service.update_goal(
            db.session.get(User, placed.pm_a1.id),
            goal,
            goal_input(target_on=date(2027, 9, 30)),
            expected_revision=goal.revision,
        )
        db.session.commit()
    goal = _goal(app, goal_id)
    assert goal.agreed_by_id is None and goal.created_by_id == placed.pm_a1.id


def test_linking_and_unlinking_evidence_moves_the_goals_last_change(app, placed):
    item = record(app, placed.pm_a1)
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    first = _goal(app, goal_id).updated_at
    link(app, placed.pm_a1, goal_id, item)
    linked = _goal(app, goal_id).updated_at
    assert linked > first
    with app.app_context():
        goal_service.unlink_evidence(
            db.session.get(User, placed.pm_a1.id), db.session.get(Goal, goal_id), item
        )
        db.session.commit()
    assert _goal(app, goal_id).updated_at > linked


@pytest.mark.parametrize("target_on", [date(1, 1, 1), date(2001, 6, 30), date(9999, 12, 31)])
def test_a_target_date_long_past_or_far_off_is_refused_with_a_message(app, placed, target_on):
    error = _refused(
        app,
        placed.manager_a,
        lambda user: goal_service.create_goal(
            user, placed.pm_a1.id, goal_input(target_on=target_on)
        ),
    )
    assert error.field == "target_on" and "Choose a target date" in error.message
    with app.app_context():
        assert db.session.execute(select(Goal.id)).first() is None


def test_a_deactivated_report_gets_no_new_goal(app, placed):
    with app.app_context():
        db.session.get(User, placed.pm_a1.id).deactivated_at = utcnow()
        db.session.commit()
    error = _refused(
        app,
        placed.manager_a,
        lambda user: goal_service.create_goal(user, placed.pm_a1.id, goal_input()),
    )
    assert "deactivated" in error.message


def test_a_closed_goals_wording_is_not_silently_unagreed(app, placed):
    goal_id = propose(app, placed.manager_a, placed.pm_a1)
    agree(app, placed.pm_a1, goal_id)
    move(app, placed.pm_a1, goal_id, GoalStatus.DROPPED, "Moved team.")
    revision = _goal(app, goal_id).revision
    error = _refused(
        app,
        placed.manager_a,
        lambda user: goal_service.update_goal(
            user,
            db.session.get(Goal, goal_id),
            goal_input(change="Something else entirely."),
            expected_revision=revision,
        ),
    )
    assert "Reopen it first" in error.message
    assert _goal(app, goal_id).agreed_by_id == placed.pm_a1.id
