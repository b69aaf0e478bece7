"""The to-do list: what each person must do now, derived from state, with its due date, in a
fixed number of queries for everyone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import (
    ActionItem,
    Corroboration,
    CyclePhase,
    Evidence,
    FeedbackAsk,
    FeedbackRequest,
    PhaseDeadline,
    PromotionCase,
    Rating,
    RatingSource,
    User,
)
from app.services.todo import TaskKind, pages
from app.services.todo import tasks as todo
from app.services.todo.tasks import end_of_day
from tests import evidence_helpers
from tests.oneonones_helpers import build as build_pair
from tests.promotion_helpers import (
    KEYS,
    cycle_with_cases,
    place,
    publish_sample,
    rate,
    set_phase,
    vote,
)

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def tasks_of(app, person) -> list[tuple[TaskKind, str]]:
    with app.app_context():
        return [(t.kind, t.key) for t in todo.for_person(db.session.get(User, person.id), NOW)]


def count_of(app, person) -> int:
    with app.app_context():
        return todo.count_for(db.session.get(User, person.id), NOW)


def set_deadline(app, cycle_id: int, phase: CyclePhase, due_at: datetime) -> None:
    with app.app_context():
        db.session.add(PhaseDeadline(cycle_id=cycle_id, phase=phase, due_at=due_at))
        db.session.commit()


def test_self_then_manager_assessments_with_their_phase_deadline_and_progress(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    alice_case = cycle.case_ids[org.pm_a1.id]
    due = NOW + timedelta(days=2)
    set_deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, due)
    rate(app, alice_case, RatingSource.SELF, {KEYS[0]: Rating.MEETS}, submit=False)
    with app.app_context():
        (task,) = todo.for_person(db.session.get(User, org.pm_a1.id), NOW)
    assert task.kind is TaskKind.SELF_ASSESSMENT
    assert task.key == f"self_assessment:case:{alice_case}"
    assert (task.due_at, task.done, task.total) == (due, 1, len(KEYS))
    assert task.endpoint == "assessments.self_assessment"
    assert count_of(app, org.pm_a1) == 1
    assert tasks_of(app, org.manager_a) == []  # their phase is next

    # Submitting drops it off by itself; in the next phase the manager has theirs.
    rate(app, alice_case, RatingSource.SELF, {}, submit=True)
    assert tasks_of(app, org.pm_a1) == []
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    assert tasks_of(app, org.manager_a) == [
        (TaskKind.MANAGER_ASSESSMENT, f"manager_assessment:case:{alice_case}")
    ]
    assert tasks_of(app, org.pm_a1) == []


def test_a_manager_nominates_until_they_have_nominated_someone(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.NOMINATIONS, candidates=("pm_a1",))
    # manager_a nominated Alice (the helper records the manager as nominator); the others not.
    assert tasks_of(app, org.manager_a) == []
    key = f"nominations:cycle:{cycle.cycle_id}:person:{org.manager_b.id}"
    assert tasks_of(app, org.manager_b) == [(TaskKind.NOMINATIONS, key)]
    assert tasks_of(app, org.director)[0][0] is TaskKind.NOMINATIONS
    assert tasks_of(app, org.pm_a1) == []  # nobody reports to a PM
    set_phase(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT)
    assert tasks_of(app, org.manager_b) == []


def test_participants_vote_until_every_case_has_their_vote_before_the_meeting(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    scheduled = NOW + timedelta(days=1)
    with app.app_context():
        from app.models import CalibrationSession

        db.session.get(CalibrationSession, cycle.session_id).scheduled_at = scheduled
        db.session.commit()
    (task,) = [t for t in _all(app) if t.person_id == org.manager_a.id]
    assert (task.kind, task.due_at, task.done, task.total) == (TaskKind.VOTES, scheduled, 0, 2)
    # Reminders say "<title> is due", and the to-do row adds ": 0 of 2 voted": each once.
    assert task.title.startswith("Voting in ") and "votes" not in task.title.lower()
    assert task.detail.startswith("Vote on each case in ")
    assert task.detail.endswith(" before the meeting")
    with app.test_request_context():
        rows = app.jinja_env.get_template("todo/_macros.html").module.task_rows(
            pages.TodoList([pages.item(task, NOW, "UTC")], 1, "UTC")
        )
    text = " ".join(re.sub(r"<[^>]+>", " ", str(rows)).split())
    assert "before the meeting: 0 of 2 voted." in text
    assert text.count("voted") == 1 and "cases voted on" not in text, text
    for case_id in cycle.case_ids.values():
        vote(app, cycle.session_id, case_id, org.manager_a, {KEYS[0]: Rating.MEETS})
    assert tasks_of(app, org.manager_a) == []
    assert [k for k, _ in tasks_of(app, org.manager_b)] == [TaskKind.VOTES]
    assert tasks_of(app, org.head) == []  # the facilitator does not vote


def _all(app):
    with app.app_context():
        return todo.open_tasks(NOW)


def test_feedback_corroboration_and_action_items_with_local_due_dates(app, org):
    with app.app_context():
        db.session.get(User, org.pm_a2.id).time_zone = "America/New_York"
        request = FeedbackRequest(requester_id=org.pm_a1.id, due_on=date(2026, 12, 4))
        db.session.add(request)
        db.session.flush()
        db.session.add(FeedbackAsk(request_id=request.id, giver_id=org.pm_a2.id))
        db.session.commit()
    place(app, [org.pm_a1], publish_sample(app)["L1"])
    item = evidence_helpers.record(app, org.pm_a1, title="Launch")
    with app.app_context():
        db.session.add(Corroboration(evidence_id=item, peer_id=org.pm_a2.id))
        db.session.commit()
    pair = build_pair(app, org.manager_a, org.pm_a2)
    with app.app_context():
        db.session.get(ActionItem, pair.action_id).due_on = date(2026, 12, 9)
        db.session.commit()
        tasks = todo.for_person(db.session.get(User, org.pm_a2.id), NOW)
    # Overdue first, then the soonest, then those without a date.
    assert [t.kind for t in tasks] == [
        TaskKind.FEEDBACK,
        TaskKind.ACTION_ITEM,
        TaskKind.CORROBORATION,
    ]
    # Due on 4 December in New York: until midnight there, 05:00 UTC on the 5th.
    assert tasks[0].due_at == datetime(2026, 12, 5, 5, tzinfo=UTC)
    assert tasks[0].is_overdue(NOW)
    assert count_of(app, org.pm_a2) == 3

    # A trashed item's request is no longer something to do.
    with app.app_context():
        db.session.get(Evidence, item).deleted_at = NOW
        db.session.commit()
    assert TaskKind.CORROBORATION not in [k for k, _ in tasks_of(app, org.pm_a2)]


def test_a_local_day_ends_at_local_midnight_across_daylight_saving():
    # London's clocks go back on 25 October 2026: the 24th ends at 23:00 UTC, the 25th at 00:00.
    assert end_of_day(date(2026, 10, 24), "Europe/London") == datetime(2026, 10, 24, 23, tzinfo=UTC)
    assert end_of_day(date(2026, 10, 25), "Europe/London") == datetime(2026, 10, 26, 0, tzinfo=UTC)
    assert end_of_day(date(2026, 3, 7), "Nowhere/Unknown") == datetime(2026, 3, 8, tzinfo=UTC)


def test_withdrawn_cases_are_nobodys_task(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    with app.app_context():
        db.session.get(PromotionCase, cycle.case_ids[org.pm_a1.id]).withdrawn_at = NOW
        db.session.commit()
    assert tasks_of(app, org.pm_a1) == []
    assert count_of(app, org.pm_a1) == 0


def test_everyones_tasks_take_the_same_number_of_queries_for_5_and_50_people(app, org, make):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    set_deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW)

    def grow(n: int) -> None:
        for _ in range(n):
            person = make.person(manager=org.manager_a)
            with app.app_context():
                source = db.session.get(PromotionCase, cycle.case_ids[org.pm_a1.id])
                db.session.add(
                    PromotionCase(
                        cycle_id=cycle.cycle_id,
                        candidate_id=person.id,
                        current_level_id=source.current_level_id,
                        proposed_level_id=source.proposed_level_id,
                        manager_id=org.manager_a.id,
                    )
                )
                request = FeedbackRequest(requester_id=person.id)
                db.session.add(request)
                db.session.flush()
                db.session.add(FeedbackAsk(request_id=request.id, giver_id=org.pm_b1.id))
                db.session.commit()

    def queries() -> tuple[int, int]:
        statements = []

        def record(*_args):
            statements.append(1)

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                found = todo.open_tasks(NOW)
            finally:
                event.remove(engine, "before_cursor_execute", record)
        return len(statements), len(found)

    grow(3)
    few, few_tasks = queries()
    grow(45)
    many, many_tasks = queries()
    assert many == few
    assert many_tasks - few_tasks == 45 * 2
