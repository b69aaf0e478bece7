"""Read-models of the 1:1 pages, the person page's panel, home's summary and the evidence
page's "Discussed in 1:1s": each in a fixed number of queries whatever the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from app import policy
from app.extensions import db
from app.infra import markdown, timezones
from app.models import (
    ActionItem,
    AgendaItem,
    Cadence,
    Meeting,
    OneOnOne,
    PairKind,
    PrivateNote,
    User,
)
from app.models.base import utcnow
from app.services.oneonones import links as link_views
from app.services.oneonones.spaces import (
    DURATIONS,
    between,
    get_meeting,
    get_pair,
    propose_next,
)

MEETINGS_PER_PAGE = 20
HOME_ACTIONS = 10
FORMER = "A former colleague"

# Made once: aliasing User costs about 1 ms each time (every column is proxied), more than
# the queries below take to run. An alias holds no data; each serves one statement builder.
_PAIR_LEAD, _PAIR_MEMBER = aliased(User), aliased(User)
_ACTION_OWNER, _RAISED_IN = aliased(User), aliased(Meeting)
_AGENDA_AUTHOR = aliased(User)
_NEXT_LEAD, _NEXT_MEMBER = aliased(User), aliased(User)


@dataclass(frozen=True)
class Pair:
    """A pair as the viewer sees it: who the other person is to them."""

    id: int
    lead_id: int | None
    member_id: int | None
    lead_name: str
    member_name: str
    kind: PairKind
    cadence: Cadence
    viewer_id: int
    revision: int = 0  # carried by the cadence form: a stale change answers 409

    @property
    def is_lead(self) -> bool:
        return self.viewer_id == self.lead_id

    @property
    def other_name(self) -> str:
        return self.member_name if self.is_lead else self.lead_name

    @property
    def other_id(self) -> int | None:
        return self.member_id if self.is_lead else self.lead_id

    @property
    def relation(self) -> str:
        """What the other person is to the viewer."""
        if self.kind == PairKind.MANAGER:
            return "Your report" if self.is_lead else "Your manager"
        return "Your mentee" if self.is_lead else "Your mentor"

    @property
    def owners(self) -> list[tuple[int, str]]:
        """Who may own an action item: the viewer first."""
        people = [(self.lead_id, self.lead_name), (self.member_id, self.member_name)]
        present = [(pid, name) for pid, name in people if pid is not None]
        return sorted(present, key=lambda p: p[0] != self.viewer_id)


def _pairs(viewer: User, condition) -> list[Pair]:
    lead, member = _PAIR_LEAD, _PAIR_MEMBER
    rows = db.session.execute(
        select(OneOnOne, lead.name, member.name)
        .outerjoin(lead, lead.id == OneOnOne.lead_id)
        .outerjoin(member, member.id == OneOnOne.member_id)
        .where(policy.where("oneonone.view", viewer), condition)
        .order_by(OneOnOne.kind, member.name, OneOnOne.id)
    ).all()
    return [
        Pair(
            p.id,
            p.lead_id,
            p.member_id,
            lead_name or FORMER,
            member_name or FORMER,
            p.kind,
            p.cadence,
            viewer.id,
            p.revision,
        )
        for p, lead_name, member_name in rows
    ]


def pair_view(viewer: User, pair: OneOnOne) -> Pair:
    """The pair as the viewer sees it (the caller checked oneonone.view)."""
    return _pairs(viewer, OneOnOne.id == pair.id)[0]


@dataclass(frozen=True)
class ActionRow:
    id: int
    text: str
    owner_id: int | None
    owner_name: str
    due_on: date | None
    done_at: datetime | None
    raised_in_id: int | None
    raised_at: datetime | None  # when the meeting it was raised in started
    other_name: str = ""  # on home: whom the 1:1 is with

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today


def _actions(condition, *, limit: int | None = None) -> list[ActionRow]:
    owner, raised = _ACTION_OWNER, _RAISED_IN
    query = (
        select(ActionItem, owner.name, raised.starts_at)
        .outerjoin(owner, owner.id == ActionItem.owner_id)
        .outerjoin(raised, raised.id == ActionItem.raised_in_id)
        .where(condition)
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
        .limit(limit)
    )
    return [
        ActionRow(
            a.id, a.text, a.owner_id, name or FORMER, a.due_on, a.done_at, a.raised_in_id, starts_at
        )
        for a, name, starts_at in db.session.execute(query).all()
    ]


# --- the list of the viewer's pairs -------------------------------------------------------


@dataclass(frozen=True)
class PairRow:
    pair: Pair
    next_meeting: datetime | None
    open_actions: int


@dataclass(frozen=True)
class Startable:
    person_id: int
    name: str
    kind: PairKind


@dataclass(frozen=True)
class IndexPage:
    rows: list[PairRow]
    startable: list[Startable]
    today: date


def index_page(viewer: User) -> IndexPage:
    now = utcnow()
    pairs = _pairs(viewer, True)
    ids = [p.id for p in pairs]
    upcoming = (
        dict(
            db.session.execute(
                select(Meeting.one_on_one_id, func.min(Meeting.starts_at))
                .where(Meeting.one_on_one_id.in_(ids), Meeting.starts_at >= now)
                .group_by(Meeting.one_on_one_id)
            ).all()
        )
        if ids
        else {}
    )
    counts = (
        dict(
            db.session.execute(
                select(ActionItem.one_on_one_id, func.count())
                .where(ActionItem.one_on_one_id.in_(ids), ActionItem.done_at.is_(None))
                .group_by(ActionItem.one_on_one_id)
            ).all()
        )
        if ids
        else {}
    )
    return IndexPage(
        rows=[PairRow(p, upcoming.get(p.id), counts.get(p.id, 0)) for p in pairs],
        startable=startable(viewer),
        today=now.date(),
    )


def startable(viewer: User, person_id: int | None = None) -> list[Startable]:
    """Reports and mentees the viewer may start 1:1s with and has no space with yet."""
    has_space = exists().where(between(viewer.id, User.id))  # whoever leads it
    query = select(User.id, User.name, User.manager_id).where(
        policy.where("oneonone.open", viewer),
        User.id != viewer.id,
        User.deactivated_at.is_(None),
        ~has_space,
    )
    if person_id is not None:
        query = query.where(User.id == person_id)
    rows = db.session.execute(query.order_by(User.name)).all()
    return [
        Startable(pid, name, PairKind.MANAGER if manager_id == viewer.id else PairKind.MENTOR)
        for pid, name, manager_id in rows
    ]


# --- a pair's space -----------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRow:
    id: int
    starts_at: datetime
    duration_minutes: int
    topics: int


@dataclass(frozen=True)
class SpacePage:
    pair: Pair
    meetings: Pagination
    rows: list[MeetingRow]
    next_meeting: MeetingRow | None
    proposed: datetime | None
    proposed_local: datetime | None  # the same, as the viewer's wall-clock time (the form's)
    open_actions: list[ActionRow]
    cadences: list[tuple[str, str]]
    durations: tuple[int, ...]
    now: datetime


def space_page(viewer: User, pair_id: int, page: int = 1) -> SpacePage:
    pair = pair_view(viewer, get_pair(viewer, pair_id))
    now = utcnow()
    meetings = db.paginate(
        select(Meeting)
        .where(Meeting.one_on_one_id == pair.id)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()),
        page=page,
        per_page=MEETINGS_PER_PAGE,
        error_out=False,
        count=True,
    )
    items = list(meetings.items)
    topics = _topic_counts([m.id for m in items])
    following = db.session.execute(
        select(Meeting)
        .where(Meeting.one_on_one_id == pair.id, Meeting.starts_at >= now)
        .order_by(Meeting.starts_at)
        .limit(1)
    ).scalar_one_or_none()
    latest = db.session.execute(
        select(func.max(Meeting.starts_at)).where(Meeting.one_on_one_id == pair.id)
    ).scalar_one()
    proposed = propose_next(pair.cadence, latest, now)
    return SpacePage(
        pair=pair,
        meetings=meetings,
        rows=[_meeting_row(m, topics) for m in items],
        next_meeting=_meeting_row(following, _topic_counts([following.id])) if following else None,
        proposed=proposed,
        proposed_local=timezones.local(proposed, viewer.time_zone) if proposed else None,
        open_actions=_actions(
            and_(ActionItem.one_on_one_id == pair.id, ActionItem.done_at.is_(None))
        ),
        cadences=[(c.value, c.label) for c in Cadence],
        durations=DURATIONS,
        now=now,
    )


def _topic_counts(meeting_ids: list[int]) -> dict[int, int]:
    if not meeting_ids:
        return {}
    return dict(
        db.session.execute(
            select(AgendaItem.meeting_id, func.count())
            .where(AgendaItem.meeting_id.in_(meeting_ids))
            .group_by(AgendaItem.meeting_id)
        ).all()
    )


def _meeting_row(meeting: Meeting, topics: dict[int, int]) -> MeetingRow:
    return MeetingRow(
        meeting.id, meeting.starts_at, meeting.duration_minutes, topics.get(meeting.id, 0)
    )


# --- one meeting --------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRow:
    id: int
    text: str
    author_name: str
    is_mine: bool
    is_discussed: bool
    revision: int
    links: list[link_views.LinkView]


@dataclass(frozen=True)
class MeetingPage:
    pair: Pair
    meeting: Meeting
    agenda: list[AgendaRow]
    notes_html: Markup
    private_body: str
    private_revision: int
    private_html: Markup
    raised_here: list[ActionRow]
    carried: list[ActionRow]  # raised earlier, open (or done in this meeting)
    link_choices: list[tuple[str, list[tuple[str, str]]]]
    previous_id: int | None
    next_id: int | None
    today: date

    @property
    def is_past(self) -> bool:
        return self.meeting.starts_at.date() < self.today


def meeting_page(viewer: User, meeting_id: int) -> MeetingPage:
    meeting, pair_row = get_meeting(viewer, meeting_id)
    pair = pair_view(viewer, pair_row)
    note = db.session.execute(
        select(PrivateNote).where(
            PrivateNote.meeting_id == meeting.id, policy.where("private_note.view", viewer)
        )
    ).scalar_one_or_none()
    earlier = select(Meeting.id).where(
        Meeting.one_on_one_id == pair.id, Meeting.starts_at < meeting.starts_at
    )
    carried = _actions(
        and_(
            ActionItem.one_on_one_id == pair.id,
            ActionItem.raised_in_id.in_(earlier),
            or_(ActionItem.done_at.is_(None), ActionItem.done_in_id == meeting.id),
        )
    )
    return MeetingPage(
        pair=pair,
        meeting=meeting,
        agenda=_agenda(viewer, pair, meeting),
        notes_html=markdown.render(meeting.shared_notes),
        private_body=note.body if note else "",
        private_revision=note.revision if note else 0,
        private_html=markdown.render(note.body) if note else Markup(""),
        raised_here=_actions(ActionItem.raised_in_id == meeting.id),
        carried=carried,
        link_choices=link_views.choices(viewer, pair.member_id),
        previous_id=_neighbour(meeting, before=True),
        next_id=_neighbour(meeting, before=False),
        today=utcnow().date(),
    )


def _agenda(viewer: User, pair: Pair, meeting: Meeting) -> list[AgendaRow]:
    author = _AGENDA_AUTHOR
    rows = db.session.execute(
        select(AgendaItem, author.name)
        .outerjoin(author, author.id == AgendaItem.author_id)
        .where(AgendaItem.meeting_id == meeting.id)
        .order_by(AgendaItem.position, AgendaItem.id)
    ).all()
    links = link_views.for_items(viewer, pair.member_id, [item.id for item, _ in rows])
    return [
        AgendaRow(
            item.id,
            item.text,
            name or FORMER,
            item.author_id == viewer.id,
            item.is_discussed,
            item.revision,
            links.get(item.id, []),
        )
        for item, name in rows
    ]


def _neighbour(meeting: Meeting, *, before: bool) -> int | None:
    order = Meeting.starts_at.desc() if before else Meeting.starts_at
    condition = (
        Meeting.starts_at < meeting.starts_at if before else Meeting.starts_at > meeting.starts_at
    )
    return db.session.execute(
        select(Meeting.id)
        .where(Meeting.one_on_one_id == meeting.one_on_one_id, condition)
        .order_by(order)
        .limit(1)
    ).scalar_one_or_none()


# --- elsewhere: the person page, home, the evidence page ----------------------------------


@dataclass(frozen=True)
class PersonPanel:
    """The person page's 1:1s panel: the pair the viewer shares with the person, or a start."""

    pair: Pair | None
    next_meeting: datetime | None
    open_actions: list[ActionRow]
    may_start: bool
    today: date


