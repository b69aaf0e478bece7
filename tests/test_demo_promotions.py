"""`flask demo load` includes one finished promotion cycle and one in calibration (issue 5)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    DecisionLogEntry,
    Evidence,
    Level,
    LevelPlacement,
    Outcome,
    PromotionCase,
    PromotionCycle,
    User,
    Vote,
)
from app.policy import can
from tests.demo_copy import load_demo


def test_the_demo_has_a_published_cycle_and_one_in_calibration(app):
    load_demo(app)

    with app.app_context():
        people = {u.name: u for u in db.session.scalars(select(User))}
        cycles = {c.name: c for c in db.session.scalars(select(PromotionCycle))}
        assert cycles["H2 2026"].phase is CyclePhase.PUBLISHED
        assert cycles["H1 2027"].phase is CyclePhase.CALIBRATION
        assert db.session.scalar(select(func.count()).select_from(Evidence)) > 100

        # The finished cycle: Kwame and Noah promoted, Aisha not yet; history keeps the old level.
        decided = {
            c.candidate_id: c
            for c in db.session.scalars(
                select(PromotionCase).where(PromotionCase.cycle_id == cycles["H2 2026"].id)
            )
        }
        kwame, aisha = people["Kwame Mensah"], people["Aisha Bello"]
        assert decided[kwame.id].decision is Outcome.PROMOTE
        assert decided[aisha.id].decision is Outcome.NOT_YET
        assert db.session.get(Level, kwame.level_id).code == "SPM"
        assert db.session.get(Level, aisha.level_id).code == "PM"
        history = db.session.execute(
            select(Level.code, LevelPlacement.ended_at)
            .join(Level, LevelPlacement.level_id == Level.id)
            .where(LevelPlacement.user_id == kwame.id)
            .order_by(LevelPlacement.started_at, LevelPlacement.id)
        ).all()
        assert [code for code, _ended in history] == ["PM", "SPM"]
        assert history[0].ended_at is not None and history[1].ended_at is None

        # Every decision can be traced: votes, a changed rating with its reason, lock, decision.
        entries = db.session.execute(
            select(DecisionLogEntry.action, DecisionLogEntry.reason).where(
                DecisionLogEntry.case_id == decided[aisha.id].id
            )
        ).all()
        assert {"vote", "rating.agreed", "outcome", "decision"} <= {a for a, _r in entries}
        assert any(a == "rating.agreed" and "step below" in r for a, r in entries)
        assert db.session.scalar(
            select(func.count())
            .select_from(DecisionLogEntry)
            .where(
                DecisionLogEntry.cycle_id == cycles["H2 2026"].id,
                DecisionLogEntry.action == "session.locked",
            )
        )

        # The cycle in calibration: Daniel and Priya voted, Tomás not yet, so to him it is blind.
        session = db.session.scalar(
            select(CalibrationSession).where(CalibrationSession.cycle_id == cycles["H1 2027"].id)
        )
        assert not session.is_locked and not session.votes_revealed
        voters = set(db.session.scalars(select(Vote.voter_id).where(Vote.session_id == session.id)))
        assert voters == {people["Daniel Brandt"].id, people["Priya Raman"].id}
        open_case = db.session.scalar(
            select(PromotionCase).where(PromotionCase.session_id == session.id).limit(1)
        )
        assert can(people["Daniel Brandt"], "votes.view", open_case)
        assert not can(people["Tomás Vidal"], "votes.view", open_case)
        assert not can(db.session.get(User, open_case.candidate_id), "case.view_result", open_case)


def test_demo_people_have_a_level_history_and_promoted_ones_count_evidence_since(app, client):
    load_demo(app)

    with app.app_context():
        from app.services.growth.since import level_reached

        people = {u.name: u for u in db.session.scalars(select(User))}
        placed = set(db.session.scalars(select(LevelPlacement.user_id)))
        assert {p.id for p in people.values() if p.level_id} <= placed
        reached = level_reached([people["Ravi Patel"].id, people["Yuki Tanaka"].id])
        # Ravi was promoted to PM since joining, so his evidence counts from then; Yuki has
        # been on her level since she joined, so her whole window counts.
        assert people["Ravi Patel"].id in reached
        assert people["Yuki Tanaka"].id not in reached
        ravi_case = db.session.scalar(
            select(PromotionCase).where(PromotionCase.candidate_id == people["Ravi Patel"].id)
        )

    signed_in = client.post_form(
        "/login", {"email": "maya@orbit.example.com", "password": "rungs-demo-2026"}
    )
    assert signed_in.status_code == 302
    page = client.get(f"/cases/{ravi_case.id}").get_data(as_text=True)
    assert "when Ravi became Product Manager" in page
