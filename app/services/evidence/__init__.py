"""Evidence: record, edit, share, trash and restore what a PM did, keeping every version of it.

Beside these verbs: its history and timeline, attachments, the conversation around an item
(comments, kudos, corroboration) and the evidence pages' read-models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from app import policy
from app.core import events
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    Competency,
    CompetencyArea,
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    EvidenceLink,
    EvidenceRevision,
    FrameworkVersion,
    Level,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services import audit
from app.services.evidence import attachments

TITLE_MAX = 200
BODY_MAX = 20_000
LINKS_MAX = 10
TRASH_DAYS = 30


@dataclass
class EvidenceInput:
    title: str
    occurred_on: date
    kind: EvidenceKind
    competency_keys: list[str]
    body: str = ""
    visibility: Visibility = Visibility.PRIVATE
    metric: str = ""
    metric_before: str = ""
    metric_after: str = ""
    metric_unit: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, label)


@dataclass(frozen=True)
class CompetencyChoice:
    key: str
    name: str
    area: str
    description: str


# --- reading ----------------------------------------------------------------------------------


def get_evidence(evidence_id: int) -> Evidence:
    evidence = db.session.execute(
        select(Evidence)
        .where(Evidence.id == evidence_id)
        .options(
            selectinload(Evidence.competencies),
            selectinload(Evidence.links),
            selectinload(Evidence.attachments),
        )
    ).scalar_one_or_none()
    if evidence is None:
        raise NotFoundError("Not found.")
    return evidence


def published_version_of(person_id: int) -> FrameworkVersion | None:
    """The published version of the framework the person's level belongs to."""
    framework_id = db.session.execute(
        select(FrameworkVersion.framework_id)
        .join(Level, Level.version_id == FrameworkVersion.id)
        .join(User, User.level_id == Level.id)
        .where(User.id == person_id)
    ).scalar_one_or_none()
    if framework_id is None:
        return None
    return db.session.execute(
        select(FrameworkVersion).where(
            FrameworkVersion.framework_id == framework_id,
            FrameworkVersion.status == "published",
        )
    ).scalar_one_or_none()


def competency_choices(person_id: int) -> list[CompetencyChoice]:
    """The competencies a person can tag, from their framework's published version, in order."""
    version = published_version_of(person_id)
    if version is None:
        return []
    rows = db.session.execute(
        select(Competency.key, Competency.name, CompetencyArea.name, Competency.description)
        .join(CompetencyArea, Competency.area_id == CompetencyArea.id)
        .where(Competency.version_id == version.id)
        .order_by(CompetencyArea.position, Competency.position)
    ).all()
    return [CompetencyChoice(*row) for row in rows]


def competency_names(framework_ids: set[int]) -> dict[tuple[int, str], str]:
    """(framework id, key) → the name in the published version: a rename shows the new name."""
    if not framework_ids:
        return {}
    rows = db.session.execute(
        select(FrameworkVersion.framework_id, Competency.key, Competency.name)
        .join(Competency, Competency.version_id == FrameworkVersion.id)
        .where(
            FrameworkVersion.framework_id.in_(framework_ids), FrameworkVersion.status == "published"
        )
    ).all()
    return {(framework_id, key): name for framework_id, key, name in rows}


def revisions(evidence: Evidence) -> list[EvidenceRevision]:
    return list(
        db.session.execute(
            select(EvidenceRevision)
            .where(EvidenceRevision.evidence_id == evidence.id)
            .order_by(EvidenceRevision.number.desc())
        ).scalars()
    )


# --- changing ---------------------------------------------------------------------------------


def record_evidence(actor: User, data: EvidenceInput) -> Evidence:
    """Log a new item for the actor; shared items notify their manager and mentors."""
    policy.authorize(actor, "evidence.log")
    version = published_version_of(actor.id)
    keys = _clean_keys(actor.id, data.competency_keys, version)
    evidence = Evidence(owner_id=actor.id, **_fields(data))
    evidence.competencies = [
        EvidenceCompetency(framework_id=version.framework_id, competency_key=key) for key in keys
    ]
    evidence.links = _links(data.links)
    if evidence.visibility is Visibility.SHARED:
        evidence.shared_at = utcnow()
    db.session.add(evidence)
    db.session.flush()
    _remember(actor, evidence, "created")
    if evidence.is_shared:
        _announce(actor, evidence)
    return evidence


