"""The case page's assessments panel: the self and manager ratings as the viewer may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import policy
from app.extensions import db
from app.models import CaseRating, PromotionCase, Rating, RatingSource
from app.services.promotions.assessments.evidence_links import EvidenceItem, item_of, openable_ids
from app.services.promotions.assessments.kinds import (
    KINDS,
    linked_visible,
    may_see_ratings,
    rated_competencies,
)


@dataclass(frozen=True)
class RatingView:
    rating: Rating | None
    rationale: str
    rationale_html: Markup  # the rationale's markdown, rendered safe
    evidence: list[EvidenceItem]


@dataclass(frozen=True)
class PanelRow:
    key: str
    name: str
    area: str
    self: RatingView | None  # None: nothing stored, or the viewer may not see it
    manager: RatingView | None


@dataclass(frozen=True)
class Panel:
    rows: list[PanelRow]
    shows_self: bool
    shows_manager: bool
    self_submitted_at: datetime | None
    manager_submitted_at: datetime | None
    self_started: bool
    manager_started: bool
    may_self_assess: bool
    may_manager_assess: bool


def panel(viewer, case: PromotionCase) -> Panel:
    """The self and manager ratings of a case as the viewer may see them, in a fixed number of
    queries (the case comes from loading.case)."""
    shows_self = policy.can(viewer, "case.view_self_assessment", case)
    shows_manager = policy.can(viewer, "case.view_assessment", case)
    sources = [RatingSource.SELF] if shows_self else []
    sources += [RatingSource.MANAGER] if shows_manager else []
    sources = [s for s in sources if may_see_ratings(viewer, case, KINDS[s])]
    stored = _stored(case.id, sources)
    started = {source for source, _key in stored}
    openable = openable_ids(
        viewer, {e.id for row in stored.values() for e in linked_visible(viewer, case, row)}
    )

    def view(source: RatingSource, key: str) -> RatingView | None:
        row = stored.get((source, key))
        if row is None:
            return None
        items = [item_of(e, openable) for e in linked_visible(viewer, case, row)]
        return RatingView(row.rating, row.rationale, row.html("rationale"), items)

    rows = [
        PanelRow(
            c.key, c.name, c.area, view(RatingSource.SELF, c.key), view(RatingSource.MANAGER, c.key)
        )
        for c in rated_competencies(case)
    ]
    return Panel(
        rows=rows,
        shows_self=shows_self,
        shows_manager=shows_manager,
        self_submitted_at=case.self_submitted_at,
        manager_submitted_at=case.manager_submitted_at,
        self_started=RatingSource.SELF in started or bool(case.self_statement),
        manager_started=RatingSource.MANAGER in started,
        may_self_assess=policy.can(viewer, "case.self_assess", case),
        may_manager_assess=policy.can(viewer, "case.manager_assess", case),
    )


def _stored(
    case_id: int, sources: list[RatingSource]
) -> dict[tuple[RatingSource, str], CaseRating]:
    """(source, competency key) → the stored rating with its evidence, for these sources."""
    if not sources:
        return {}
    rows = db.session.scalars(
        select(CaseRating)
        .where(CaseRating.case_id == case_id, CaseRating.source.in_(sources))
        .options(selectinload(CaseRating.evidence))
    )
    return {(row.source, row.competency_key): row for row in rows}
