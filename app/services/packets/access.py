"""Who may generate or download which view of a case's packet: the policy's packet.committee
and packet.candidate rules (app/policy/packets.py)."""

from __future__ import annotations

from typing import Any

from app import policy
from app.extensions import db
from app.models import PacketView, PromotionCase
from app.services.errors import NotFoundError


def may_get(actor: Any, case: PromotionCase, view: PacketView | str) -> bool:
    """The policy's packet.committee or packet.candidate rule."""
    return policy.can(actor, f"packet.{PacketView(view).value}", case)


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
