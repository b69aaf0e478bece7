"""The evidence an assessment links: what the candidate may link per competency and which
linked items the viewer may open."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from app import policy
from app.extensions import db
from app.models import (
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    FrameworkVersion,
    Level,
    PromotionCase,
)

EVIDENCE_SHOWN = 30  # newest items offered per competency (linked ones are always offered)


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence item as an assessment lists it; plain values, so it outlives the commit."""

    id: int
    title: str
    occurred_on: date
    kind: EvidenceKind
    can_open: bool  # the viewer may open its page (policy evidence.view)
    tags: tuple[str, ...] = ()  # names of the assessed competencies it is tagged with (offers)


def item_of(evidence: Evidence, openable: set[int], tags: tuple[str, ...] = ()) -> EvidenceItem:
    return EvidenceItem(
        evidence.id,
        evidence.title,
        evidence.occurred_on,
        evidence.kind,
        evidence.id in openable,
        tags,
    )


def _framework_of(level_id: int):
    return (
        select(FrameworkVersion.framework_id)
        .join(Level, Level.version_id == FrameworkVersion.id)
        .where(Level.id == level_id)
        .scalar_subquery()
    )


def linkable_choices(
    case: PromotionCase, keys: list[str], linked: Mapping[str, list[int]]
) -> tuple[dict[str, list], dict[str, int]]:
    """Per competency, the candidate's shared items tagged with it, newest first (at most
    EVIDENCE_SHOWN, plus any already linked), and how many older ones were left out. One query."""
    if not keys:
        return {}, {}
    linked_ids = {i for ids in linked.values() for i in ids}
    order = (Evidence.occurred_on.desc(), Evidence.id.desc())
    tagged = (
        select(
            EvidenceCompetency.competency_key.label("key"),
            Evidence.id,
            Evidence.title,
            Evidence.occurred_on,
            Evidence.kind,
            func.row_number()
            .over(partition_by=EvidenceCompetency.competency_key, order_by=order)
            .label("position"),
            func.count().over(partition_by=EvidenceCompetency.competency_key).label("total"),
        )
        .join(EvidenceCompetency, EvidenceCompetency.evidence_id == Evidence.id)
        .where(
            Evidence.owner_id == case.candidate_id,
            Evidence.is_visible_to_others,
            EvidenceCompetency.framework_id == _framework_of(case.proposed_level_id),
            EvidenceCompetency.competency_key.in_(keys),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(tagged)
        .where(or_(tagged.c.position <= EVIDENCE_SHOWN, tagged.c.id.in_(linked_ids or {-1})))
        .order_by(tagged.c.key, tagged.c.position)
    ).all()
    choices: dict[str, list] = defaultdict(list)
    more: dict[str, int] = {}
    for row in rows:
        choices[row.key].append(row)
        more[row.key] = row.total
    more = {key: total - len(choices[key]) for key, total in more.items()}
    # Linked items the candidate untagged since: still offered, so that saving keeps the link.
    untagged = linked_ids - {row.id for rows in choices.values() for row in rows}
    if untagged:
        for item in linkable(case.candidate_id, untagged).values():
            for key, ids in linked.items():
                if item.id in ids:
                    choices[key].append(item)
    return choices, more


def tagged_keys(
    case: PromotionCase, keys: list[str], evidence_ids: set[int]
) -> dict[int, set[str]]:
    """Which of `keys` (the assessed competencies) each item is tagged with, in one query."""
    if not keys or not evidence_ids:
        return {}
    rows = db.session.execute(
        select(EvidenceCompetency.evidence_id, EvidenceCompetency.competency_key).where(
            EvidenceCompetency.evidence_id.in_(evidence_ids),
            EvidenceCompetency.framework_id == _framework_of(case.proposed_level_id),
            EvidenceCompetency.competency_key.in_(keys),
        )
    )
    tags: dict[int, set[str]] = defaultdict(set)
    for evidence_id, key in rows:
        tags[evidence_id].add(key)
    return tags


def linkable(candidate_id: int, ids: Iterable[int]) -> dict[int, Evidence]:
    """The candidate's shared items out of the Trash among `ids`."""
    ids = set(ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Evidence).where(
            Evidence.id.in_(ids),
            Evidence.owner_id == candidate_id,
            Evidence.is_visible_to_others,
        )
    )
    return {item.id: item for item in rows}


def openable_ids(viewer, evidence_ids: set[int]) -> set[int]:
    """Which of these items the viewer may open (policy evidence.view), in one query."""
    if not evidence_ids:
        return set()
    return set(
        db.session.scalars(
            select(Evidence.id).where(
                Evidence.id.in_(evidence_ids), policy.evidence_readable_by(viewer)
            )
        )
    )
