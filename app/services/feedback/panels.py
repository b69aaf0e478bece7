"""Feedback and thanks as other pages show them: the person page ("Feedback shared with you",
thanks received), the team page (recent thanks) and home's "To do". Each reads a fixed
number of queries; who may read what is the policy's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import AskStatus, FeedbackAsk, FeedbackRequest, Thanks, User
from app.policy import lines
from app.services import evidence as evidence_service
from app.services.feedback import thanks as thanks_service

SHARED_SHOWN = 20
THANKS_SHOWN = 10
DUE_SHOWN = 10


def competency_label(names: dict, request: FeedbackRequest) -> list[str]:
    """The request's competencies by their current names (a key when the name is gone)."""
    return [names.get((request.framework_id, key), key) for key in request.competency_keys or []]


def names_for(requests: list[FeedbackRequest]) -> dict:
    return evidence_service.competency_names({r.framework_id for r in requests if r.framework_id})


@dataclass(frozen=True)
class SharedAnswer:
    """An answer the person shared with the viewer, their manager."""

    ask: FeedbackAsk  # with its giver
    request: FeedbackRequest
    competencies: list[str]


def shared_with(viewer: User, person_id: int) -> list[SharedAnswer]:
    """Answers to the person's requests that they shared with the viewer (feedback_ask.view),
    newest share first; the viewer's own answers are not news to them."""
    if viewer.id == person_id:
        return []
    asks = db.session.scalars(
        select(FeedbackAsk)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .where(
            FeedbackRequest.requester_id == person_id,
            FeedbackAsk.status == AskStatus.ANSWERED,
            FeedbackAsk.shared_with_manager_at.is_not(None),
            FeedbackAsk.giver_id != viewer.id,
            policy.where("feedback_ask.view", viewer),
        )
        .options(joinedload(FeedbackAsk.giver), joinedload(FeedbackAsk.request))
        .order_by(FeedbackAsk.shared_with_manager_at.desc(), FeedbackAsk.id.desc())
        .limit(SHARED_SHOWN)
    ).all()
    names = names_for([a.request for a in asks])
    return [SharedAnswer(a, a.request, competency_label(names, a.request)) for a in asks]


def thanks_received(viewer: User, person_id: int) -> list[thanks_service.ThanksRow]:
    found = db.session.scalars(
        thanks_service.newest_first().where(Thanks.recipient_id == person_id).limit(THANKS_SHOWN)
    ).all()
    return thanks_service.rows_for(viewer, list(found))


def team_thanks(viewer: User) -> list[thanks_service.ThanksRow]:
    """Recent thanks to the people in the viewer's line (the team page)."""
    found = db.session.scalars(
        thanks_service.newest_first()
        .where(Thanks.recipient_id.in_(lines.reports_below_query(viewer.id)))
        .limit(THANKS_SHOWN)
    ).all()
    return thanks_service.rows_for(viewer, list(found))


@dataclass(frozen=True)
class DueAnswer:
    """A request for feedback waiting for the person's answer (home's "To do")."""

    ask_id: int
    requester_name: str
    competencies: list[str]
    due_on: date | None
    asked_at: datetime
    is_overdue: bool


def waiting_for(actor: User):
    """The actor's asks still waiting for an answer: the soonest due (so the overdue) first,
    then those without a date, oldest first."""
    return (
        select(FeedbackAsk)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .join(User, User.id == FeedbackRequest.requester_id)
        .where(
            FeedbackAsk.giver_id == actor.id,
            FeedbackAsk.status == AskStatus.PENDING,
            User.deactivated_at.is_(None),  # nobody left to read the answer
        )
        .options(joinedload(FeedbackAsk.request).joinedload(FeedbackRequest.requester))
        .order_by(
            FeedbackRequest.due_on.is_(None),
            FeedbackRequest.due_on,
            FeedbackRequest.created_at,
            FeedbackAsk.id,
        )
    )


def due(actor: User, *, today: date | None = None) -> list[DueAnswer]:
    asks = db.session.scalars(waiting_for(actor).limit(DUE_SHOWN)).all()
    names = names_for([a.request for a in asks])
    today = today or date.today()
    return [
        DueAnswer(
            ask_id=a.id,
            requester_name=a.request.requester.name,
            competencies=competency_label(names, a.request),
            due_on=a.request.due_on,
            asked_at=a.request.created_at,
            is_overdue=a.request.due_on is not None and a.request.due_on < today,
        )
        for a in asks
    ]