def update_evidence(
    actor: User, evidence: Evidence, data: EvidenceInput, *, expected_revision: int
) -> Evidence:
    policy.authorize(actor, "evidence.edit", evidence)
    if evidence.in_trash:
        raise ValidationError("This item is in the Trash; restore it to edit it.")
    if evidence.revision != expected_revision:
        raise ConflictError(
            "You changed this item in another window or tab.", current=snapshot(evidence)
        )
    was_shared = evidence.is_shared
    version = published_version_of(actor.id)
    keys = _clean_keys(actor.id, data.competency_keys, version)
    for name, value in _fields(data).items():
        setattr(evidence, name, value)
    kept = {(tag.framework_id, tag.competency_key) for tag in evidence.competencies}
    wanted = {(version.framework_id, key) for key in keys}
    evidence.competencies = [
        t for t in evidence.competencies if (t.framework_id, t.competency_key) in wanted
    ] + [EvidenceCompetency(framework_id=f, competency_key=k) for f, k in sorted(wanted - kept)]
    evidence.links = _links(data.links)
    evidence.updated_at = utcnow()
    if evidence.lesson_shared_at and not (
        evidence.kind is EvidenceKind.LEARNING and evidence.is_shared
    ):
        _end_lesson(actor, evidence, "no longer a shared learning item")
    if evidence.is_shared and not was_shared:
        evidence.shared_at = utcnow()
    db.session.flush()
    _remember(actor, evidence, "shared" if evidence.is_shared and not was_shared else "edited")
    if evidence.is_shared and not was_shared:
        _announce(actor, evidence)
    return evidence


def share_evidence(actor: User, evidence: Evidence) -> Evidence:
    """Share a private draft with the owner's manager and mentors, as it is (the Share button:
    the same sharing as choosing "shared" in the form, without editing anything else)."""
    policy.authorize(actor, "evidence.edit", evidence)
    if evidence.in_trash:
        raise ValidationError("This item is in the Trash; restore it to share it.")
    if evidence.is_shared:
        raise ValidationError("This item is already shared with your manager and mentors.")
    evidence.visibility = Visibility.SHARED
    evidence.shared_at = evidence.updated_at = utcnow()
    db.session.flush()
    _remember(actor, evidence, "shared")
    _announce(actor, evidence)
    return evidence


def trash_evidence(actor: User, evidence: Evidence) -> Evidence:
    """Move to the Trash: hidden everywhere, restorable by the owner for 30 days."""
    policy.authorize(actor, "evidence.edit", evidence)
    if evidence.in_trash:
        raise ValidationError("This item is already in the Trash.")
    evidence.deleted_at = utcnow()
    if evidence.lesson_shared_at:
        _end_lesson(actor, evidence, "moved to the Trash")  # a restore does not bring it back
    db.session.flush()
    _remember(actor, evidence, "deleted")
    return evidence


def _end_lesson(actor: User, evidence: Evidence, reason: str) -> None:
    """A lesson is a shared learning-from-failure item: when the item stops being one, the
    team stops reading it as a lesson (audited as the owner taking it back would be)."""
    before = evidence.lesson_shared_at.isoformat()
    evidence.lesson_shared_at = None
    audit.record(
        actor,
        "evidence.lesson_unshared",
        evidence,
        before={"lesson_shared_at": before},
        after={"reason": reason},
    )


def restore_evidence(actor: User, evidence: Evidence) -> Evidence:
    policy.authorize(actor, "evidence.edit", evidence)
    if not evidence.in_trash:
        raise ValidationError("This item is not in the Trash.")
    evidence.deleted_at = None
    db.session.flush()
    _remember(actor, evidence, "restored")
    return evidence


def purge_trash(now=None) -> int:
    """Delete for good what has been in the Trash for more than 30 days, everyone's.

    Only `flask evidence purge-trash` (run daily by cron, see the README) calls this: a page
    view never deletes, so a GET changes nothing. Until the purge runs, expired items are
    already out of the Trash list (`trash_query`).
    """
    cutoff = trash_cutoff(now)
    expired = select(Evidence.id).where(Evidence.deleted_at < cutoff)
    attachments.delete_files_of(db.session.execute(expired).scalars())  # once the delete commits
    result = db.session.execute(delete(Evidence).where(Evidence.deleted_at < cutoff))
    return result.rowcount or 0


