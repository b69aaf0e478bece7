"""Growth-plan test data: goals proposed and agreed through the service, as people would."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Goal, GoalStatus, Level, User
from app.services import goals as goal_service


def level_id(app, code: str) -> int:
    with app.app_context():
        return db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()


def goal_input(**changes) -> goal_service.GoalInput:
    values = {
        "competency_key": "skill-0-0",
        "change": "Run discovery with the team instead of for it.",
        "measure": "Two of three bets come from the team's own interviews.",
        "target_on": date(2027, 3, 31),
    }
    values.update(changes)
    return goal_service.GoalInput(**values)


def propose(app, actor, person, **changes) -> int:
    """`actor` proposes a goal on `person`'s plan; returns its id."""
    with app.app_context():
        goal = goal_service.create_goal(
            db.session.get(User, actor.id), person.id, goal_input(**changes)
        )
        db.session.commit()
        return goal.id


def agree(app, actor, goal_id: int) -> None:
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        goal_service.agree_goal(
            db.session.get(User, actor.id), goal, expected_revision=goal.revision
        )
        db.session.commit()


def move(app, actor, goal_id: int, status: GoalStatus, note: str = "") -> None:
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        goal_service.set_status(
            db.session.get(User, actor.id),
            goal,
            status,
            note=note,
            expected_revision=goal.revision,
        )
        db.session.commit()


def link(app, actor, goal_id: int, evidence_id: int) -> None:
    with app.app_context():
        goal_service.link_evidence(
            db.session.get(User, actor.id), db.session.get(Goal, goal_id), evidence_id
        )
        db.session.commit()
