"""An evidence item's history: every saved state, and what changed from one to the next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.infra.text_diff import Segment, word_diff
from app.models import Evidence, EvidenceKind, User, Visibility
from app.services import evidence as evidence_service

ACTIONS = {
    "created": "Created",
    "edited": "Edited",
    "shared": "Shared with manager and mentors",
    "deleted": "Moved to the Trash",
    "restored": "Restored from the Trash",
}
VISIBILITY_LABELS = {
    Visibility.PRIVATE.value: "Private draft",
    Visibility.SHARED.value: "Shared with manager and mentors",
}


@dataclass(frozen=True)
class Change:
    """One field that differs between two saved states."""

    label: str
    before: str = ""
    after: str = ""
    segments: list[Segment] = field(default_factory=list)  # word by word, for the texts
    added: list[str] = field(default_factory=list)  # for lists: links, competencies
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    number: int
    action: str
    changed_by: str | None
    changed_at: datetime
    changes: list[Change]
    is_first: bool  # the first state this viewer may see: nothing to compare it with


def history(viewer: User, evidence: Evidence) -> list[Entry]:
    """Every revision the viewer may see, newest first, each with what it changed.

    The owner sees every revision. Others see only the states that were shared (a draft's
    wording before it was shared stays private), each compared with the previous shared one.
    """
    policy.authorize(viewer, "evidence.view", evidence)
    rows = list(reversed(evidence_service.revisions(evidence)))
    if evidence.owner_id != viewer.id:
        rows = [row for row in rows if row.snapshot.get("visibility") == Visibility.SHARED.value]
    people = _names_of({row.changed_by_id for row in rows if row.changed_by_id})
    competencies = _competency_names(evidence)
    entries, previous = [], None
    for row in rows:
        entries.append(
            Entry(
                number=row.number,
                action=ACTIONS.get(row.action, row.action.capitalize()),
                changed_by=people.get(row.changed_by_id),
                changed_at=row.changed_at,
                changes=changes(previous, row.snapshot, competencies) if previous else [],
                is_first=previous is None,
            )
        )
        previous = row.snapshot
    return list(reversed(entries))


def changes(before: dict[str, Any], after: dict[str, Any], names: dict[str, str]) -> list[Change]:
    """Field by field, what differs between two snapshots (see evidence.snapshot)."""
    found = [
        _text("Title", before.get("title", ""), after.get("title", "")),
        _value("Date", _date(before.get("occurred_on")), _date(after.get("occurred_on"))),
        _value("Kind", _kind(before.get("kind")), _kind(after.get("kind"))),
        _value(
            "Visibility",
            VISIBILITY_LABELS.get(before.get("visibility"), ""),
            VISIBILITY_LABELS.get(after.get("visibility"), ""),
        ),
        _value("Outcome", outcome_text(before), outcome_text(after)),
        _text("What happened", before.get("body", ""), after.get("body", "")),
        _listed(
            "Competencies",
            [names.get(key, key) for key in before.get("competencies", [])],
            [names.get(key, key) for key in after.get("competencies", [])],
        ),
        _listed("Links", _links(before), _links(after)),
    ]
    return [change for change in found if change is not None]


def outcome_text(values: dict[str, Any]) -> str:
    """ "Activation: 31 → 38 %", or "" when there is no outcome."""
    if not values.get("metric"):
        return ""
    unit = f" {values['metric_unit']}" if values.get("metric_unit") else ""
    before, after = values.get("metric_before", ""), values.get("metric_after", "")
    return f"{values['metric']}: {before} → {after}{unit}"


def _text(label: str, before: str, after: str) -> Change | None:
    if before == after:
        return None
    return Change(label, before, after, segments=word_diff(before, after))


def _value(label: str, before: str, after: str) -> Change | None:
    return None if before == after else Change(label, before or "—", after or "—")


def _listed(label: str, before: list[str], after: list[str]) -> Change | None:
    added = [item for item in after if item not in before]
    removed = [item for item in before if item not in after]
    if not added and not removed:
        return None
    return Change(label, added=added, removed=removed)


def _links(values: dict[str, Any]) -> list[str]:
    return [
        f"{link['label']} ({link['url']})" if link.get("label") else link.get("url", "")
        for link in values.get("links", [])
    ]


def _date(value: str | None) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value)
    return f"{day.day} {day.strftime('%b %Y')}"


def _kind(value: str | None) -> str:
    try:
        return EvidenceKind(value).label
    except ValueError:
        return value or ""


def _names_of(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _competency_names(evidence: Evidence) -> dict[str, str]:
    """Key → current name, for the frameworks the item is tagged in (snapshots hold keys)."""
    frameworks = {tag.framework_id for tag in evidence.competencies}
    return {key: name for (_, key), name in evidence_service.competency_names(frameworks).items()}
