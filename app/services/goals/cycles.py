"""The per-cycle setting that lets committee packets show the candidate's growth-plan goals."""

from __future__ import annotations

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import PromotionCycle, User
from app.services import audit


def set_packets_show_goals(actor: User, cycle_id: int, show: bool) -> PromotionCycle:
    """Turn on or off the candidate's goals in the cycle's committee packets (audited)."""
    policy.authorize(actor, "cycles.manage")
    cycle = db.session.get(PromotionCycle, cycle_id)
    if cycle is None:
        raise NotFoundError("Not found.")
    if bool(cycle.packets_show_goals) != show:
        before = {"packets_show_goals": bool(cycle.packets_show_goals)}
        cycle.packets_show_goals = show
        db.session.flush()
        audit.record(
            actor,
            "cycle.packets_show_goals",
            cycle,
            before=before,
            after={"packets_show_goals": show},
        )
    return cycle
