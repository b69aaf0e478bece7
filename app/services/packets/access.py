"""Who may generate or download which view of a case's packet: the policy's packet.committee
and packet.candidate rules (app/policy/packets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import Packet, PacketView, PromotionCase


def may_get(actor: Any, case: PromotionCase, view: PacketView | str) -> bool:
    """The policy's packet.committee or packet.candidate rule."""
    return policy.can(actor, f"packet.{PacketView(view).value}", case)


def views_for(actor: Any, case: PromotionCase) -> list[PacketView]:
    """The views the actor may have, committee first."""
    return [view for view in PacketView if may_get(actor, case, view)]


VERSIONS_SHOWN = 20


@dataclass(frozen=True)
class Panel:
    """What the case page's packet panel shows the signed-in person."""

    views: list[PacketView]
    versions: list[Packet]  # newest first, generated_by loaded
    total: int  # how many versions there are in those views


def case_panel(actor: Any, case: PromotionCase) -> Panel | None:
    """The views of the case's packet the actor may have and the stored versions of them; None
    when they may have none (a fixed number of queries)."""
    views = views_for(actor, case)
    if not views:
        return None
    in_views = (Packet.case_id == case.id, Packet.view.in_(views))
    versions = db.session.scalars(
        select(Packet)
        .where(*in_views)
        .options(joinedload(Packet.generated_by))
        .order_by(Packet.generated_at.desc(), Packet.id.desc())
        .limit(VERSIONS_SHOWN)
    ).all()
    total = len(versions)
    if total == VERSIONS_SHOWN:
        total = db.session.scalar(select(func.count()).select_from(Packet).where(*in_views))
    return Panel(views=views, versions=list(versions), total=total)


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
