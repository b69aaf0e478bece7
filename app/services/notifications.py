"""In-app notifications: written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app import policy
from app.core import events
from app.extensions import db
from app.models import (
    CalibrationSession,
    Corroboration,
    CorroborationStatus,
    CyclePhase,
    Evidence,
    Level,
    Notification,
    NotificationKind,
    Outcome,
    PromotionCase,
    PromotionCycle,
    User,
)
from app.models.base import utcnow
from app.services.evidence.titles import readable_titles
from app.services.people import org


def notify(
    recipients: Iterable[int],
    kind: NotificationKind,
    *,
    actor_id: int | None,
    evidence_id: int | None = None,
    case_id: int | None = None,
    session_id: int | None = None,
    detail: str | None = None,
    **coaching: int | None,
) -> None:
    """One notification per recipient; nobody is notified of their own action. `detail` keeps
    what the message needs that the references cannot tell later (the phase moved to).
    `coaching` names the coaching object: meeting_id, goal_id, round_id, feedback_ask_id or
    thanks_id."""
    unknown = set(coaching) - set(COACHING_REFERENCES)
    if unknown:
        raise TypeError(f"no notification reference {sorted(unknown)}")
    for recipient in sorted(set(recipients) - {actor_id}):
        db.session.add(
            Notification(
                recipient_id=recipient,
                kind=kind,
                actor_id=actor_id,
                evidence_id=evidence_id,
                case_id=case_id,
                session_id=session_id,
                detail=detail,
                **coaching,
            )
        )


COACHING_REFERENCES = ("meeting_id", "goal_id", "round_id", "feedback_ask_id", "thanks_id")


@dataclass(frozen=True)
class Notice:
    """What a coaching notification says after its actor's name, and where it leads: "added a
    topic to" + "your 1:1 on 3 Dec". `endpoint` is None once the reader may no longer open it
    (the link text is then shown muted)."""

    verb: str
    link_text: str
    endpoint: str | None = None
    values: tuple[tuple[str, int], ...] = ()


# Each coaching feature reads, for a page of its notifications, what each one says (one query
# per feature whatever the page holds): {notification id: Notice}. Filled by the features'
# services (app/services/coaching/…), so that this module imports none of them.
NOTICE_READERS: list = []


def notice_reader(read):
    """Register a feature's reader of Notices (see NOTICE_READERS)."""
    NOTICE_READERS.append(read)
    return read


def on_evidence_shared(evidence: Evidence, *, actor: User) -> None:
    """New shared evidence: the owner's manager and mentors hear of it (events.evidence_shared)."""
    mentors = org.mentors_of(evidence.owner_id)
    manager = db.session.execute(
        select(User.manager_id).where(User.id == evidence.owner_id)
    ).scalar_one_or_none()
    notify(
        [*mentors, *([manager] if manager else [])],
        NotificationKind.EVIDENCE_SHARED,
        actor_id=actor.id,
        evidence_id=evidence.id,
    )


def subscribe() -> None:
    """Connect the receivers to the events they turn into notifications (create_app calls it)."""
    events.evidence_shared.connect(on_evidence_shared)


