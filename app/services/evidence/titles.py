"""Evidence titles for pages that name items they only point at (the inbox, thanks)."""

from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Evidence, User


def readable_titles(viewer: User, evidence_ids: set[int]) -> dict[int, str]:
    """Titles of the items among these that the viewer may open (evidence.view), in one query;
    an item they may not open is absent, so nothing names it."""
    if not evidence_ids:
        return {}
    rows = db.session.execute(
        select(Evidence.id, Evidence.title).where(
            Evidence.id.in_(evidence_ids), policy.where("evidence.view", viewer)
        )
    ).all()
    return {evidence_id: title for evidence_id, title in rows}
