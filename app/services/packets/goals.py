"""The candidate's growth-plan goals as a packet's committee view shows them, when the cycle
says so (PromotionCycle.packets_show_goals); never in the candidate view (assembly decides)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Evidence, Goal, Visibility
from app.models.goals import goal_evidence
from app.services.evidence import competency_names
from app.services.packets import data as d


def packet_goals(
    candidate_id: int, framework_id: int
) -> tuple[tuple[d.GoalLine, ...], list[datetime]]:
    """The candidate's agreed goals in the packet's framework, in the order they were proposed,
    with the moments they last changed (for the packet's "data as of"). Three queries."""
    goals = list(
        db.session.execute(
            select(Goal)
            .where(
                Goal.person_id == candidate_id,
                Goal.framework_id == framework_id,
                Goal.agreed_at.is_not(None),
            )
            .options(joinedload(Goal.target_level))
            .order_by(Goal.created_at, Goal.id)
        ).scalars()
    )
    if not goals:
        return (), []
    counts = dict(
        db.session.execute(
            select(goal_evidence.c.goal_id, func.count())
            .join(Evidence, Evidence.id == goal_evidence.c.evidence_id)
            .where(
                goal_evidence.c.goal_id.in_([goal.id for goal in goals]),
                Evidence.visibility == Visibility.SHARED,
                Evidence.deleted_at.is_(None),
            )
            .group_by(goal_evidence.c.goal_id)
        ).all()
    )
    names = competency_names({framework_id})
    lines = tuple(
        d.GoalLine(
            competency=names.get((framework_id, goal.competency_key), goal.competency_key),
            level=(
                f"{goal.target_level.title} ({goal.target_level.code})" if goal.target_level else ""
            ),
            change=goal.change,
            measure=goal.measure,
            status=goal.status.label,
            outcome=goal.outcome,
            dropped_reason=goal.dropped_reason,
            proposed_on=goal.created_at.date(),
            agreed_on=goal.agreed_at.date() if goal.agreed_at else None,
            target_on=goal.target_on,
            closed_on=goal.closed_at.date() if goal.closed_at else None,
            evidence=counts.get(goal.id, 0),
        )
        for goal in goals
    )
    return lines, [goal.updated_at for goal in goals]
