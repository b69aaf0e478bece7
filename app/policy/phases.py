"""The phase rules of a promotion cycle: which activity is open in which phase, and the moves.

nominations → self-assessment → manager assessment → calibration → decisions → published.
Forward moves go one phase at a time; going back to any earlier phase is allowed with a reason,
except from published, which is final (people have moved to their new levels by then).
"""

from __future__ import annotations

import enum

from app.core.errors import ValidationError
from app.models import CalibrationSession, CyclePhase, PromotionCycle


class Activity(enum.StrEnum):
    NOMINATE = "nominate"  # open a case
    WITHDRAW = "withdraw"  # withdraw a case
    SELF_ASSESS = "self_assess"
    MANAGER_ASSESS = "manager_assess"
    PLAN_SESSIONS = "plan_sessions"  # create calibration sessions, choose their people and cases
    VOTE = "vote"  # blind pre-votes
    CALIBRATE = "calibrate"  # agreed ratings, outcomes, reveal, lock and reopen
    DECIDE = "decide"  # the head of product's decision per case


P = CyclePhase
OPEN_IN: dict[Activity, frozenset[CyclePhase]] = {
    Activity.NOMINATE: frozenset({P.NOMINATIONS}),
    Activity.WITHDRAW: frozenset(
        {P.NOMINATIONS, P.SELF_ASSESSMENT, P.MANAGER_ASSESSMENT, P.CALIBRATION}
    ),
    Activity.SELF_ASSESS: frozenset({P.SELF_ASSESSMENT}),
    Activity.MANAGER_ASSESS: frozenset({P.MANAGER_ASSESSMENT}),
    Activity.PLAN_SESSIONS: frozenset(
        {P.NOMINATIONS, P.SELF_ASSESSMENT, P.MANAGER_ASSESSMENT, P.CALIBRATION}
    ),
    Activity.VOTE: frozenset({P.CALIBRATION}),
    Activity.CALIBRATE: frozenset({P.CALIBRATION}),
    Activity.DECIDE: frozenset({P.DECISIONS}),
}

ACTIVITY_LABELS = {
    Activity.NOMINATE: "Nominations",
    Activity.WITHDRAW: "Withdrawing a case",
    Activity.SELF_ASSESS: "Self-assessment",
    Activity.MANAGER_ASSESS: "Manager assessment",
    Activity.PLAN_SESSIONS: "Planning calibration sessions",
    Activity.VOTE: "Voting",
    Activity.CALIBRATE: "Calibration",
    Activity.DECIDE: "Recording decisions",
}


def allows(phase: CyclePhase, activity: Activity) -> bool:
    return phase in OPEN_IN[activity]


def require(cycle: PromotionCycle, activity: Activity) -> None:
    """Raise a ValidationError naming the phases in which `activity` is open."""
    if allows(cycle.phase, activity):
        return
    phases = " or ".join(p.label.lower() for p in CyclePhase if p in OPEN_IN[activity])
    raise ValidationError(
        f"{ACTIVITY_LABELS[activity]} is open during {phases}; "
        f"{cycle.name} is in {cycle.phase.label.lower()}."
    )


def require_unlocked(session: CalibrationSession) -> None:
    if session.is_locked:
        raise ValidationError(
            f"{session.name} is locked; nothing in it can be changed unless the head of "
            "product reopens it."
        )


def check_move(cycle: PromotionCycle, to: CyclePhase, reason: str) -> None:
    """Raise unless moving `cycle` to `to` is a legal move (preconditions on cases are the
    caller's: they need the database)."""
    if to is cycle.phase:
        raise ValidationError(f"{cycle.name} is already in {to.label.lower()}.", field="phase")
    if cycle.phase is CyclePhase.PUBLISHED:
        raise ValidationError(
            f"{cycle.name} is published; a published cycle cannot change phase.", field="phase"
        )
    if to.position > cycle.phase.position:
        if to is not cycle.phase.next:
            raise ValidationError(
                f"Phases move forward one at a time: from {cycle.phase.label.lower()} the next "
                f"is {cycle.phase.next.label.lower()}.",
                field="phase",
            )
        return
    if not reason.strip():
        raise ValidationError(
            "Going back to an earlier phase needs a reason; it is kept in the decision log.",
            field="reason",
        )