def trash_cutoff(now=None):
    """Items moved to the Trash before this moment are past restoring, waiting for the purge."""
    return (now or utcnow()) - timedelta(days=TRASH_DAYS)


def trash_query(owner_id: int, now=None):
    """The owner's Trash as its page promises it: items deleted in the last 30 days."""
    return (
        select(Evidence)
        .where(Evidence.owner_id == owner_id, Evidence.deleted_at >= trash_cutoff(now))
        .order_by(Evidence.deleted_at.desc())
    )


def snapshot(evidence: Evidence) -> dict[str, Any]:
    return {
        "title": evidence.title,
        "body": evidence.body,
        "occurred_on": evidence.occurred_on.isoformat(),
        "kind": evidence.kind.value,
        "visibility": evidence.visibility.value,
        "metric": evidence.metric,
        "metric_before": evidence.metric_before,
        "metric_after": evidence.metric_after,
        "metric_unit": evidence.metric_unit,
        "links": [{"url": link.url, "label": link.label} for link in evidence.links],
        "competencies": [tag.competency_key for tag in evidence.competencies],
        "in_trash": evidence.in_trash,
    }


# --- helpers ----------------------------------------------------------------------------------


def _fields(data: EvidenceInput) -> dict[str, Any]:
    title = " ".join(data.title.split())
    if not title:
        raise ValidationError("Give the item a title.", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"Use at most {TITLE_MAX} characters.", field="title")
    if len(data.body) > BODY_MAX:
        raise ValidationError(f"Use at most {BODY_MAX:,} characters.", field="body")
    if data.occurred_on > date.today() + timedelta(days=1):
        raise ValidationError("The date is in the future.", field="occurred_on")
    measure = [data.metric.strip(), data.metric_before.strip(), data.metric_after.strip()]
    if any(measure) and not all(measure):
        raise ValidationError(
            "An outcome needs the metric, the value before and the value after.", field="metric"
        )
    return {
        "title": title,
        "body": data.body.strip(),
        "occurred_on": data.occurred_on,
        "kind": data.kind,
        "visibility": data.visibility,
        "metric": measure[0],
        "metric_before": measure[1],
        "metric_after": measure[2],
        "metric_unit": data.metric_unit.strip() if any(measure) else "",
    }


def _clean_keys(person_id: int, keys: list[str], version: FrameworkVersion | None) -> list[str]:
    if version is None:
        raise ValidationError(
            "You are not placed on a level of a published career framework "
            "yet, so there are no competencies to tag. Ask your head of "
            "product to place you.",
            field="competency_keys",
        )
    wanted = sorted(set(keys))
    if not wanted:
        raise ValidationError("Choose at least one competency.", field="competency_keys")
    known = {choice.key for choice in competency_choices(person_id)}
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise ValidationError(
            f"Not a competency of your framework: {', '.join(unknown)}.", field="competency_keys"
        )
    return wanted


def _links(links: list[tuple[str, str]]) -> list[EvidenceLink]:
    cleaned = [(url.strip(), label.strip()) for url, label in links if url.strip()]
    if len(cleaned) > LINKS_MAX:
        raise ValidationError(f"Add at most {LINKS_MAX} links.", field="links")
    for url, _label in cleaned:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
            raise ValidationError(f"{url[:80]} is not an http or https link.", field="links")
    return [
        EvidenceLink(position=i, url=url, label=label[:200])
        for i, (url, label) in enumerate(cleaned)
    ]


def _remember(actor: User, evidence: Evidence, action: str) -> None:
    last = (
        db.session.execute(
            select(EvidenceRevision.number)
            .where(EvidenceRevision.evidence_id == evidence.id)
            .order_by(EvidenceRevision.number.desc())
            .limit(1)
        ).scalar_one_or_none()
        or 0
    )
    db.session.add(
        EvidenceRevision(
            evidence_id=evidence.id,
            number=last + 1,
            action=action,
            snapshot=snapshot(evidence),
            changed_by_id=actor.id,
        )
    )


def _announce(actor: User, evidence: Evidence) -> None:
    """New shared evidence: whoever listens hears of it (notifications: the manager, mentors)."""
    events.evidence_shared.send(evidence, actor=actor)
