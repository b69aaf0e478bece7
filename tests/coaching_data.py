"""Coaching objects for the personal-data tests, written straight to the models (the features'
services live on other branches): Alice's 1:1s, goals, board, feedback and thanks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    Cadence,
    CoachingLink,
    DelegationAgreement,
    DelegationBoard,
    DelegationPick,
    DelegationRound,
    DelegationRow,
    Evidence,
    EvidenceKind,
    FeedbackAsk,
    FeedbackRequest,
    Framework,
    Goal,
    GoalStatus,
    Meeting,
    OneOnOne,
    PairKind,
    PrivateNote,
    Thanks,
    Visibility,
)
from app.models.feedback import AskStatus
from app.models.framework import DaciRole
from app.models.goals import goal_evidence
from tests.evidence_helpers import record

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def framework_id() -> int:
    return db.session.query(Framework.id).filter_by(slug="sample").scalar()


def add_meetings(pair_id: int, lead_id: int, member_id: int, count: int, start=START) -> list:
    """`count` meetings with an agenda item each, shared notes and both people's private notes."""
    meetings = []
    for n in range(count):
        meeting = Meeting(
            one_on_one_id=pair_id,
            starts_at=start + timedelta(days=7 * n),
            shared_notes=f"Shared notes {n}",
            created_by_id=lead_id,
        )
        db.session.add(meeting)
        db.session.flush()
        db.session.add_all(
            [
                AgendaItem(meeting_id=meeting.id, author_id=member_id, text=f"Topic {n}"),
                PrivateNote(meeting_id=meeting.id, author_id=member_id, body=f"My thoughts {n}"),
                PrivateNote(meeting_id=meeting.id, author_id=lead_id, body=f"LEAD SECRET {n}"),
                ActionItem(
                    one_on_one_id=pair_id,
                    raised_in_id=meeting.id,
                    owner_id=member_id,
                    text=f"Follow up {n}",
                    due_on=date(2026, 4, 1),
                    created_by_id=lead_id,
                ),
            ]
        )
        meetings.append(meeting)
    db.session.flush()
    return meetings


def add_goals(person_id: int, manager_id: int, count: int, evidence_ids=()) -> list:
    goals = []
    for n in range(count):
        goal = Goal(
            person_id=person_id,
            framework_id=framework_id(),
            competency_key="skill-0-0",
            change=f"Run discovery on my own {n}",
            measure="Two interviews a week",
            target_on=date(2026, 9, 30),
            status=GoalStatus.IN_PROGRESS,
            created_by_id=person_id,
            agreed_by_id=manager_id,
            agreed_at=START,
        )
        db.session.add(goal)
        goals.append(goal)
    db.session.flush()
    for evidence_id in evidence_ids:
        db.session.execute(
            goal_evidence.insert().values(goal_id=goals[0].id, evidence_id=evidence_id)
        )
    return goals


def add_board(person_id: int, manager_id: int, rows: int, rounds: int = 2) -> DelegationBoard:
    """Rows, then `rounds` rounds: all but the last revealed and agreed; in the last (open) one
    both picked and nobody may see the other's pick yet."""
    board = DelegationBoard(person_id=person_id, created_by_id=manager_id)
    db.session.add(board)
    db.session.flush()
    made = []
    for n in range(rows):
        row = DelegationRow(
            board_id=board.id,
            position=n,
            decision=f"Decision {n}",
            role=DaciRole.DRIVER,
            expected=4,
            added_by_id=manager_id,
        )
        db.session.add(row)
        made.append(row)
    db.session.flush()
    for number in range(1, rounds + 1):
        last = number == rounds
        played = DelegationRound(
            board_id=board.id,
            number=number,
            opened_by_id=manager_id,
            opened_at=START + timedelta(days=30 * number),
            revealed_at=None if last else START + timedelta(days=30 * number + 1),
            closed_at=None if last else START + timedelta(days=30 * number + 2),
        )
        db.session.add(played)
        db.session.flush()
        for row in made:
            db.session.add_all(
                [
                    DelegationPick(round_id=played.id, row_id=row.id, picker_id=person_id, level=5),
                    DelegationPick(
                        round_id=played.id,
                        row_id=row.id,
                        picker_id=manager_id,
                        level=7 if last else 3,
                    ),
                ]
            )
            if not last:
                db.session.add(
                    DelegationAgreement(
                        round_id=played.id,
                        row_id=row.id,
                        level=4,
                        note=f"Agreed {row.decision}",
                        agreed_by_id=manager_id,
                    )
                )
    db.session.flush()
    return board


def add_feedback(requester_id: int, giver_id: int, count: int) -> None:
    for n in range(count):
        request = FeedbackRequest(
            requester_id=requester_id,
            framework_id=framework_id(),
            competency_keys=["skill-0-0"],
            message=f"How did the launch go? {n}",
            due_on=date(2026, 5, 1),
            created_at=START + timedelta(hours=n),
        )
        db.session.add(request)
        db.session.flush()
        db.session.add(
            FeedbackAsk(
                request_id=request.id,
                giver_id=giver_id,
                status=AskStatus.ANSWERED,
                situation="In the launch review",
                behaviour="You cut scope early",
                impact="We shipped on time",
                answered_at=START + timedelta(days=1),
            )
        )
    db.session.flush()


def add_thanks(giver_id: int, recipient_id: int, count: int, evidence_id=None) -> None:
    for n in range(count):
        db.session.add(
            Thanks(
                giver_id=giver_id,
                recipient_id=recipient_id,
                message=f"Thanks for the demo {n}",
                evidence_id=evidence_id,
                created_at=START + timedelta(minutes=n),
            )
        )
    db.session.flush()


def coaching_of_alice(app, org) -> dict:
    """Alice (pm_a1) and her manager Ada: a 1:1 with two meetings, a goal linked to her lesson,
    a board with an agreed round and an open one, feedback both ways, thanks both ways."""
    lesson = record(
        app,
        org.pm_a1,
        title="Pricing test that failed",
        kind=EvidenceKind.LEARNING,
        occurred_on=date(2026, 1, 10),
    )
    with app.app_context():
        item = db.session.get(Evidence, lesson)
        assert item.visibility == Visibility.SHARED
        item.lesson_shared_at = START
        pair = OneOnOne(
            lead_id=org.manager_a.id,
            member_id=org.pm_a1.id,
            kind=PairKind.MANAGER,
            cadence=Cadence.WEEKLY,
        )
        db.session.add(pair)
        db.session.flush()
        meetings = add_meetings(pair.id, org.manager_a.id, org.pm_a1.id, 2)
        goals = add_goals(org.pm_a1.id, org.manager_a.id, 1, [lesson])
        topic = db.session.query(AgendaItem).filter_by(meeting_id=meetings[0].id).one()
        db.session.add_all(
            [
                CoachingLink(agenda_item_id=topic.id, evidence_id=lesson),
                CoachingLink(agenda_item_id=topic.id, goal_id=goals[0].id),
                CoachingLink(
                    agenda_item_id=topic.id, framework_id=framework_id(), competency_key="skill-1-0"
                ),
            ]
        )
        add_board(org.pm_a1.id, org.manager_a.id, 2)
        add_feedback(org.pm_a1.id, org.pm_a2.id, 1)
        add_feedback(org.pm_a2.id, org.pm_a1.id, 1)
        add_thanks(org.pm_a2.id, org.pm_a1.id, 1, evidence_id=lesson)
        add_thanks(org.pm_a1.id, org.pm_a2.id, 1)
        db.session.commit()
        return {"lesson": lesson, "pair": pair.id}
