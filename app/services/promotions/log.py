"""The decision log: append-only, written in the same transaction as the change it records."""

from __future__ import annotations

import enum
from typing import Any

from app.extensions import db
from app.models import DecisionLogEntry


class LogAction(enum.StrEnum):
    CYCLE_OPENED = "cycle.opened"
    PHASE_FORWARD = "phase.forward"
    PHASE_BACK = "phase.back"
    CASE_OPENED = "case.opened"
    CASE_WITHDRAWN = "case.withdrawn"
    SELF_SUBMITTED = "self.submitted"
    MANAGER_SUBMITTED = "manager.submitted"
    SESSION_CREATED = "session.created"
    SESSION_CHANGED = "session.changed"  # people or cases in scope
    VOTE = "vote"
    VOTES_REVEALED = "votes.revealed"
    AGREED_RATING = "rating.agreed"
    OUTCOME = "outcome"
    SESSION_LOCKED = "session.locked"
    SESSION_REOPENED = "session.reopened"
    DECISION = "decision"
    CYCLE_PUBLISHED = "cycle.published"
    LEVEL_CHANGED = "level.changed"
    DEADLINE_SET = "deadline.set"
    DEADLINE_CHANGED = "deadline.changed"

    @property
    def label(self) -> str:
        return LOG_LABELS[self]


LOG_LABELS = {
    LogAction.CYCLE_OPENED: "Cycle opened",
    LogAction.PHASE_FORWARD: "Phase moved forward",
    LogAction.PHASE_BACK: "Phase moved back",
    LogAction.CASE_OPENED: "Case opened",
    LogAction.CASE_WITHDRAWN: "Case withdrawn",
    LogAction.SELF_SUBMITTED: "Self-assessment submitted",
    LogAction.MANAGER_SUBMITTED: "Manager assessment submitted",
    LogAction.SESSION_CREATED: "Session created",
    LogAction.SESSION_CHANGED: "Session changed",
    LogAction.VOTE: "Vote",
    LogAction.VOTES_REVEALED: "Votes revealed",
    LogAction.AGREED_RATING: "Agreed rating",
    LogAction.OUTCOME: "Outcome",
    LogAction.SESSION_LOCKED: "Session locked",
    LogAction.SESSION_REOPENED: "Session reopened",
    LogAction.DECISION: "Decision",
    LogAction.CYCLE_PUBLISHED: "Cycle published",
    LogAction.LEVEL_CHANGED: "Level changed",
    LogAction.DEADLINE_SET: "Due date set",
    LogAction.DEADLINE_CHANGED: "Due date changed",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))[:200]


def record(
    actor: Any,
    action: LogAction,
    *,
    cycle_id: int,
    case_id: int | None = None,
    session_id: int | None = None,
    competency_key: str | None = None,
    from_value: Any = None,
    to_value: Any = None,
    reason: str = "",
) -> DecisionLogEntry:
    """Append one entry; enum values are stored as their value (labels are for display)."""
    entry = DecisionLogEntry(
        actor_id=getattr(actor, "id", None),
        action=action.value,
        cycle_id=cycle_id,
        case_id=case_id,
        session_id=session_id,
        competency_key=competency_key,
        from_value=_text(from_value),
        to_value=_text(to_value),
        reason=reason,
    )
    db.session.add(entry)
    return entry
