"""The assessment page: a form for whoever fills it in while it is open, read-only for those
who may read it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from app import policy
from app.core.errors import ValidationError
from app.models import CaseRating, CyclePhase, PromotionCase, Rating, RatingSource
from app.policy import phases
from app.services.growth.expectations import Expected
from app.services.promotions import deadlines, loading
from app.services.promotions.assessments.evidence_links import (
    EvidenceItem,
    item_of,
    linkable_choices,
    openable_ids,
    tagged_keys,
)
from app.services.promotions.assessments.kinds import (
    MANAGER,
    Kind,
    kind_of,
    linked_visible,
    may_see_ratings,
    rated_competencies,
    statement_html_of,
    statement_of,
    stored_ratings,
    stored_revision,
    submitted_at_of,
)


@dataclass(frozen=True)
class Entry:
    """One competency of an assessment: what the level expects and what was said about it."""

    key: str
    name: str
    area: str
    description: str
    expectation: str  # "" while the framework leaves the cell undefined
    indicators: list[tuple[str, list[str]]]
    rating: Rating | None
    rationale: str
    rationale_html: Markup  # the rationale's markdown, rendered safe
    linked: list[EvidenceItem]  # the evidence this rating links to
    choices: list[EvidenceItem] = field(default_factory=list)  # what may be linked (editable)
    more: int = 0  # older tagged items not offered

    @property
    def linked_ids(self) -> list[int]:
        return [item.id for item in self.linked]

    @property
    def is_complete(self) -> bool:
        return self.rating is not None and bool(self.rationale.strip())


@dataclass(frozen=True)
class Assessment:
    case: PromotionCase
    source: RatingSource
    entries: list[Entry]
    statement: str  # SELF: the candidate's statement; MANAGER: the nomination statement
    statement_html: Markup
    submitted_at: datetime | None
    revision: int  # of this assessment's stored content (kinds.content_revision), in the form
    is_editable: bool
    closed_reason: str  # why it cannot be changed (when it cannot)
    due_at: datetime | None = None  # when this assessment's phase is due (UTC)

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def by_area(self) -> list[tuple[str, list[Entry]]]:
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            grouped[entry.area].append(entry)
        return list(grouped.items())

    @property
    def complete_count(self) -> int:
        return sum(1 for entry in self.entries if entry.is_complete)


PHASE_OF = {
    RatingSource.SELF: CyclePhase.SELF_ASSESSMENT,
    RatingSource.MANAGER: CyclePhase.MANAGER_ASSESSMENT,
}


def assessment(actor, case_id: int, source: RatingSource) -> Assessment:
    """The assessment as the actor may see it: a form for the person who fills it in while it
    is open, read-only for those who may read it, NotFoundError for everybody else."""
    kind = kind_of(source)
    case = loading.case(case_id)
    is_editable = policy.can(actor, kind.fill, case)
    if not is_editable:
        policy.authorize(actor, kind.read, case)
    expected = rated_competencies(case)
    shows_ratings = may_see_ratings(actor, case, kind)
    ratings = stored_ratings(case.id, source) if shows_ratings else {}
    linked = {key: [item.id for item in row.evidence] for key, row in ratings.items()}
    choices, more = (
        linkable_choices(case, [e.key for e in expected], linked) if is_editable else ({}, {})
    )
    visible = {key: linked_visible(actor, case, row) for key, row in ratings.items()}
    shown = {item.id for items in [*choices.values(), *visible.values()] for item in items}
    openable = openable_ids(actor, shown)
    offered = {item.id for items in choices.values() for item in items}
    tags = _tag_names(expected, tagged_keys(case, [e.key for e in expected], offered))
    # The nomination statement is the case's from the start; the candidate's is a draft.
    shows_statement = shows_ratings or source is MANAGER
    statement = statement_of(case, source) if shows_statement else ""
    return Assessment(
        case=case,
        source=source,
        entries=[
            _entry(
                competency,
                ratings.get(competency.key),
                [item_of(e, openable) for e in visible.get(competency.key, [])],
                [item_of(i, openable, tags.get(i.id, ())) for i in choices.get(competency.key, [])],
                more.get(competency.key, 0),
            )
            for competency in expected
        ],
        statement=statement,
        statement_html=statement_html_of(case, source) if shows_statement else Markup(""),
        submitted_at=submitted_at_of(case, source),
        revision=stored_revision(case, source, _of_level(ratings, expected)) if is_editable else 0,
        is_editable=is_editable,
        closed_reason="" if is_editable else _closed_reason(actor, case, kind),
        due_at=deadlines.due_at(case.cycle_id, PHASE_OF[source]),
    )


def _of_level(rows: dict, expected: list[Expected]) -> dict:
    """The stored rows of the competencies rated at the level (what saving compares)."""
    keys = {competency.key for competency in expected}
    return {key: row for key, row in rows.items() if key in keys}


def _tag_names(expected: list[Expected], tags: dict[int, set[str]]) -> dict[int, tuple[str, ...]]:
    """Per item, the names of the assessed competencies it is tagged with, in reading order."""
    return {
        item_id: tuple(c.name for c in expected if c.key in keys) for item_id, keys in tags.items()
    }


def _entry(
    competency: Expected,
    row: CaseRating | None,
    linked: list[EvidenceItem],
    choices: list[EvidenceItem],
    more: int,
) -> Entry:
    rationale = row.rationale if row else ""
    return Entry(
        key=competency.key,
        name=competency.name,
        area=competency.area,
        description=competency.description,
        expectation=competency.expectation,
        indicators=competency.indicators,
        rating=row.rating if row else None,
        rationale=rationale,
        rationale_html=row.html("rationale") if row else Markup(""),
        linked=linked,
        choices=choices,
        more=more,
    )


def _closed_reason(actor, case: PromotionCase, kind: Kind) -> str:
    submitted_at = submitted_at_of(case, kind.source)
    if submitted_at is not None:
        return f"Submitted on {submitted_at:%-d %b %Y}; a submitted {kind.name} cannot be changed."
    if not case.is_open:
        return f"This case was withdrawn, so its {kind.name} is closed."
    if not phases.allows(case.cycle.phase, kind.activity):
        try:
            phases.require(case.cycle, kind.activity)
        except ValidationError as error:
            return error.message
    if kind.source is RatingSource.SELF:
        return f"Only {case.candidate.name} fills in their self-assessment."
    return f"Only {case.manager.name} or the head of product fills in the manager assessment."
