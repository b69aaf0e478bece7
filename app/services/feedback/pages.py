"""Read-models of the feedback pages: the index (requests sent, requests to answer, lessons from
the team), one request with its answers, the answer form, the thanks list and the forms' choices.
Each runs a fixed number of queries whatever the number of requests, answers or thanks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import AskStatus, Evidence, FeedbackAsk, FeedbackRequest, User
from app.services import evidence as evidence_service
from app.services.feedback import asks as asks_service
from app.services.feedback import lessons
from app.services.feedback import thanks as thanks_service
from app.services.feedback.panels import competency_label, names_for
from app.services.people.pages import PersonLinks, person_links

PER_PAGE = 20
THANKS_PER_PAGE = 30
LESSONS_SHOWN = 5


@dataclass(frozen=True)
class SentRequest:
    """A request the viewer sent, with each colleague's state."""

    request: FeedbackRequest
    competencies: list[str]
    asks: list[FeedbackAsk]  # with their givers

    def count(self, status: str) -> int:
        return sum(1 for a in self.asks if a.status.value == status)


@dataclass(frozen=True)
class AskedRow:
    """A request addressed to the viewer: waiting for their answer, or answered."""

    ask: FeedbackAsk  # with its request and requester
    competencies: list[str]
    is_overdue: bool


@dataclass(frozen=True)
class IndexPage:
    sent: Pagination
    sent_rows: list[SentRequest]
    asked: Pagination
    asked_rows: list[AskedRow]
    lessons: list[Evidence]  # with their owners
    links: PersonLinks


def index_page(viewer: User, sent_page: int, asked_page: int, *, today: date | None = None):
    policy.authorize(viewer, "feedback.request")
    today = today or date.today()
    sent = db.paginate(
        select(FeedbackRequest)
        .where(policy.where("feedback_request.view", viewer))
        .order_by(FeedbackRequest.created_at.desc(), FeedbackRequest.id.desc()),
        page=sent_page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    requests = list(sent.items)
    by_request: dict[int, list[FeedbackAsk]] = {r.id: [] for r in requests}
    if requests:
        for ask in db.session.scalars(
            select(FeedbackAsk)
            .where(FeedbackAsk.request_id.in_(by_request))
            .options(joinedload(FeedbackAsk.giver))
            .join(User, User.id == FeedbackAsk.giver_id)
            .order_by(User.name, FeedbackAsk.id)
        ):
            by_request[ask.request_id].append(ask)
    asked = db.paginate(
        _asked_of(viewer), page=asked_page, per_page=PER_PAGE, error_out=False, count=True
    )
    asked_items = list(asked.items)
    names = names_for(requests + [a.request for a in asked_items])
    return IndexPage(
        sent=sent,
        sent_rows=[SentRequest(r, competency_label(names, r), by_request[r.id]) for r in requests],
        asked=asked,
        asked_rows=[
            AskedRow(a, competency_label(names, a.request), _overdue(a, today)) for a in asked_items
        ],
        lessons=lessons.recent_lessons(viewer, LESSONS_SHOWN),
        links=person_links(viewer),
    )


def _asked_of(viewer: User):
    """Asks addressed to the viewer: waiting ones first, the soonest due (so the overdue) first;
    then the answered and declined, newest first."""
    return (
        select(FeedbackAsk)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .where(policy.where("feedback_ask.answer", viewer))
        .options(joinedload(FeedbackAsk.request).joinedload(FeedbackRequest.requester))
        .order_by(
            FeedbackAsk.status != AskStatus.PENDING,
            FeedbackAsk.answered_at.desc(),  # NULL for every waiting one
            FeedbackRequest.due_on.is_(None),
            FeedbackRequest.due_on,
            FeedbackRequest.created_at,
            FeedbackAsk.id,
        )
    )


def _overdue(ask: FeedbackAsk, today: date) -> bool:
    due_on = ask.request.due_on
    return ask.status is AskStatus.PENDING and due_on is not None and due_on < today


@dataclass(frozen=True)
class RequestPage:
    """One of the viewer's requests with every answer; whether they have a manager to share
    answers with."""

    request: FeedbackRequest
    competencies: list[str]
    asks: list[FeedbackAsk]  # with their givers
    manager: User | None


def request_page(viewer: User, request_id: int) -> RequestPage:
    request = asks_service.own_request(viewer, request_id)
    asks = db.session.scalars(
        select(FeedbackAsk)
        .join(User, User.id == FeedbackAsk.giver_id)
        .where(FeedbackAsk.request_id == request.id, policy.where("feedback_ask.view", viewer))
        .options(joinedload(FeedbackAsk.giver))
        .order_by(FeedbackAsk.status != AskStatus.ANSWERED, User.name, FeedbackAsk.id)
    ).all()
    manager = db.session.scalar(
        select(User).where(User.id == viewer.manager_id, User.deactivated_at.is_(None))
    )
    return RequestPage(
        request=request,
        competencies=competency_label(names_for([request]), request),
        asks=list(asks),
        manager=manager,
    )


@dataclass(frozen=True)
class AnswerPage:
    """A request addressed to the viewer, as they answer it."""

    ask: FeedbackAsk  # with its request and requester
    competencies: list[str]
    is_overdue: bool


def answer_page(viewer: User, ask_id: int, *, today: date | None = None) -> AnswerPage:
    ask = asks_service.ask_for_giver(viewer, ask_id)
    return AnswerPage(
        ask=ask,
        competencies=competency_label(names_for([ask.request]), ask.request),
        is_overdue=_overdue(ask, today or date.today()),
    )


@dataclass(frozen=True)
class NewRequestPage:
    """The choices of the request form."""

    colleagues: list[tuple[int, str, str]]  # (id, name, role)
    competencies: list[evidence_service.CompetencyChoice]


def new_request_page(viewer: User) -> NewRequestPage:
    return NewRequestPage(
        colleagues=asks_service.colleague_choices(viewer),
        competencies=evidence_service.competency_choices(viewer.id),
    )


@dataclass(frozen=True)
class ThanksPage:
    page: Pagination
    rows: list[thanks_service.ThanksRow]
    links: PersonLinks


def thanks_page(viewer: User, page: int) -> ThanksPage:
    policy.authorize(viewer, "thanks.view")
    found = db.paginate(
        thanks_service.newest_first(),
        page=page,
        per_page=THANKS_PER_PAGE,
        error_out=False,
        count=True,
    )
    return ThanksPage(
        page=found,
        rows=thanks_service.rows_for(viewer, list(found.items)),
        links=person_links(viewer),
    )


@dataclass(frozen=True)
class ThankPage:
    """The thanks form: whom one may thank, or the item one thanks its owner for."""

    recipients: list[tuple[int, str]]
    item: Evidence | None  # with its owner


def thank_page(viewer: User, evidence_id: int | None) -> ThankPage:
    item = thanks_service.thankable_item(viewer, evidence_id) if evidence_id else None
    return ThankPage(recipients=[] if item else thanks_service.recipient_choices(viewer), item=item)