def person_panel(viewer: User, person_id: int) -> PersonPanel | None:
    """None when the viewer has no 1:1s with the person and may not start them."""
    if person_id == viewer.id:
        return None
    pairs = _pairs(viewer, between(viewer.id, person_id))
    if not pairs:
        may_start = bool(startable(viewer, person_id))
        return PersonPanel(None, None, [], True, utcnow().date()) if may_start else None
    pair = pairs[0]
    next_meeting = db.session.execute(
        select(func.min(Meeting.starts_at)).where(
            Meeting.one_on_one_id == pair.id, Meeting.starts_at >= utcnow()
        )
    ).scalar_one()
    actions = _actions(and_(ActionItem.one_on_one_id == pair.id, ActionItem.done_at.is_(None)))
    return PersonPanel(pair, next_meeting, actions, False, utcnow().date())


@dataclass(frozen=True)
class HomeSummary:
    next_meeting_id: int | None
    next_meeting_at: datetime | None
    next_with: str
    actions: list[ActionRow]  # the viewer's open action items, overdue first
    more_actions: int
    today: date


def home_summary(viewer: User) -> HomeSummary:
    now = utcnow()
    lead, member = _NEXT_LEAD, _NEXT_MEMBER
    upcoming = db.session.execute(
        select(Meeting.id, Meeting.starts_at, OneOnOne.lead_id, lead.name, member.name)
        .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
        .outerjoin(lead, lead.id == OneOnOne.lead_id)
        .outerjoin(member, member.id == OneOnOne.member_id)
        .where(policy.where("oneonone.view", viewer), Meeting.starts_at >= now)
        .order_by(Meeting.starts_at)
        .limit(1)
    ).first()
    mine = and_(
        ActionItem.owner_id == viewer.id,
        ActionItem.done_at.is_(None),
        ActionItem.one_on_one_id.in_(
            select(OneOnOne.id).where(policy.where("oneonone.view", viewer))
        ),
    )
    total = db.session.execute(
        select(func.count()).select_from(ActionItem).where(mine)
    ).scalar_one()
    with_name = None
    if upcoming:
        with_name = upcoming[4] if upcoming[2] == viewer.id else upcoming[3]
    return HomeSummary(
        next_meeting_id=upcoming[0] if upcoming else None,
        next_meeting_at=upcoming[1] if upcoming else None,
        next_with=with_name or FORMER,
        actions=_actions(mine, limit=HOME_ACTIONS),
        more_actions=max(total - HOME_ACTIONS, 0),
        today=now.date(),
    )


