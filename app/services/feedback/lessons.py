"""Learning from failure: the retrospective template of a lesson, and offering a shared
"learning from failure" item to one's team as a lesson.

Who reads a lesson is the policy's (evidence.view: the owner's teammates, the people with the
same manager, and their direct reports); lists here read it through `policy.where`.
"""

from __future__ import annotations

from sqlalchemy import Select, select, union
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import Evidence, EvidenceKind, NotificationKind, User
from app.models.base import utcnow
from app.policy import lines
from app.services import audit, notifications

# The four sections of a short retrospective, as the markdown body of a new lesson.
SECTIONS = ("What we expected", "What happened", "What we learned", "What we changed")
TEMPLATE = "\n\n".join(f"## {heading}" for heading in SECTIONS) + "\n"


def lesson_item(actor: User, evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "evidence.share_lesson", evidence)
    return evidence


def share_lesson(actor: User, evidence_id: int) -> Evidence:
    """The owner offers a shared learning-from-failure item to their team as a lesson; the team
    hears of it."""
    evidence = lesson_item(actor, evidence_id)
    if evidence.kind is not EvidenceKind.LEARNING:
        raise ValidationError("Only a lesson from a failure can be shared with your team.")
    if not evidence.is_visible_to_others:
        raise ValidationError(
            "Share the item with your manager first; then you can offer it to your team."
        )
    if evidence.lesson_shared_at is not None:
        raise ValidationError("This lesson is already shared with your team.")
    evidence.lesson_shared_at = utcnow()
    db.session.flush()
    audit.record(actor, "evidence.lesson_shared", evidence)
    notifications.notify(
        db.session.scalars(team_of(actor.id)).all(),
        NotificationKind.LESSON_SHARED,
        actor_id=actor.id,
        evidence_id=evidence.id,
    )
    return evidence


def stop_sharing_lesson(actor: User, evidence_id: int) -> Evidence:
    """The team no longer reads the item (the manager line still does while it is shared)."""
    evidence = lesson_item(actor, evidence_id)
    if evidence.lesson_shared_at is None:
        raise ValidationError("This item is not shared with your team.")
    before = evidence.lesson_shared_at.isoformat()
    evidence.lesson_shared_at = None
    db.session.flush()
    audit.record(actor, "evidence.lesson_unshared", evidence, before={"lesson_shared_at": before})
    return evidence


def team_of(person_id: int) -> Select:
    """Ids of the person's team as a lesson reaches it: who shares their manager, and their
    direct reports (the same lines app/policy/evidence.py reads)."""
    return select(union(lines.teammates_query(person_id), _direct_reports(person_id)).subquery())


def _direct_reports(person_id: int) -> Select:
    return select(User.id).where(User.manager_id == person_id)


def recent_lessons(viewer: User, limit: int) -> list[Evidence]:
    """The newest lessons other people shared that the viewer may read (evidence.view)."""
    return list(
        db.session.scalars(
            select(Evidence)
            .where(
                Evidence.lesson_shared_at.is_not(None),
                Evidence.owner_id != viewer.id,
                policy.where("evidence.view", viewer),
            )
            .options(joinedload(Evidence.owner))
            .order_by(Evidence.lesson_shared_at.desc(), Evidence.id.desc())
            .limit(limit)
        )
    )
