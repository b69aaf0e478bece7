"""Who may generate or download which view of a case's packet.

The rules the lead is asked to move into app/policy.py as `packet.committee` and
`packet.candidate`: the committee view for the head of product and the candidate's manager chain
(the case's manager and everyone above the candidate), never the candidate; the candidate view
for the candidate once the cycle is published, and for anyone who may have the committee view
(it shows less).
"""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import PacketView, PromotionCase, PromotionCycle, Role
from app.policy import SYSTEM
from app.services import org
from app.services.errors import NotFoundError


def may_get_committee(actor: Any, case: PromotionCase) -> bool:
    if actor is SYSTEM:
        return True
    if not _signed_in(actor) or actor.id == case.candidate_id:
        return False
    return (
        actor.role is Role.HEAD
        or actor.id == case.manager_id
        or actor.id in org.managers_above(case.candidate_id)
    )


def may_get_candidate(actor: Any, case: PromotionCase) -> bool:
    if actor is SYSTEM:
        return True
    if not _signed_in(actor):
        return False
    if actor.id == case.candidate_id:
        return db.session.get(PromotionCycle, case.cycle_id).is_published
    return may_get_committee(actor, case)


def may_get(actor: Any, case: PromotionCase, view: PacketView | str) -> bool:
    if PacketView(view) is PacketView.COMMITTEE:
        return may_get_committee(actor, case)
    return may_get_candidate(actor, case)


def views_for(actor: Any, case: PromotionCase) -> list[PacketView]:
    """The views the actor may have, committee first."""
    return [view for view in PacketView if may_get(actor, case, view)]


def authorize(actor: Any, case_id: int, view: PacketView | str) -> PromotionCase:
    """The case if the actor may have this view of its packet; else NotFoundError (404)."""
    try:
        view = PacketView(view)
    except ValueError:
        raise NotFoundError("Not found.") from None
    case = db.session.get(PromotionCase, case_id)
    if case is None or not may_get(actor, case, view):
        raise NotFoundError("Not found.")
    return case


def _signed_in(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and actor.is_active)
