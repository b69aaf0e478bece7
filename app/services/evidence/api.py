"""Evidence for the JSON API: the items a caller may read, a page at a time after a cursor, and
the evidence pages' own verbs (record, update with the version check, move to the Trash).

Who reads which item is the policy's `evidence.view`, the filter every evidence page and list
uses; what may be written goes through the same services as the pages' forms, so a script can
do nothing a person could not do in the browser. Reading a page of items takes a fixed number
of queries whatever its length.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import policy
from app.core.errors import ConflictError, ForbiddenError
from app.extensions import db
from app.models import Evidence, EvidenceKind, User, Visibility
from app.services import evidence as evidence_service
from app.services.evidence import timeline
from app.services.evidence.timeline import TimelineFilters

LIMIT_DEFAULT = 25
LIMIT_MAX = 100

# What a PATCH may change: the fields of the page's form.
CHANGEABLE = frozenset(f.name for f in dataclasses.fields(evidence_service.EvidenceInput))


@dataclass(frozen=True)
class Query:
    """Which readable items a caller asks for: the filters of the evidence pages, one person's
    items or everyone's they may read, and where the previous page ended."""

    filters: TimelineFilters = field(default_factory=TimelineFilters)
    owner_id: int | None = None
    after: tuple[date, int] | None = None  # (occurred_on, id) of the last item already read
    limit: int = LIMIT_DEFAULT


@dataclass(frozen=True)
class Tag:
    framework_id: int
    key: str
    name: str  # the competency's name in the published version ("" once it is gone)


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Item:
    """An evidence item as the caller may read it (all of it: the item page shows it all)."""

    id: int
    owner_id: int
    owner_name: str
    title: str
    body: str  # markdown, as typed
    occurred_on: date
    kind: EvidenceKind
    visibility: Visibility
    metric: str
    metric_before: str
    metric_after: str
    metric_unit: str
    links: list[Link]
    competencies: list[Tag]
    created_at: datetime
    updated_at: datetime
    shared_at: datetime | None
    in_trash: bool
    version: int  # send it back with a change: a stale one is a conflict


@dataclass(frozen=True)
class ItemsPage:
    items: list[Item]
    next_after: tuple[date, int] | None  # where the next page starts; None on the last page


def _item(evidence: Evidence, owner: User, names: dict[tuple[int, str], str]) -> Item:
    return Item(
        id=evidence.id,
        owner_id=owner.id,
        owner_name=owner.name,
        title=evidence.title,
        body=evidence.body,
        occurred_on=evidence.occurred_on,
        kind=evidence.kind,
        visibility=evidence.visibility,
        metric=evidence.metric,
        metric_before=evidence.metric_before,
        metric_after=evidence.metric_after,
        metric_unit=evidence.metric_unit,
        links=[Link(link.url, link.label) for link in evidence.links],
        competencies=[
            Tag(t.framework_id, t.competency_key, names.get((t.framework_id, t.competency_key), ""))
            for t in evidence.competencies
        ],
        created_at=evidence.created_at,
        updated_at=evidence.updated_at,
        shared_at=evidence.shared_at,
        in_trash=evidence.in_trash,
        version=evidence.revision,
    )


# --- reading ----------------------------------------------------------------------------------


def readable(viewer: User, query: Query) -> ItemsPage:
    """The items the viewer may read (the policy's evidence.view, as the pages), out of the
    Trash, newest first by date then id, narrowed by the query: four queries for any page."""
    found = select(Evidence).where(
        policy.where("evidence.view", viewer), Evidence.deleted_at.is_(None)
    )
    if query.owner_id is not None:
        found = found.where(Evidence.owner_id == query.owner_id)
    if query.after is not None:
        day, last_id = query.after
        found = found.where(
            or_(
                Evidence.occurred_on < day,
                and_(Evidence.occurred_on == day, Evidence.id < last_id),
            )
        )
    limit = max(1, min(query.limit, LIMIT_MAX))
    rows = list(
        db.session.scalars(
            timeline.narrowed(found, query.filters)
            .order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
            .limit(limit + 1)
            .options(
                joinedload(Evidence.owner),
                selectinload(Evidence.competencies),
                selectinload(Evidence.links),
            )
        )
    )
    shown = rows[:limit]
    names = timeline.names_for(shown)
    last = shown[-1] if len(rows) > limit else None
    return ItemsPage(
        items=[_item(evidence, evidence.owner, names) for evidence in shown],
        next_after=(last.occurred_on, last.id) if last is not None else None,
    )


def item(viewer: User, evidence_id: int) -> Item:
    """One item, if the viewer may read it (else NotFoundError, as its page answers 404)."""
    view = timeline.item_for(viewer, evidence_id)
    return _item(view.evidence, view.owner, view.names)


# --- changing ---------------------------------------------------------------------------------


def record(actor: User, data: evidence_service.EvidenceInput) -> Item:
    """Log an item for the actor, as the page's form does (same checks, history, notices)."""
    created = evidence_service.record_evidence(actor, data)
    return item(actor, created.id)


def _input_of(evidence: Evidence) -> evidence_service.EvidenceInput:
    """The item as stored, in the shape its form sends: what a partial change starts from."""
    return evidence_service.EvidenceInput(
        title=evidence.title,
        occurred_on=evidence.occurred_on,
        kind=evidence.kind,
        competency_keys=[tag.competency_key for tag in evidence.competencies],
        body=evidence.body,
        visibility=evidence.visibility,
        metric=evidence.metric,
        metric_before=evidence.metric_before,
        metric_after=evidence.metric_after,
        metric_unit=evidence.metric_unit,
        links=[(link.url, link.label) for link in evidence.links],
    )


READ_ONLY = "You may read this item but not change it: only the person who logged it can."


def _changeable(actor: User, evidence_id: int) -> Evidence:
    """An item the actor may change (their own). One they may read but not change is
    ForbiddenError (403, it is no secret that it exists); one they may not read is
    NotFoundError (404, as its page answers)."""
    evidence = evidence_service.get_evidence(evidence_id)
    policy.authorize(actor, "evidence.view", evidence)
    if not policy.can(actor, "evidence.edit", evidence):
        raise ForbiddenError(READ_ONLY)
    return evidence


def update(actor: User, evidence_id: int, changes: dict[str, Any], *, version: int) -> Item:
    """Change the fields given, keeping the others, as the page's edit form saves them.

    `version` is the one the caller read: when the item changed since, nothing is stored and
    the ConflictError carries the item as it is now, with its current version.
    """
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not fields of an evidence item: {sorted(unknown)}")
    evidence = _changeable(actor, evidence_id)
    if evidence.revision != version:
        raise ConflictError(
            "The item changed since you read it.",
            current={**evidence_service.snapshot(evidence), "version": evidence.revision},
        )
    data = dataclasses.replace(_input_of(evidence), **changes)
    evidence_service.update_evidence(actor, evidence, data, expected_revision=version)
    db.session.flush()
    return item(actor, evidence.id)


def trash(actor: User, evidence_id: int) -> None:
    """Move the actor's item to the Trash, as the page's Delete button does (restorable there
    for 30 days)."""
    evidence_service.trash_evidence(actor, _changeable(actor, evidence_id))


def restore(actor: User, evidence_id: int) -> Item:
    """Bring the actor's item back from the Trash, as the Trash page's Restore does."""
    evidence = evidence_service.restore_evidence(actor, _changeable(actor, evidence_id))
    return item(actor, evidence.id)
