"""The assessments a person has to fill in now, with how far along they are, for their home
page: their own self-assessment, and the manager assessments of their reports' cases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import CaseRating, CyclePhase, PromotionCase, PromotionCycle, RatingSource
from app.services.growth.expectations import competencies_at
from app.services.promotions.assessments.kinds import KINDS

OPEN_PHASES = (CyclePhase.SELF_ASSESSMENT, CyclePhase.MANAGER_ASSESSMENT)


@dataclass(frozen=True)
class Due:
    """One assessment the person may fill in now."""

    case_id: int
    source: RatingSource
    candidate_name: str
    cycle_name: str
    proposed_level: str
    done: int  # competencies rated and explained
    total: int

    @property
    def is_self(self) -> bool:
        return self.source is RatingSource.SELF

    @property
    def started(self) -> bool:
        return self.done > 0


def due(actor) -> list[Due]:
    """What the actor has to assess now, their own self-assessment first; policy decides each
    (phase, withdrawn, submitted). Three queries whatever the number of cases."""
    cases = (
        db.session.execute(
            select(PromotionCase)
            .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
            .where(
                PromotionCycle.phase.in_(OPEN_PHASES),
                PromotionCase.withdrawn_at.is_(None),
                or_(PromotionCase.candidate_id == actor.id, PromotionCase.manager_id == actor.id),
            )
            .options(
                joinedload(PromotionCase.cycle),
                joinedload(PromotionCase.candidate),
                joinedload(PromotionCase.proposed_level),
            )
            .order_by(PromotionCycle.created_at, PromotionCase.id)
        )
        .scalars()
        .all()
    )
    wanted = [
        (case, source)
        for source in (RatingSource.SELF, RatingSource.MANAGER)
        for case in cases
        if policy.can(actor, KINDS[source].fill, case)
    ]
    if not wanted:
        return []
    done = completed({case.id for case, _ in wanted})
    expected = competencies_at({case.proposed_level_id for case, _ in wanted})
    return [
        Due(
            case_id=case.id,
            source=source,
            candidate_name=case.candidate.name,
            cycle_name=case.cycle.name,
            proposed_level=case.proposed_level.title,
            done=min(done[(case.id, source)], len(expected[case.proposed_level_id])),
            total=len(expected[case.proposed_level_id]),
        )
        for case, source in wanted
    ]


def completed(case_ids: set[int]) -> Counter:
    """(case id, source) → how many competencies are rated and explained (one query)."""
    rows = db.session.execute(
        select(CaseRating.case_id, CaseRating.source, func.count())
        .where(
            CaseRating.case_id.in_(case_ids),
            CaseRating.rating.is_not(None),
            func.length(func.trim(CaseRating.rationale)) > 0,
        )
        .group_by(CaseRating.case_id, CaseRating.source)
    ).all()
    return Counter({(case_id, source): count for case_id, source, count in rows})