def unread_count(person_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == person_id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(
    person_id: int,
    notification_ids: Iterable[int] | None = None,
    *,
    through_id: int | None = None,
) -> int:
    """Mark the person's notifications read: these ids, or every one up to `through_id` (the
    newest the page showed, so that one arriving meanwhile stays new), or all. Returns how
    many were unread."""
    query = update(Notification).where(
        Notification.recipient_id == person_id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    if through_id is not None:
        query = query.where(Notification.id <= through_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def keep_newest_unread(person_id: int, keep: int) -> int:
    """Mark read all but the person's `keep` newest unread notifications (the demo starts each
    person with a handful new, not a year's worth). Returns how many it marked."""
    newest = db.session.scalars(
        select(Notification.id)
        .where(Notification.recipient_id == person_id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(keep)
    ).all()
    query = update(Notification).where(
        Notification.recipient_id == person_id,
        Notification.read_at.is_(None),
        Notification.id.not_in(newest),
    )
    return db.session.execute(query.values(read_at=utcnow())).rowcount


# --- the inbox --------------------------------------------------------------------------------

PER_PAGE = 20


@dataclass(frozen=True)
class CaseRef:
    """A promotion case as a notification names it, for a reader who may still open it."""

    id: int
    candidate_id: int
    candidate_name: str  # "you" when the reader is the candidate
    cycle_name: str
    level_title: str  # the level proposed

    @property
    def title(self) -> str:
        """ "your case" or "Ravi Patel's case"."""
        return "your case" if self.candidate_name == "you" else f"{self.candidate_name}'s case"


@dataclass(frozen=True)
class Entry:
    """One notification as its recipient sees it; plain values, so it outlives the commit."""

    id: int
    kind: NotificationKind
    actor_name: str | None
    created_at: datetime
    is_unread: bool
    evidence_id: int | None  # only while the recipient may still see the item
    title: str | None
    answer: CorroborationStatus | None = None  # for an answered corroboration request
    case: CaseRef | None = None  # only while the recipient may still open the case
    session_id: int | None = None  # only while the recipient may still open the session
    session_name: str | None = None
    phase: CyclePhase | None = None  # the phase a cycle moved to (CASE_PHASE)
    decision: Outcome | None = None  # the decision recorded (CASE_DECIDED)
    actor_id: int | None = None
    notice: Notice | None = None  # a coaching notification's text and link

    @property
    def case_id(self) -> int | None:
        return self.case.id if self.case else None

    @property
    def is_self_assessment(self) -> bool:
        """Submitted self-assessments were CASE_PHASE rows before they had a kind of their own:
        the candidate was the actor (only the head of product moves a cycle)."""
        if self.kind is NotificationKind.SELF_ASSESSMENT_SUBMITTED:
            return True
        return (
            self.kind is NotificationKind.CASE_PHASE
            and self.phase is None
            and self.case is not None
            and self.actor_id == self.case.candidate_id
        )


def inbox(viewer: User, page: int) -> tuple[Pagination, list[Entry]]:
    """A page of the viewer's notifications, newest first. Reading only: the page's "Mark all as
    read" button (a POST) marks them, since a GET must not write."""
    pagination = db.paginate(
        select(Notification)
        .where(Notification.recipient_id == viewer.id)
        .options(joinedload(Notification.actor))
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return pagination, entries_for(viewer, list(pagination.items))


def entries_for(viewer: User, shown: list[Notification]) -> list[Entry]:
    """What the inbox shows `viewer` for each of `shown` (their own notifications, with their
    actors loaded): only what the viewer may still see, decided by the policy. The email or
    Slack message about a notification is made from this (app/services/messages/dispatch.py)."""
    titles = readable_titles(viewer, {n.evidence_id for n in shown if n.evidence_id})
    answers = _answers([n for n in shown if n.kind is NotificationKind.CORROBORATION_ANSWERED])
    cases = _cases(viewer, {n.case_id for n in shown if n.case_id})
    sessions = _session_names(viewer, {n.session_id for n in shown if n.session_id})
    notices = notices_for(viewer, shown)
    return [
        Entry(
            id=n.id,
            kind=n.kind,
            actor_name=n.actor.name if n.actor else None,
            actor_id=n.actor_id,
            created_at=n.created_at,
            is_unread=n.read_at is None,
            evidence_id=n.evidence_id if n.evidence_id in titles else None,
            title=titles.get(n.evidence_id),
            answer=answers.get((n.evidence_id, n.actor_id)),
            case=cases.get(n.case_id),
            session_id=n.session_id if n.session_id in sessions else None,
            session_name=sessions.get(n.session_id),
            phase=_member(CyclePhase, n.detail) if n.kind is NotificationKind.CASE_PHASE else None,
            decision=_member(Outcome, n.detail)
            if n.kind is NotificationKind.CASE_DECIDED
            else None,
            notice=notices.get(n.id),
        )
        for n in shown
    ]


def notices_for(viewer: User, shown: list[Notification]) -> dict[int, Notice]:
    """What each coaching notification of `shown` says to `viewer`, from every feature's reader."""
    coaching = [n for n in shown if any(getattr(n, ref) for ref in COACHING_REFERENCES)]
    found: dict[int, Notice] = {}
    if coaching:
        for read in NOTICE_READERS:
            found.update(read(viewer, coaching))
    return found


@dataclass(frozen=True)
class InboxPage:
    """The notifications page."""

    page: Pagination
    entries: list[Entry]


def inbox_page(viewer: User, page: int) -> InboxPage:
    return InboxPage(*inbox(viewer, page))


def _answers(answered: list[Notification]) -> dict[tuple[int, int], CorroborationStatus]:
    if not answered:
        return {}
    rows = db.session.execute(
        select(Corroboration.evidence_id, Corroboration.peer_id, Corroboration.status).where(
            Corroboration.evidence_id.in_({n.evidence_id for n in answered}),
            Corroboration.peer_id.in_({n.actor_id for n in answered}),
        )
    ).all()
    return {(evidence_id, peer_id): status for evidence_id, peer_id, status in rows}


def _member(enum_type, value: str | None):
    """The enum member a stored detail names, or None (older rows, or a value since renamed)."""
    try:
        return enum_type(value) if value else None
    except ValueError:
        return None


def _cases(viewer: User, case_ids: set[int]) -> dict[int, CaseRef]:
    """The cases the viewer may still open (the policy's case.view), with what their
    notifications say of them: candidate, cycle and proposed level (one query)."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(
            PromotionCase.id,
            PromotionCase.candidate_id,
            User.name,
            PromotionCycle.name,
            Level.title,
        )
        .join(User, PromotionCase.candidate_id == User.id)
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .join(Level, PromotionCase.proposed_level_id == Level.id)
        .where(PromotionCase.id.in_(case_ids), policy.where("case.view", viewer))
    ).all()
    return {
        case_id: CaseRef(
            id=case_id,
            candidate_id=candidate_id,
            candidate_name="you" if candidate_id == viewer.id else name,
            cycle_name=cycle,
            level_title=level,
        )
        for case_id, candidate_id, name, cycle, level in rows
    }


def _session_names(viewer: User, session_ids: set[int]) -> dict[int, str]:
    """Names of the calibration sessions the viewer may still open (one query)."""
    if not session_ids:
        return {}
    return dict(
        db.session.execute(
            select(CalibrationSession.id, CalibrationSession.name).where(
                CalibrationSession.id.in_(session_ids), policy.where("session.view", viewer)
            )
        ).all()
    )