@dataclass(frozen=True)
class Discussed:
    meeting_id: int
    starts_at: datetime


def discussed_in(viewer: User, evidence_id: int) -> list[Discussed]:
    """The viewer's 1:1 meetings whose agenda linked this evidence item (only pairs the viewer
    is one of: nobody else learns that it was discussed)."""
    from app.models import CoachingLink

    return _linked_in(viewer, CoachingLink.evidence_id == evidence_id)


def goal_discussed_in(viewer: User, goal_id: int) -> list[Discussed]:
    """The viewer's 1:1 meetings whose agenda linked this goal (the viewer's own pairs only);
    one query."""
    from app.models import CoachingLink

    return _linked_in(viewer, CoachingLink.goal_id == goal_id)


def _linked_in(viewer: User, condition) -> list[Discussed]:
    from app.models import CoachingLink

    rows = db.session.execute(
        select(Meeting.id, Meeting.starts_at)
        .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
        .where(
            policy.where("oneonone.view", viewer),
            Meeting.id.in_(
                select(AgendaItem.meeting_id)
                .join(CoachingLink, CoachingLink.agenda_item_id == AgendaItem.id)
                .where(condition)
            ),
        )
        .order_by(Meeting.starts_at)
    ).all()
    return [Discussed(mid, starts_at) for mid, starts_at in rows]
