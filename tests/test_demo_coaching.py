"""`flask demo load` includes a season of coaching (issue 14): 1:1s, goals, delegation boards,
feedback, thanks and lessons, and loading it again adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    CoachingLink,
    DelegationBoard,
    DelegationRound,
    Evidence,
    FeedbackAsk,
    FeedbackRequest,
    Goal,
    GoalStatus,
    Meeting,
    Notification,
    OneOnOne,
    PrivateNote,
    Thanks,
    User,
)
from app.models.base import utcnow
from tests.demo_copy import load_demo

PASSWORD = "rungs-demo-2026"
COUNTED = (
    OneOnOne,
    Meeting,
    AgendaItem,
    PrivateNote,
    ActionItem,
    CoachingLink,
    Goal,
    DelegationBoard,
    DelegationRound,
    FeedbackRequest,
    FeedbackAsk,
    Thanks,
    Notification,
)


def _counts() -> dict[str, int]:
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    counts["lessons"] = db.session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.lesson_shared_at.is_not(None))
    )
    return counts


def _sign_in(client, name: str) -> None:
    response = client.post_form(
        "/login", {"email": f"{name}@orbit.example.com", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_daniel_sees_his_1on1s_with_lena_and_a_carried_over_action(app, client):
    load_demo(app)
    with app.app_context():
        people = {u.name: u for u in db.session.scalars(select(User))}
        daniel, lena = people["Daniel Brandt"], people["Lena Fischer"]
        pair = db.session.scalar(
            select(OneOnOne).where(OneOnOne.lead_id == daniel.id, OneOnOne.member_id == lena.id)
        )
        meetings = db.session.scalars(
            select(Meeting).where(Meeting.one_on_one_id == pair.id).order_by(Meeting.starts_at)
        ).all()
        now = utcnow()
        past = [m for m in meetings if m.starts_at < now]
        upcoming = [m for m in meetings if m.starts_at > now]
        # Fortnightly over about four months, and the next one ahead.
        assert len(past) >= 7 and len(upcoming) == 1
        assert (now - past[0].starts_at).days <= 130
        latest_past = past[-1].id
        mentoring = db.session.scalar(
            select(OneOnOne).where(
                OneOnOne.lead_id == lena.id, OneOnOne.member_id == people["Kwame Mensah"].id
            )
        )
        assert mentoring is not None and mentoring.cadence.value == "monthly"
        # Nothing else is in the future: every action item was raised in a past meeting.
        assert (
            db.session.scalar(
                select(func.count()).select_from(ActionItem).where(ActionItem.created_at > now)
            )
            == 0
        )

    _sign_in(client, "daniel")
    space = client.get(f"/one-on-ones/{pair.id}").get_data(as_text=True)
    assert "Lena Fischer" in space
    page = client.get(f"/one-on-ones/meetings/{latest_past}").get_data(as_text=True)
    assert "Carried over from earlier meetings" in page
    assert "Write up the onboarding-funnel retro for the team" in page
    assert "overdue" in page
    # Daniel's private note is his; Lena's is not shown to him.
    assert "Ready for GPM conversations" in page
    lena_page = client.get(f"/one-on-ones/meetings/{past[3].id}").get_data(as_text=True)
    assert "block Thursday morning" not in lena_page


def test_goals_boards_feedback_and_thanks_are_there(app, client):
    load_demo(app)
    with app.app_context():
        people = {u.name: u for u in db.session.scalars(select(User))}
        lena, kwame = people["Lena Fischer"], people["Kwame Mensah"]
        statuses = set(db.session.scalars(select(Goal.status)))
        assert statuses == set(GoalStatus)
        done = db.session.scalar(select(Goal).where(Goal.status == GoalStatus.DONE))
        assert done.outcome and done.closed_at < utcnow()
        dropped = db.session.scalar(select(Goal).where(Goal.status == GoalStatus.DROPPED))
        assert dropped.dropped_reason
        awaiting = db.session.scalars(select(Goal).where(Goal.agreed_by_id.is_(None))).all()
        assert len(awaiting) == 1
        rounds = {
            board: [(r.closed_at is not None, r.revealed_at is not None) for r in found]
            for board, found in (
                (
                    person.name,
                    db.session.scalars(
                        select(DelegationRound)
                        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
                        .where(DelegationBoard.person_id == person.id)
                        .order_by(DelegationRound.number)
                    ).all(),
                )
                for person in (lena, kwame)
            )
        }
        assert rounds["Lena Fischer"] == [(True, True), (True, True)]
        assert rounds["Kwame Mensah"] == [(False, False)]
        asks = db.session.scalars(select(FeedbackAsk)).all()
        assert any(a.shared_with_manager_at for a in asks)
        assert any(a.answered_at is None for a in asks)
        assert db.session.scalar(select(func.count()).select_from(Thanks)) >= 4
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Evidence)
                .where(Evidence.lesson_shared_at.is_not(None))
            )
            == 2
        )
        # Unread notifications stay a handful per person.
        unread = db.session.execute(
            select(Notification.recipient_id, func.count())
            .where(Notification.read_at.is_(None))
            .group_by(Notification.recipient_id)
        ).all()
        assert all(count <= 8 for _id, count in unread)

    _sign_in(client, "lena")
    board = client.get(f"/people/{lena.id}/delegation").get_data(as_text=True)
    assert "2 rounds agreed" in board
    plan = client.get(f"/people/{lena.id}/goals").get_data(as_text=True)
    assert "Coach Kwame to run discovery on his own" in plan


def test_loading_the_demo_twice_adds_nothing(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        before = _counts()
    again = runner.invoke(args=["demo", "load", "--force"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert _counts() == before
    assert runner.invoke(args=["demo", "load", "--if-empty"]).exit_code == 0
    with app.app_context():
        assert _counts() == before


def test_the_board_agreed_some_rows_above_what_the_level_expects(app):
    load_demo(app)
    with app.app_context():
        from app.models import DelegationAgreement, DelegationRow

        lena = db.session.scalar(select(User).where(User.name == "Lena Fischer"))
        agreed = db.session.execute(
            select(DelegationRound.number, DelegationAgreement.level, DelegationRow.expected)
            .join(DelegationRound, DelegationRound.id == DelegationAgreement.round_id)
            .join(DelegationRow, DelegationRow.id == DelegationAgreement.row_id)
            .join(DelegationBoard, DelegationBoard.id == DelegationRow.board_id)
            .where(DelegationBoard.person_id == lena.id)
        ).all()
        first = sum(level for number, level, _e in agreed if number == 1)
        second = sum(level for number, level, _e in agreed if number == 2)
        assert second > first
        assert any(level > (expected or 0) for number, level, expected in agreed if number == 2)
