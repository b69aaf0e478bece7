"""The candidate's growth-plan goals as a packet's committee view shows them, when the cycle
says so (PromotionCycle.packets_show_goals); never in the candidate view (assembly decides).

Goals are shown as they stood at the packet's anchor (the decision, else the cycle's
publication): a goal is rebuilt from its current values by undoing, newest first, the audited
changes made after the anchor, so a decided case's packet does not change when the plan does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Evidence, Goal, GoalStatus, Level, Visibility
from app.models.goals import goal_evidence
from app.services.evidence import competency_names
from app.services.goals import snapshot
from app.services.packets import data as d

_LINKED, _UNLINKED = "goal.evidence_linked", "goal.evidence_unlinked"


def packet_goals(
    candidate_id: int, framework_id: int, anchor: datetime
) -> tuple[tuple[d.GoalLine, ...], list[datetime]]:
    """The candidate's goals in the packet's framework that were agreed at `anchor`, as they
    were then, in the order they were proposed, with the moments they last changed by then (for
    the packet's "data as of"). Five queries."""
    goals = list(
        db.session.execute(
            select(Goal)
            .where(
                Goal.person_id == candidate_id,
                Goal.framework_id == framework_id,
                Goal.created_at <= anchor,
            )
            .order_by(Goal.created_at, Goal.id)
        ).scalars()
    )
    if not goals:
        return (), []
    ids = [goal.id for goal in goals]
    events: dict[int, list[AuditEvent]] = {goal_id: [] for goal_id in ids}
    for event in db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.entity_type == Goal.__tablename__, AuditEvent.entity_id.in_(ids))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).scalars():
        events[event.entity_id].append(event)
    links: dict[int, set[int]] = {goal_id: set() for goal_id in ids}
    for goal_id, evidence_id in db.session.execute(
        select(goal_evidence.c.goal_id, goal_evidence.c.evidence_id).where(
            goal_evidence.c.goal_id.in_(ids)
        )
    ):
        links[goal_id].add(evidence_id)
    states = [_at(goal, events[goal.id], links[goal.id], anchor) for goal in goals]
    states = [state for state in states if state["agreed_by_id"] is not None]
    if not states:
        return (), []
    shared = set(
        db.session.execute(
            select(Evidence.id).where(
                Evidence.owner_id == candidate_id,
                Evidence.visibility == Visibility.SHARED,
                Evidence.deleted_at.is_(None),
            )
        ).scalars()
    )
    level_ids = {state["target_level_id"] for state in states} - {None}
    levels = {
        level.id: f"{level.title} ({level.code})"
        for level in db.session.execute(select(Level).where(Level.id.in_(level_ids))).scalars()
    }
    names = competency_names({framework_id})
    lines = tuple(
        d.GoalLine(
            competency=names.get((framework_id, s["competency_key"]), s["competency_key"]),
            level=levels.get(s["target_level_id"], ""),
            change=s["change"],
            measure=s["measure"],
            status=GoalStatus(s["status"]).label,
            outcome=s["outcome"] or "",
            dropped_reason=s["dropped_reason"] or "",
            proposed_on=s["created_at"].date(),
            agreed_on=s["agreed_at"].date() if s["agreed_at"] else None,
            target_on=_day(s["target_on"]),
            closed_on=s["closed_at"].date() if s["closed_at"] else None,
            evidence=len(s["evidence"] & shared),
        )
        for s in states
    )
    return lines, [s["changed_at"] for s in states]


def _at(goal: Goal, events: list[AuditEvent], linked: set[int], anchor: datetime) -> dict:
    """The goal's values at `anchor`: today's, with every later audited change undone."""
    state: dict[str, Any] = {**snapshot(goal), "evidence": set(linked)}
    for event in reversed([e for e in events if e.at > anchor]):
        if event.action == _LINKED:
            state["evidence"].discard((event.after or {}).get("evidence_id"))
        elif event.action == _UNLINKED:
            state["evidence"].add((event.before or {}).get("evidence_id"))
        else:
            state.update(event.before or {})
    earlier = [e for e in events if e.at <= anchor]
    agreed = [e.at for e in earlier if e.action == "goal.agreed"]
    moved = [e.at for e in earlier if e.action == "goal.status"]
    closed = state["status"] in (GoalStatus.DONE.value, GoalStatus.DROPPED.value)
    state["created_at"] = goal.created_at
    state["agreed_at"] = agreed[-1] if agreed and state["agreed_by_id"] is not None else None
    state["closed_at"] = moved[-1] if moved and closed else None
    state["changed_at"] = earlier[-1].at if earlier else goal.created_at
    return state


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value
