"""What differs between the self-assessment and the manager assessment, and the reads both
the pages and saving share: the competencies rated, the stored ratings, the visible links."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import policy
from app.extensions import db
from app.models import CaseRating, Evidence, PromotionCase, Rating, RatingSource
from app.policy.phases import Activity
from app.services.growth.expectations import Expected, competencies_at
from app.services.promotions.log import LogAction

RATIONALE_MAX = 1_000
STATEMENT_MAX = 20_000


@dataclass(frozen=True)
class Kind:
    """What differs between the two assessments."""

    source: RatingSource
    fill: str  # policy action to fill it in
    read: str  # policy action to read it
    activity: Activity
    name: str
    log_action: LogAction


KINDS = {
    RatingSource.SELF: Kind(
        RatingSource.SELF,
        "case.self_assess",
        "case.view_self_assessment",
        Activity.SELF_ASSESS,
        "self-assessment",
        LogAction.SELF_SUBMITTED,
    ),
    RatingSource.MANAGER: Kind(
        RatingSource.MANAGER,
        "case.manager_assess",
        "case.view_assessment",
        Activity.MANAGER_ASSESS,
        "manager assessment",
        LogAction.MANAGER_SUBMITTED,
    ),
}


MANAGER = RatingSource.MANAGER


def kind_of(source: RatingSource) -> Kind:
    if source not in KINDS:
        raise ValueError(f"{source!r} is not an assessment (agreed ratings are calibration's)")
    return KINDS[source]


def statement_of(case: PromotionCase, source: RatingSource) -> str:
    return case.self_statement if source is RatingSource.SELF else case.statement


def statement_html_of(case: PromotionCase, source: RatingSource) -> Markup:
    return case.html("self_statement" if source is RatingSource.SELF else "statement")


def submitted_at_of(case: PromotionCase, source: RatingSource) -> datetime | None:
    return case.self_submitted_at if source is RatingSource.SELF else case.manager_submitted_at


def may_see_ratings(actor, case: PromotionCase, kind: Kind) -> bool:
    """A draft is its author's until submitted: others (who may read the assessment at all)
    see the ratings once it is in."""
    if submitted_at_of(case, kind.source) is not None:
        return True
    if kind.source is RatingSource.SELF:
        return actor.id == case.candidate_id
    return actor.id == case.manager_id or policy.can(actor, kind.fill, case)


def rated_competencies(case: PromotionCase) -> list[Expected]:
    """The competencies that apply at the proposed level, in reading order."""
    return competencies_at([case.proposed_level_id])[case.proposed_level_id]


def stored_ratings(case_id: int, source: RatingSource) -> dict[str, CaseRating]:
    rows = db.session.scalars(
        select(CaseRating)
        .where(CaseRating.case_id == case_id, CaseRating.source == source)
        .options(selectinload(CaseRating.evidence))
    )
    return {row.competency_key: row for row in rows}


def linked_visible(actor, case: PromotionCase, row: CaseRating) -> list[Evidence]:
    """Linked items that may be shown: shared ones still out of the Trash; the candidate also
    sees their own items that they made private or deleted since (nobody else does)."""
    if actor.id == case.candidate_id:
        return list(row.evidence)
    return [e for e in row.evidence if e.is_visible_to_others]


def content_revision(
    statement: str, ratings: Mapping[str, tuple[Rating | None, str, Iterable[int]]]
) -> int:
    """The revision a form carries: a fingerprint of this assessment's own content (its
    statement and, per competency, the rating, rationale and linked evidence ids).

    Not the case's revision: that one moves whenever anything about the case changes (a
    calibration session planned, the other assessment saved), which would turn such a change
    into a conflict with nothing to show. This one moves only when the content someone could
    overwrite changes; an empty rating counts as no rating. 48 bits, so scripts read it exactly.
    """
    parts = sorted(
        [key, rating.value if rating else None, rationale, sorted(ids)]
        for key, (rating, rationale, ids) in ratings.items()
        if rating is not None or rationale or ids
    )
    data = json.dumps([statement, parts], ensure_ascii=False, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(data.encode()).digest()[:6], "big")


def stored_revision(
    case: PromotionCase, source: RatingSource, rows: Mapping[str, CaseRating]
) -> int:
    """The content revision of what is stored (rows from stored_ratings, with their evidence)."""
    return content_revision(
        statement_of(case, source),
        {
            key: (row.rating, row.rationale, [e.id for e in row.evidence])
            for key, row in rows.items()
        },
    )
