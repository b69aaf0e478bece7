"""Reading evidence for its pages: the owner's timeline with filters and search, an item, the Trash.

Every function here runs a fixed number of queries whatever the amount of evidence: tags come in
with one `selectinload`, competency names with one query, and nothing is lazily loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from app import policy
from app.extensions import db
from app.models import Evidence, EvidenceCompetency, EvidenceKind, User, Visibility
from app.services import evidence as evidence_service

PER_PAGE = 20
SEARCH_WORDS_MAX = 8  # more words than this narrow nothing down and only slow the query
SEARCH_LENGTH_MAX = 200


@dataclass(frozen=True)
class TimelineFilters:
    """What the owner narrowed the timeline to; empty values mean "any"."""

    search: str = ""
    competency: str = ""  # a competency key of the owner's current framework
    kind: EvidenceKind | None = None
    visibility: Visibility | None = None
    since: date | None = None
    until: date | None = None

    @property
    def is_active(self) -> bool:
        return bool(
            self.search_words
            or self.competency
            or self.kind
            or self.visibility
            or self.since
            or self.until
        )

    @property
    def search_words(self) -> list[str]:
        """The distinct words of the search, in order, at most SEARCH_WORDS_MAX of them."""
        words: list[str] = []
        for word in self.search[:SEARCH_LENGTH_MAX].split():
            folded = word.lower()
            if folded not in words:
                words.append(folded)
        return words[:SEARCH_WORDS_MAX]


@dataclass
class Timeline:
    page: Pagination
    names: dict[tuple[int, str], str]  # (framework id, key) → current competency name


@dataclass
class ItemView:
    evidence: Evidence
    owner: User
    names: dict[tuple[int, str], str]
    is_owner: bool


def timeline(owner: User, filters: TimelineFilters, page: int = 1) -> Timeline:
    """One page of the owner's own evidence, newest first, narrowed by the filters."""
    framework_id = None
    if filters.competency:  # tags name their framework: the owner's current one
        version = evidence_service.published_version_of(owner.id)
        framework_id = version.framework_id if version else None
    query = filtered_query(owner.id, filters, framework_id)
    result = db.paginate(
        query.options(selectinload(Evidence.competencies)),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return Timeline(page=result, names=names_for(result.items))


def filtered_query(owner_id: int, filters: TimelineFilters, framework_id: int | None):
    """The owner's evidence outside the Trash, narrowed by the filters, newest first.

    The search is portable across SQLite and PostgreSQL: every word must occur in the title or
    the body, case-insensitively (lower() on both sides), with % and _ matched literally.
    SQLite's lower() folds ASCII letters only, so there "Über" does not find "über".
    """
    query = select(Evidence).where(Evidence.owner_id == owner_id, Evidence.deleted_at.is_(None))
    tags = EvidenceCompetency.framework_id == framework_id
    return narrowed(query, filters, tags).order_by(Evidence.occurred_on.desc(), Evidence.id.desc())


def narrowed(query, filters: TimelineFilters, tags: ColumnElement[bool] | None = None):
    """`query` over Evidence narrowed by the filters (the timeline's and the API's).

    A competency filter matches the items tagged with its key by a tag that also meets `tags`
    (the timeline: a tag of the owner's current framework); without `tags`, a tag of any
    framework.
    """
    if filters.kind:
        query = query.where(Evidence.kind == filters.kind)
    if filters.visibility:
        query = query.where(Evidence.visibility == filters.visibility)
    if filters.since:
        query = query.where(Evidence.occurred_on >= filters.since)
    if filters.until:
        query = query.where(Evidence.occurred_on <= filters.until)
    if filters.competency:
        tagged = select(EvidenceCompetency.evidence_id).where(
            EvidenceCompetency.competency_key == filters.competency
        )
        if tags is not None:
            tagged = tagged.where(tags)
        query = query.where(Evidence.id.in_(tagged))
    for word in filters.search_words:
        query = query.where(_matches(word))
    return query


def _matches(word: str):
    return or_(
        func.lower(Evidence.title).contains(word, autoescape=True),
        func.lower(Evidence.body).contains(word, autoescape=True),
    )


def names_for(items: list[Evidence]) -> dict[tuple[int, str], str]:
    """Current competency names for the tags of these items, in one query."""
    return evidence_service.competency_names(
        {tag.framework_id for item in items for tag in item.competencies}
    )


def item_for(viewer: User, evidence_id: int) -> ItemView:
    """One item with its tags' current names and its owner, if the viewer may see it (else 404)."""
    evidence = evidence_service.get_evidence(evidence_id)
    policy.authorize(viewer, "evidence.view", evidence)
    owner = viewer if evidence.owner_id == viewer.id else db.session.get(User, evidence.owner_id)
    return ItemView(
        evidence=evidence,
        owner=owner,
        names=names_for([evidence]),
        is_owner=evidence.owner_id == viewer.id,
    )


def editable(actor: User, evidence_id: int) -> Evidence:
    """An item the actor may change (their own), with its tags and links; others get 404."""
    evidence = evidence_service.get_evidence(evidence_id)
    policy.authorize(actor, "evidence.edit", evidence)
    return evidence


def trash(owner: User, page: int = 1) -> Pagination:
    """The owner's Trash, most recently deleted first."""
    return db.paginate(
        evidence_service.trash_query(owner.id),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
