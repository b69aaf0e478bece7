"""Feedback requests: a PM asks named colleagues about chosen competencies; each answers in
situation-behaviour-impact form or declines; the requester may share one answer with their
manager, and take it back.

Every verb checks the policy (app/policy/coaching.py), audits, notifies in the same transaction
and flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    AskStatus,
    FeedbackAsk,
    FeedbackRequest,
    Notification,
    NotificationKind,
    User,
)
from app.models.base import utcnow
from app.services import audit, notifications
from app.services import evidence as evidence_service

MESSAGE_MAX = 2_000
ANSWER_MAX = 2_000
COLLEAGUES_MAX = 12
COMPETENCIES_MAX = 8
DUE_MAX_DAYS = 366
ANSWER_PARTS = ("situation", "behaviour", "impact")
PART_NAMES = {"situation": "Situation", "behaviour": "Behaviour", "impact": "Impact"}


@dataclass(frozen=True)
class RequestInput:
    colleague_ids: list[int]
    competency_keys: list[str]
    message: str = ""
    due_on: date | None = None


@dataclass(frozen=True)
class AnswerInput:
    situation: str
    behaviour: str
    impact: str


# --- asking -----------------------------------------------------------------------------------


def ask_for_feedback(actor: User, data: RequestInput, *, today: date | None = None):
    """Ask named active colleagues (not oneself) for feedback on competencies of one's
    framework; each is notified and answers on their own."""
    policy.authorize(actor, "feedback.request")
    version = evidence_service.published_version_of(actor.id)
    keys = _competencies(actor.id, data.competency_keys, version)
    colleagues = _colleagues(actor, data.colleague_ids)
    message = (data.message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise ValidationError(f"Keep the message to {MESSAGE_MAX:,} characters.", field="message")
    today = today or date.today()
    if data.due_on is not None and data.due_on < today:
        raise ValidationError("The due date is in the past.", field="due_on")
    if data.due_on is not None and data.due_on > today + timedelta(days=DUE_MAX_DAYS):
        raise ValidationError("Choose a due date within a year.", field="due_on")
    request = FeedbackRequest(
        requester_id=actor.id,
        framework_id=version.framework_id,
        competency_keys=keys,
        message=message,
        due_on=data.due_on,
    )
    db.session.add(request)
    db.session.flush()
    asks = [FeedbackAsk(request_id=request.id, giver_id=person.id) for person in colleagues]
    db.session.add_all(asks)
    db.session.flush()
    audit.record(
        actor,
        "feedback.requested",
        request,
        after={
            "colleagues": [p.id for p in colleagues],
            "competencies": keys,
            "due_on": data.due_on.isoformat() if data.due_on else None,
        },
    )
    for ask in asks:
        notifications.notify(
            [ask.giver_id],
            NotificationKind.FEEDBACK_REQUESTED,
            actor_id=actor.id,
            feedback_ask_id=ask.id,
        )
    return request


def _competencies(person_id: int, keys: list[str], version) -> list[str]:
    if version is None:
        raise ValidationError(
            "You are not placed on a level of a published career framework yet, so there are "
            "no competencies to ask about. Ask your head of product to place you.",
            field="competency_keys",
        )
    wanted = sorted(set(keys))
    if not wanted:
        raise ValidationError("Choose at least one competency.", field="competency_keys")
    if len(wanted) > COMPETENCIES_MAX:
        raise ValidationError(
            f"Choose at most {COMPETENCIES_MAX} competencies: a short request gets answers.",
            field="competency_keys",
        )
    known = {choice.key for choice in evidence_service.competency_choices(person_id)}
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise ValidationError(
            f"Not a competency of your framework: {', '.join(unknown)}.", field="competency_keys"
        )
    return wanted


def _colleagues(actor: User, ids: list[int]) -> list[User]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        raise ValidationError("Choose at least one colleague to ask.", field="colleague_ids")
    if actor.id in wanted:
        raise ValidationError("Ask colleagues, not yourself.", field="colleague_ids")
    if len(wanted) > COLLEAGUES_MAX:
        raise ValidationError(
            f"Ask at most {COLLEAGUES_MAX} colleagues at a time.", field="colleague_ids"
        )
    found = db.session.scalars(select(User).where(User.id.in_(wanted))).all()
    usable = [person for person in found if person.is_active]
    if len(usable) != len(wanted):
        raise ValidationError(
            "Someone you chose is no longer an active colleague; choose again.",
            field="colleague_ids",
        )
    return sorted(usable, key=lambda person: (person.name, person.id))


def colleague_choices(actor: User) -> list[tuple[int, str, str]]:
    """Active people the actor may ask: (id, name, role label), by name."""
    rows = db.session.execute(
        select(User.id, User.name, User.role)
        .where(User.id != actor.id, User.deactivated_at.is_(None))
        .order_by(User.name, User.id)
    ).all()
    return [(person_id, name, role.label) for person_id, name, role in rows]


# --- answering --------------------------------------------------------------------------------


def ask_for_giver(actor: User, ask_id: int) -> FeedbackAsk:
    """An ask addressed to the actor, with its request and requester; 404 for anyone else."""
    ask = db.session.execute(
        select(FeedbackAsk)
        .where(FeedbackAsk.id == ask_id)
        .options(joinedload(FeedbackAsk.request).joinedload(FeedbackRequest.requester))
    ).scalar_one_or_none()
    if ask is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "feedback_ask.answer", ask)
    return ask


def answer(
    actor: User, ask: FeedbackAsk, data: AnswerInput, *, expected_revision: int
) -> FeedbackAsk:
    """Answer in situation-behaviour-impact form, or change one's answer later. A save over a
    newer save of the same answer (another tab) is refused with the saved values."""
    policy.authorize(actor, "feedback_ask.answer", ask)
    if ask.status is AskStatus.DECLINED:
        raise ValidationError("You declined this request; it can no longer be answered.")
    if ask.revision != expected_revision:
        raise ConflictError(
            "You changed this answer in another window or tab.", current=answer_snapshot(ask)
        )
    parts = _answer_parts(data)
    before = answer_snapshot(ask)
    first = ask.status is AskStatus.PENDING
    for name, value in parts.items():
        setattr(ask, name, value)
    ask.status = AskStatus.ANSWERED
    if first:
        ask.answered_at = utcnow()
    db.session.flush()
    old, new = audit.changes(before, answer_snapshot(ask))
    action = "feedback.answered" if first else "feedback.answer_edited"
    audit.record(actor, action, ask, before=old, after=new)
    changed_shared = bool(new) and ask.shared_with_manager_at is not None
    if changed_shared:
        # the manager was shown the old text; the requester decides again about the new one
        _unshare(actor, ask, reason="answer changed")
    if first or changed_shared:
        notifications.notify(
            [_requester_id(ask)],
            NotificationKind.FEEDBACK_ANSWERED,
            actor_id=actor.id,
            feedback_ask_id=ask.id,
        )
    return ask


def decline(actor: User, ask_id: int) -> FeedbackAsk:
    """Say no to a request still waiting for an answer; the requester hears of it."""
    ask = ask_for_giver(actor, ask_id)
    if ask.status is not AskStatus.PENDING:
        raise ValidationError("You already answered this request.")
    ask.status = AskStatus.DECLINED
    ask.answered_at = utcnow()
    db.session.flush()
    audit.record(actor, "feedback.declined", ask)
    notifications.notify(
        [_requester_id(ask)],
        NotificationKind.FEEDBACK_ANSWERED,
        actor_id=actor.id,
        feedback_ask_id=ask.id,
    )
    return ask


def _requester_id(ask: FeedbackAsk) -> int:
    return db.session.scalar(
        select(FeedbackRequest.requester_id).where(FeedbackRequest.id == ask.request_id)
    )


def answer_snapshot(ask: FeedbackAsk) -> dict[str, Any]:
    return {
        "status": ask.status.value,
        "situation": ask.situation,
        "behaviour": ask.behaviour,
        "impact": ask.impact,
    }


def _answer_parts(data: AnswerInput) -> dict[str, str]:
    parts = {}
    for name in ANSWER_PARTS:
        text = (getattr(data, name) or "").strip()
        if not text:
            raise ValidationError(f"Describe the {name}.", field=name)
        if len(text) > ANSWER_MAX:
            raise ValidationError(f"Keep it to {ANSWER_MAX:,} characters.", field=name)
        parts[name] = text
    return parts


# --- sharing with the requester's manager ------------------------------------------------------


def own_request(actor: User, request_id: int) -> FeedbackRequest:
    """One of the actor's own requests; 404 for anyone else's."""
    request = db.session.get(FeedbackRequest, request_id)
    if request is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "feedback_request.view", request)
    return request


def share_with_manager(actor: User, request_id: int, ask_id: int) -> FeedbackAsk:
    """The requester shows one answer to their manager (who then reads it on the requester's
    page). Only an answer, and only while the requester has a manager."""
    ask = _requesters_ask(actor, request_id, ask_id)
    if ask.status is not AskStatus.ANSWERED:
        raise ValidationError("Only an answer can be shared; this one has none.")
    if ask.shared_with_manager_at is not None:
        raise ValidationError("This answer is already shared with your manager.")
    manager_id = db.session.scalar(select(User.manager_id).where(User.id == actor.id))
    if manager_id is None:
        raise ValidationError("You have no manager to share it with.")
    manager = db.session.get(User, manager_id)
    if not manager.is_active:
        raise ValidationError(
            f"{manager.name} no longer has an account here, so cannot read it. Ask your head of "
            "product to record your new manager, then share it."
        )
    _set_shared(ask, utcnow(), manager_id)
    audit.record(actor, "feedback.shared_with_manager", ask, after={"manager_id": manager_id})
    notifications.notify(
        [manager_id], NotificationKind.FEEDBACK_SHARED, actor_id=actor.id, feedback_ask_id=ask.id
    )
    return ask


def stop_sharing(actor: User, request_id: int, ask_id: int) -> FeedbackAsk:
    """Take a shared answer back: the manager no longer reads it (their unread notice goes)."""
    ask = _requesters_ask(actor, request_id, ask_id)
    if ask.shared_with_manager_at is None:
        raise ValidationError("This answer is not shared with your manager.")
    _unshare(actor, ask, reason="taken back")
    return ask


def _unshare(actor: User, ask: FeedbackAsk, *, reason: str) -> None:
    """End a share: the manager no longer reads the answer and their unread notice goes."""
    before = {"shared_at": ask.shared_with_manager_at.isoformat(), "with": ask.shared_with_id}
    _set_shared(ask, None, None)
    audit.record(actor, "feedback.unshared", ask, before=before, after={"reason": reason})
    db.session.execute(
        delete(Notification).where(
            Notification.kind == NotificationKind.FEEDBACK_SHARED,
            Notification.feedback_ask_id == ask.id,
            Notification.read_at.is_(None),
        )
    )


def _requesters_ask(actor: User, request_id: int, ask_id: int) -> FeedbackAsk:
    ask = db.session.execute(
        select(FeedbackAsk).where(FeedbackAsk.id == ask_id).options(joinedload(FeedbackAsk.request))
    ).scalar_one_or_none()
    if ask is None or ask.request_id != request_id:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "feedback_request.view", ask.request)
    return ask


def _set_shared(ask: FeedbackAsk, when, with_id: int | None) -> None:
    """Sharing is the requester's, not a change of the answer: it leaves the answer's revision
    alone, so that the giver editing meanwhile meets no false conflict. A share names the person
    (the manager at the time), so that a later manager does not inherit it."""
    db.session.execute(
        update(FeedbackAsk)
        .where(FeedbackAsk.id == ask.id)
        .values(shared_with_manager_at=when, shared_with_id=with_id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(ask, ["shared_with_manager_at", "shared_with_id"])
