"""Calibration sessions: planning, blind pre-votes, the meeting grid, agreeing, outcomes, lock.

Who may do what is app/policy.py's (session.* and votes.view); when, the phase rules'. Every
change is written to the decision log in the same transaction. The grid and the panels read in
a fixed number of queries, whatever the number of cases and competencies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import policy
from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    Level,
    NotificationKind,
    Outcome,
    PromotionCase,
    Rating,
    RatingSource,
    Role,
    User,
    Vote,
)
from app.models.base import utcnow
from app.services import markdown, notifications
from app.services.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from app.services.growth import readiness
from app.services.promotions import loading, phases
from app.services.promotions.log import LogAction, record
from app.services.promotions.phases import Activity

NAME_MAX = 120
TEXT_MAX = 5000


# --- planning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What the head of product chooses for a session."""

    name: str
    facilitator_id: int | None
    participant_ids: list[int]
    case_ids: list[int]
    proposing_level_id: int | None = None


@dataclass(frozen=True)
class CaseChoice:
    id: int
    candidate: str
    level: str  # the proposed level, "L2 · Senior PM"
    level_id: int
    session: str | None  # the other session it is in
    in_session: bool = False  # in the session being edited


@dataclass(frozen=True)
class PlanningChoices:
    people: list[tuple[int, str]]  # managers and the head of product
    cases: list[CaseChoice]  # open cases not in another session
    levels: list[tuple[int, str]]  # proposed levels of those cases


def planning_choices(cycle_id: int, session_id: int | None = None) -> PlanningChoices:
    """What the session form offers: three queries."""
    people = db.session.execute(
        select(User.id, User.name)
        .where(User.role.in_([Role.MANAGER, Role.HEAD]), User.deactivated_at.is_(None))
        .order_by(User.name, User.id)
    ).all()
    rows = db.session.execute(
        select(PromotionCase, User.name, Level, CalibrationSession.name)
        .join(User, PromotionCase.candidate_id == User.id)
        .join(Level, PromotionCase.proposed_level_id == Level.id)
        .outerjoin(CalibrationSession, PromotionCase.session_id == CalibrationSession.id)
        .where(PromotionCase.cycle_id == cycle_id, PromotionCase.withdrawn_at.is_(None))
        .order_by(Level.rank, User.name, PromotionCase.id)
    ).all()
    cases = [
        CaseChoice(
            case.id,
            name,
            f"{level.code} · {level.title}",
            level.id,
            other if case.session_id not in (None, session_id) else None,
            session_id is not None and case.session_id == session_id,
        )
        for case, name, level, other in rows
    ]
    levels = list(dict.fromkeys((c.level_id, c.level) for c in cases if c.session is None))
    return PlanningChoices([tuple(p) for p in people], cases, levels)


def create_session(
    actor: User,
    cycle_id: int,
    name: str,
    facilitator_id: int | None,
    participant_ids: list[int],
    case_ids: list[int],
    proposing_level_id: int | None = None,
) -> CalibrationSession:
    """The head of product plans a session; its people are told."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    phases.require(cycle, Activity.PLAN_SESSIONS)
    scope = Scope(name, facilitator_id, participant_ids, case_ids, proposing_level_id)
    name, facilitator, participants, cases = _checked_scope(cycle.id, scope, None)
    session = CalibrationSession(
        cycle_id=cycle.id, name=name, facilitator_id=facilitator.id, created_by_id=actor.id
    )
    session.participants = participants
    db.session.add(session)
    db.session.flush()
    for case in cases:
        case.session_id = session.id
    record(
        actor,
        LogAction.SESSION_CREATED,
        cycle_id=cycle.id,
        session_id=session.id,
        to_value=name,
        reason=_scope_summary(facilitator, participants, cases),
    )
    people = {facilitator.id, *(p.id for p in participants)}
    notifications.notify(
        people, NotificationKind.SESSION_ADDED, actor_id=actor.id, session_id=session.id
    )
    db.session.flush()
    return session


def change_session(
    actor: User, session_id: int, scope: Scope, *, expected_revision: int
) -> CalibrationSession:
    """Rename a session or change its people or cases, before it is locked."""
    policy.authorize(actor, "cycles.manage")
    session = loading.session(session_id)
    phases.require_unlocked(session)
    phases.require(session.cycle, Activity.PLAN_SESSIONS)
    if session.revision != expected_revision:
        raise ConflictError(
            "Someone changed this session since you opened the form.", current=_snapshot(session)
        )
    name, facilitator, participants, cases = _checked_scope(session.cycle_id, scope, session.id)
    before = db.session.scalars(
        select(PromotionCase)
        .where(PromotionCase.session_id == session.id)
        .options(joinedload(PromotionCase.candidate))
    ).all()
    changes = _describe_changes(session, name, facilitator, participants, before, cases)
    if not changes:
        return session
    old_name = session.name
    new_people = {facilitator.id, *(p.id for p in participants)} - {
        session.facilitator_id,
        *(p.id for p in session.participants),
    }
    for case in before:
        case.session_id = None
    for case in cases:
        case.session_id = session.id
    session.name, session.facilitator_id, session.participants = name, facilitator.id, participants
    record(
        actor,
        LogAction.SESSION_CHANGED,
        cycle_id=session.cycle_id,
        session_id=session.id,
        from_value=old_name,
        to_value=name,
        reason="; ".join(changes),
    )
    notifications.notify(
        new_people, NotificationKind.SESSION_ADDED, actor_id=actor.id, session_id=session.id
    )
    db.session.flush()
    return session


def _checked_scope(cycle_id: int, scope: Scope, session_id: int | None):
    name = " ".join((scope.name or "").split())
    if not name:
        raise ValidationError("Give the session a name.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Use at most {NAME_MAX} characters.", field="name")
    taken = db.session.execute(
        select(CalibrationSession.id).where(
            CalibrationSession.cycle_id == cycle_id,
            func.lower(CalibrationSession.name) == name.lower(),
            CalibrationSession.id != (session_id or 0),
        )
    ).first()
    if taken is not None:
        raise ValidationError(f"This cycle already has a session called “{name}”.", field="name")
    wanted = {scope.facilitator_id, *scope.participant_ids} - {None}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    facilitator = people.get(scope.facilitator_id)
    if facilitator is None or not _can_calibrate(facilitator):
        raise ValidationError(
            "Choose a facilitator: a manager or the head of product.", field="facilitator_id"
        )
    participants = [people.get(i) for i in dict.fromkeys(scope.participant_ids)]
    if not participants:
        raise ValidationError("Choose at least one participant.", field="participant_ids")
    if not all(p is not None and _can_calibrate(p) for p in participants):
        raise ValidationError(
            "Participants are managers or the head of product.", field="participant_ids"
        )
    participants.sort(key=lambda p: (p.name, p.id))
    cases = _checked_cases(cycle_id, scope, session_id)
    _refuse_own_case({facilitator.id, *(p.id for p in participants)}, cases)
    return name, facilitator, participants, cases


def _can_calibrate(person: User) -> bool:
    return person.is_manager and person.deactivated_at is None


def _checked_cases(cycle_id: int, scope: Scope, session_id: int | None) -> list[PromotionCase]:
    query = select(PromotionCase).options(joinedload(PromotionCase.candidate))
    wanted = set(scope.case_ids)
    found: dict[int, PromotionCase] = {}
    if wanted:
        found.update(
            (c.id, c) for c in db.session.scalars(query.where(PromotionCase.id.in_(wanted)))
        )
    if scope.proposing_level_id is not None:
        level_cases = db.session.scalars(
            query.where(
                PromotionCase.cycle_id == cycle_id,
                PromotionCase.proposed_level_id == scope.proposing_level_id,
                PromotionCase.withdrawn_at.is_(None),
                PromotionCase.session_id.is_(None)
                | (PromotionCase.session_id == (session_id or 0)),
            )
        ).all()
        if not level_cases:
            raise ValidationError(
                "No open case of this cycle outside other sessions proposes that level.",
                field="proposing_level_id",
            )
        found.update((c.id, c) for c in level_cases)
        wanted |= {c.id for c in level_cases}
    if not wanted:
        raise ValidationError("Choose the cases in scope.", field="case_ids")
    for case_id in sorted(wanted):
        case = found.get(case_id)
        if case is None or case.cycle_id != cycle_id or not case.is_open:
            raise ValidationError(
                "Choose open cases of this cycle; a case was withdrawn or is not in it.",
                field="case_ids",
            )
        if case.session_id not in (None, session_id):
            raise ValidationError(
                f"{case.candidate.name}'s case is already in another session.", field="case_ids"
            )
    return sorted(found.values(), key=lambda c: (c.candidate.name, c.id))


def _refuse_own_case(people: set[int], cases: list[PromotionCase]) -> None:
    for case in cases:
        if case.candidate_id in people:
            raise ValidationError(
                f"{case.candidate.name} is a candidate in this session, so cannot take part "
                "in it: leave their case for another session or choose other people.",
                field="participant_ids",
            )


def _scope_summary(facilitator: User, participants: list[User], cases) -> str:
    return (
        f"Facilitator: {facilitator.name}. Participants: "
        f"{', '.join(p.name for p in participants)}. "
        f"Cases: {', '.join(c.candidate.name for c in cases)}."
    )


def _names(items) -> str:
    return ", ".join(sorted(items))


def _describe_changes(session, name, facilitator, participants, before, cases) -> list[str]:
    changes = []
    if name != session.name:
        changes.append(f"Renamed from “{session.name}” to “{name}”")
    if facilitator.id != session.facilitator_id:
        changes.append(f"Facilitator: {session.facilitator.name} → {facilitator.name}")
    old = {p.id: p.name for p in session.participants}
    new = {p.id: p.name for p in participants}
    if added := [new[i] for i in new.keys() - old.keys()]:
        changes.append(f"Participants added: {_names(added)}")
    if removed := [old[i] for i in old.keys() - new.keys()]:
        changes.append(f"Participants removed: {_names(removed)}")
    old_cases = {c.id: c.candidate.name for c in before}
    new_cases = {c.id: c.candidate.name for c in cases}
    if added := [new_cases[i] for i in new_cases.keys() - old_cases.keys()]:
        changes.append(f"Cases added: {_names(added)}")
    if removed := [old_cases[i] for i in old_cases.keys() - new_cases.keys()]:
        changes.append(f"Cases removed: {_names(removed)}")
    return changes


def _snapshot(session: CalibrationSession) -> dict:
    return {
        "name": session.name,
        "facilitator": session.facilitator.name,
        "participants": [p.name for p in session.participants],
    }


# --- shared checks ------------------------------------------------------------------------------


def _visible_session(actor: User, session_id: int) -> CalibrationSession:
    session = loading.session(session_id)
    policy.authorize(actor, "session.view", session)
    return session


def _editable(actor: User, session: CalibrationSession, activity: Activity, action: str) -> None:
    """A clear message for a locked session or the wrong phase, then who may do it."""
    phases.require_unlocked(session)
    phases.require(session.cycle, activity)
    if not policy.can(actor, action, session):
        who = "participants vote" if action == "session.vote" else "facilitator does this"
        raise ForbiddenError(f"In {session.name} only the {who}.")


def _case_in(session: CalibrationSession, case_id: int) -> PromotionCase:
    case = loading.case(case_id)
    if case.session_id != session.id or not case.is_open:
        raise NotFoundError("This case is not in this session.")
    return case


def _expected(level_id: int) -> list[readiness.Expected]:
    return readiness.competencies_at([level_id])[level_id]


def _rating(value, field_name: str) -> Rating:
    try:
        return Rating(getattr(value, "value", value))
    except ValueError:
        raise ValidationError("Choose a rating.", field=field_name) from None


# --- votes --------------------------------------------------------------------------------------


def vote(actor: User, session_id: int, case_id: int, ratings: dict[str, Rating | str]) -> int:
    """Record or change the actor's blind vote on every competency of a case; returns how many
    votes changed (each is logged)."""
    session = _visible_session(actor, session_id)
    _editable(actor, session, Activity.VOTE, "session.vote")
    case = _case_in(session, case_id)
    if case.candidate_id == actor.id:
        raise ForbiddenError("Nobody votes on their own case.")
    expected = _expected(case.proposed_level_id)
    unrated = [e.name for e in expected if not ratings.get(e.key)]
    if unrated:
        raise ValidationError(f"Vote on every competency; still open: {', '.join(unrated)}.")
    wanted = {e.key: _rating(ratings[e.key], e.key) for e in expected}
    mine = {
        v.competency_key: v
        for v in db.session.scalars(
            select(Vote).where(
                Vote.session_id == session.id, Vote.case_id == case.id, Vote.voter_id == actor.id
            )
        )
    }
    changed = 0
    for key, rating in wanted.items():
        current = mine.get(key)
        before = current.rating if current is not None else None
        if before is rating:
            continue
        if current is None:
            db.session.add(
                Vote(
                    session_id=session.id,
                    case_id=case.id,
                    voter_id=actor.id,
                    competency_key=key,
                    rating=rating,
                )
            )
        else:
            current.rating, current.updated_at = rating, utcnow()
        record(
            actor,
            LogAction.VOTE,
            cycle_id=session.cycle_id,
            session_id=session.id,
            case_id=case.id,
            competency_key=key,
            from_value=before,
            to_value=rating,
        )
        changed += 1
    db.session.flush()
    return changed


@dataclass
class Ballot:
    """A case as one person in its session sees it: what they vote on, their votes so far."""

    session: CalibrationSession
    case: PromotionCase
    competencies: list[readiness.Expected]
    my_votes: dict[str, Rating]
    agreed: dict[str, Rating | None]
    can_vote: bool
    can_facilitate: bool


def ballot(viewer: User, session_id: int, case_id: int) -> Ballot:
    """The vote and outcome page of a case in a session (five queries or so, any size)."""
    session = _visible_session(viewer, session_id)
    case = _case_in(session, case_id)
    policy.authorize(viewer, "case.view_assessment", case)
    mine = db.session.execute(
        select(Vote.competency_key, Vote.rating).where(
            Vote.session_id == session.id, Vote.case_id == case.id, Vote.voter_id == viewer.id
        )
    ).all()
    agreed = db.session.execute(
        select(CaseRating.competency_key, CaseRating.rating).where(
            CaseRating.case_id == case.id, CaseRating.source == RatingSource.AGREED
        )
    ).all()
    return Ballot(
        session=session,
        case=case,
        competencies=_expected(case.proposed_level_id),
        my_votes=dict(mine),
        agreed=dict(agreed),
        can_vote=policy.can(viewer, "session.vote", session) and viewer.id != case.candidate_id,
        can_facilitate=policy.can(viewer, "session.facilitate", session),
    )


def reveal(actor: User, session_id: int) -> CalibrationSession:
    """Everyone in the session sees every vote from now on."""
    session = _visible_session(actor, session_id)
    _editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    if session.votes_revealed:
        raise ValidationError("The votes of this session are already revealed.")
    session.votes_revealed_at = utcnow()
    record(actor, LogAction.VOTES_REVEALED, cycle_id=session.cycle_id, session_id=session.id)
    db.session.flush()
    return session


# --- the grid -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    name: str
    area: str


@dataclass
class Spread:
    counts: dict[Rating, int]  # votes per rating, every rating present (0 when none)
    low: Rating | None
    high: Rating | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class GridCell:
    key: str
    applies: bool
    manager: Rating | None = None
    spread: Spread | None = None  # None while the viewer may not see the votes
    sufficiency: readiness.Status | None = None
    agreed: Rating | None = None
    width: int = 0  # high - low over the votes and the manager's rating (0 when hidden)


@dataclass
class GridRow:
    case: PromotionCase
    votes_visible: bool
    voters: int  # participants who voted on the case
    cells: list[GridCell]
    width: int = 0  # the widest cell

    @property
    def spread_total(self) -> int:
        return sum(c.width for c in self.cells)


@dataclass
class Grid:
    session: CalibrationSession
    columns: list[Column]
    rows: list[GridRow]
    voters: int  # participants who may vote (m of "n of m voted")
    can_vote: bool
    can_facilitate: bool
    can_reopen: bool
    can_plan: bool
    is_participant: bool
    voted_case_ids: set[int] = field(default_factory=set)


def _scores(ratings) -> tuple[int, Rating | None, Rating | None]:
    present = [r for r in ratings if r is not None]
    if not present:
        return 0, None, None
    low, high = min(present, key=lambda r: r.score), max(present, key=lambda r: r.score)
    return high.score - low.score, low, high


def grid(viewer: User, session_id: int, *, today: date | None = None) -> Grid:
    """Cases by competencies in agenda order, in a fixed number of queries."""
    session = _visible_session(viewer, session_id)
    cases = db.session.scalars(
        select(PromotionCase)
        .where(PromotionCase.session_id == session.id, PromotionCase.withdrawn_at.is_(None))
        .options(
            joinedload(PromotionCase.candidate),
            joinedload(PromotionCase.proposed_level),
            joinedload(PromotionCase.cycle),
        )
    ).all()
    case_ids = [c.id for c in cases]
    expected = readiness.competencies_at({c.proposed_level_id for c in cases})
    columns = list(
        {e.key: Column(e.key, e.name, e.area) for es in expected.values() for e in es}.values()
    )
    ratings = {}
    if case_ids:
        ratings = {
            (r.case_id, r.competency_key, r.source): r.rating
            for r in db.session.scalars(
                select(CaseRating).where(
                    CaseRating.case_id.in_(case_ids),
                    CaseRating.source.in_([RatingSource.MANAGER, RatingSource.AGREED]),
                )
            )
        }
    participant_ids = {p.id for p in session.participants}
    votes = [
        v
        for v in db.session.scalars(select(Vote).where(Vote.session_id == session.id))
        if v.voter_id in participant_ids
    ]
    sufficiency = readiness.sufficiency(
        [(c.candidate_id, c.proposed_level_id) for c in cases], today=today
    )
    voted = {v.case_id for v in votes if v.voter_id == viewer.id}
    visible = policy.votes_visible(viewer, [case.id for case in cases])
    rows = [
        _row(viewer, case, columns, expected, ratings, votes, visible, sufficiency)
        for case in cases
    ]
    return Grid(
        session=session,
        columns=columns,
        rows=_agenda(rows),
        voters=len(participant_ids),
        can_vote=policy.can(viewer, "session.vote", session),
        can_facilitate=policy.can(viewer, "session.facilitate", session),
        can_reopen=policy.can(viewer, "session.reopen", session),
        can_plan=policy.can(viewer, "cycles.manage")
        and not session.is_locked
        and phases.allows(session.cycle.phase, Activity.PLAN_SESSIONS),
        is_participant=viewer.id in participant_ids,
        voted_case_ids=voted,
    )


def _row(viewer, case, columns, expected, ratings, votes, votes_visible, sufficiency) -> GridRow:
    applies = {e.key for e in expected[case.proposed_level_id]}
    visible = case.id in votes_visible
    own = case.candidate_id == viewer.id
    case_votes = [v for v in votes if v.case_id == case.id]
    by_key: dict[str, list[Rating]] = {}
    for v in case_votes:
        by_key.setdefault(v.competency_key, []).append(v.rating)
    cells = []
    for column in columns:
        cell = GridCell(column.key, column.key in applies)
        if cell.applies and not own:
            if case.manager_submitted_at is not None:
                cell.manager = ratings.get((case.id, column.key, RatingSource.MANAGER))
            cell.agreed = ratings.get((case.id, column.key, RatingSource.AGREED))
            cell.sufficiency = sufficiency.get((case.candidate_id, column.key))
            if visible:
                found = by_key.get(column.key, [])
                counts = Counter(found)
                _width, low, high = _scores(found)
                cell.spread = Spread({r: counts.get(r, 0) for r in Rating}, low, high)
                cell.width = _scores([*found, cell.manager])[0]
        cells.append(cell)
    row = GridRow(case, visible, len({v.voter_id for v in case_votes}), cells)
    row.width = max((c.width for c in cells), default=0)
    return row


def _agenda(rows: list[GridRow]) -> list[GridRow]:
    """Widest disagreement first among the cases whose votes the viewer sees; the others after
    them by name, so that the order says nothing about votes the viewer may not see."""
    seen = sorted(
        (r for r in rows if r.votes_visible),
        key=lambda r: (-r.width, -r.spread_total, r.case.candidate.name, r.case.id),
    )
    blind = sorted(
        (r for r in rows if not r.votes_visible), key=lambda r: (r.case.candidate.name, r.case.id)
    )
    return seen + blind


# --- one cell -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedEvidence:
    id: int
    title: str
    occurred_on: date
    kind: str
    excerpt: str


@dataclass(frozen=True)
class ShownRating:
    source: RatingSource
    rating: Rating | None
    rationale: str
    reason: str
    by: str | None
    at: datetime
    revision: int
    evidence: list[LinkedEvidence]


@dataclass(frozen=True)
class ShownVote:
    voter: str
    rating: Rating
    is_mine: bool


@dataclass
class Cell:
    session: CalibrationSession
    case: PromotionCase
    competency: readiness.Expected
    self_rating: ShownRating | None
    self_hidden: bool
    manager: ShownRating | None
    agreed: ShownRating | None
    votes: list[ShownVote] | None  # None while blind
    my_vote: Rating | None
    voters: int
    can_agree: bool
    can_vote: bool

    @property
    def agreed_revision(self) -> int:
        return self.agreed.revision if self.agreed else 0


def cell(viewer: User, session_id: int, case_id: int, key: str) -> Cell:
    """What a cell of the grid stands on: the expectation, the ratings with their rationale
    and evidence, the votes (when the viewer may see them) and the agreed rating."""
    session = _visible_session(viewer, session_id)
    case = _case_in(session, case_id)
    policy.authorize(viewer, "case.view_assessment", case)
    competency = next((e for e in _expected(case.proposed_level_id) if e.key == key), None)
    if competency is None:
        raise NotFoundError("This competency does not apply at the proposed level.")
    rows = db.session.scalars(
        select(CaseRating)
        .where(CaseRating.case_id == case.id, CaseRating.competency_key == key)
        .options(selectinload(CaseRating.evidence))
    ).all()
    names = _names_of({r.updated_by_id for r in rows} - {None})
    shown = {r.source: _shown(r, names) for r in rows}
    self_allowed = policy.can(viewer, "case.view_self_assessment", case)
    participant_ids = {p.id for p in session.participants}
    votes = db.session.scalars(
        select(Vote)
        .where(Vote.session_id == session.id, Vote.case_id == case.id, Vote.competency_key == key)
        .options(joinedload(Vote.voter))
    ).all()
    votes = [v for v in votes if v.voter_id in participant_ids]
    mine = next((v.rating for v in votes if v.voter_id == viewer.id), None)
    visible = policy.can(viewer, "votes.view", case)
    return Cell(
        session=session,
        case=case,
        competency=competency,
        self_rating=shown.get(RatingSource.SELF) if self_allowed else None,
        self_hidden=not self_allowed,
        manager=shown.get(RatingSource.MANAGER) if case.manager_submitted_at else None,
        agreed=shown.get(RatingSource.AGREED),
        votes=[
            ShownVote(v.voter.name, v.rating, v.voter_id == viewer.id)
            for v in sorted(votes, key=lambda v: (v.voter.name, v.voter_id))
        ]
        if visible
        else None,
        my_vote=mine,
        voters=len({v.voter_id for v in votes}),
        can_agree=policy.can(viewer, "session.facilitate", session),
        can_vote=policy.can(viewer, "session.vote", session) and viewer.id != case.candidate_id,
    )


def _names_of(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _shown(row: CaseRating, names: dict[int, str]) -> ShownRating:
    evidence = [
        LinkedEvidence(
            e.id, e.title, e.occurred_on, e.kind.label, markdown.plain_excerpt(e.body, 200)
        )
        for e in row.evidence
        if e.is_visible_to_others
    ]
    return ShownRating(
        row.source,
        row.rating,
        row.rationale,
        row.reason,
        names.get(row.updated_by_id),
        row.updated_at,
        row.revision,
        evidence,
    )


# --- agreeing and outcomes ----------------------------------------------------------------------


def agree(
    actor: User,
    session_id: int,
    case_id: int,
    key: str,
    rating: Rating | str,
    rationale: str,
    reason: str,
    *,
    expected_revision: int,
) -> CaseRating:
    """Set the agreed rating of one competency; a change away from the manager's rating needs a
    reason. A save over someone else's newer save is a ConflictError with their values."""
    session = _visible_session(actor, session_id)
    _editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    case = _case_in(session, case_id)
    if key not in {e.key for e in _expected(case.proposed_level_id)}:
        raise NotFoundError("This competency does not apply at the proposed level.")
    rating = _rating(rating, "rating")
    rationale, reason = (rationale or "").strip(), (reason or "").strip()
    if not rationale:
        raise ValidationError(
            "Write the rationale: the candidate reads it once the cycle is published.",
            field="rationale",
        )
    if len(rationale) > TEXT_MAX or len(reason) > TEXT_MAX:
        raise ValidationError(f"Use at most {TEXT_MAX:,} characters.", field="rationale")
    stored = {
        r.source: r
        for r in db.session.scalars(
            select(CaseRating).where(
                CaseRating.case_id == case.id,
                CaseRating.competency_key == key,
                CaseRating.source.in_([RatingSource.MANAGER, RatingSource.AGREED]),
            )
        )
    }
    manager = stored.get(RatingSource.MANAGER)
    manager_rating = manager.rating if manager and case.manager_submitted_at else None
    if rating is not manager_rating and not reason:
        raise ValidationError(
            "This differs from the manager's rating "
            f"({manager_rating.label if manager_rating else 'none'}): give the reason.",
            field="reason",
        )
    agreed = stored.get(RatingSource.AGREED)
    current_revision = agreed.revision if agreed else 0
    if current_revision != expected_revision:
        raise _agree_conflict(agreed)
    if agreed and (agreed.rating, agreed.rationale, agreed.reason) == (rating, rationale, reason):
        return agreed
    before = agreed.rating if agreed else manager_rating

    def save() -> CaseRating:
        row = agreed or CaseRating(case_id=case.id, competency_key=key, source=RatingSource.AGREED)
        db.session.add(row)
        row.rating, row.rationale, row.reason = rating, rationale, reason
        row.updated_at, row.updated_by_id = utcnow(), actor.id
        return row

    agreed = _save_or_conflict(save, case.id, key)
    record(
        actor,
        LogAction.AGREED_RATING,
        cycle_id=session.cycle_id,
        session_id=session.id,
        case_id=case.id,
        competency_key=key,
        from_value=before,
        to_value=rating,
        reason=reason or rationale,
    )
    db.session.flush()
    return agreed


def _save_or_conflict(save, case_id: int, key: str) -> CaseRating:
    """Two saves racing past the revision check: the database refuses the second (a stale
    revision or a duplicate row), inside a savepoint so that the refusal can be reported."""
    try:
        with db.session.begin_nested():
            row = save()
            db.session.flush()
            return row
    except (StaleDataError, IntegrityError):
        db.session.expire_all()
        stored = db.session.scalars(
            select(CaseRating).where(
                CaseRating.case_id == case_id,
                CaseRating.competency_key == key,
                CaseRating.source == RatingSource.AGREED,
            )
        ).one_or_none()
        raise _agree_conflict(stored) from None


def _agree_conflict(stored: CaseRating | None) -> ConflictError:
    names = _names_of({stored.updated_by_id} - {None}) if stored else {}
    return ConflictError(
        "Someone saved this agreed rating while you were editing it.",
        current={
            "rating": stored.rating if stored else None,
            "rationale": stored.rationale if stored else "",
            "reason": stored.reason if stored else "",
            "by": names.get(stored.updated_by_id) if stored else None,
            "at": stored.updated_at if stored else None,
            "revision": stored.revision if stored else 0,
        },
    )


def set_outcome(
    actor: User, case_id: int, outcome: Outcome | str, rationale: str, *, expected_revision: int
) -> PromotionCase:
    """The session's outcome for a case (promote, not yet, defer), with its rationale."""
    case = loading.case(case_id)
    if case.session_id is None:
        raise ValidationError("This case is not in a calibration session.")
    session = _visible_session(actor, case.session_id)
    _editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    if not case.is_open:
        raise ValidationError("This case was withdrawn.")
    try:
        outcome = Outcome(getattr(outcome, "value", outcome))
    except ValueError:
        raise ValidationError("Choose an outcome.", field="outcome") from None
    rationale = (rationale or "").strip()
    if not rationale:
        raise ValidationError(
            "Write the rationale for the outcome: the candidate reads it once published.",
            field="outcome_rationale",
        )
    if len(rationale) > TEXT_MAX:
        raise ValidationError(f"Use at most {TEXT_MAX:,} characters.", field="outcome_rationale")
    if case.revision != expected_revision:
        raise ConflictError(
            "This case changed since you opened the page.",
            current={"outcome": case.outcome, "rationale": case.outcome_rationale},
        )
    if (case.outcome, case.outcome_rationale) == (outcome, rationale):
        return case
    before = case.outcome
    case.outcome, case.outcome_rationale, case.updated_at = outcome, rationale, utcnow()
    record(
        actor,
        LogAction.OUTCOME,
        cycle_id=case.cycle_id,
        session_id=session.id,
        case_id=case.id,
        from_value=before,
        to_value=outcome,
        reason=rationale,
    )
    db.session.flush()
    return case


# --- lock and reopen ----------------------------------------------------------------------------


def lock(actor: User, session_id: int) -> CalibrationSession:
    """Nothing in the session can change after this, unless the head of product reopens it."""
    session = _visible_session(actor, session_id)
    _editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    undecided = db.session.scalars(
        select(User.name)
        .join(PromotionCase, PromotionCase.candidate_id == User.id)
        .where(
            PromotionCase.session_id == session.id,
            PromotionCase.withdrawn_at.is_(None),
            PromotionCase.outcome.is_(None),
        )
        .order_by(User.name)
    ).all()
    if undecided:
        raise ValidationError(
            f"Set an outcome on every case before locking; still without one: "
            f"{', '.join(undecided)}."
        )
    session.locked_at, session.locked_by_id = utcnow(), actor.id
    record(actor, LogAction.SESSION_LOCKED, cycle_id=session.cycle_id, session_id=session.id)
    heads = db.session.scalars(
        select(User.id).where(User.role == Role.HEAD, User.deactivated_at.is_(None))
    ).all()
    notifications.notify(
        {*(p.id for p in session.participants), *heads},
        NotificationKind.SESSION_LOCKED,
        actor_id=actor.id,
        session_id=session.id,
    )
    db.session.flush()
    return session


def reopen(actor: User, session_id: int, reason: str) -> CalibrationSession:
    """The head of product reopens a locked session, saying why."""
    session = _visible_session(actor, session_id)
    if not policy.can(actor, "session.reopen", session):
        if actor.role is Role.HEAD:  # the rule refused the head: say what about the session
            if not session.is_locked:
                raise ValidationError(f"{session.name} is not locked.")
            phases.require(session.cycle, Activity.CALIBRATE)
        raise ForbiddenError("Only the head of product reopens a session.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Say why the session is reopened; it is kept in the decision log.", field="reason"
        )
    session.locked_at, session.locked_by_id = None, None
    record(
        actor,
        LogAction.SESSION_REOPENED,
        cycle_id=session.cycle_id,
        session_id=session.id,
        reason=reason[:TEXT_MAX],
    )
    db.session.flush()
    return session


# --- panels on the cycle and case pages ---------------------------------------------------------


@dataclass(frozen=True)
class SessionSummary:
    id: int
    name: str
    facilitator: str
    cases: int
    is_locked: bool
    votes_revealed: bool


def sessions_of(viewer: User, cycle_id: int) -> list[SessionSummary]:
    """The cycle's sessions the viewer may open (all for the head of product): two queries."""
    query = (
        select(CalibrationSession, User.name)
        .join(User, CalibrationSession.facilitator_id == User.id)
        .where(CalibrationSession.cycle_id == cycle_id)
        .order_by(CalibrationSession.name, CalibrationSession.id)
    )
    rows = db.session.execute(query.where(policy.sessions_readable_by(viewer))).all()
    if not rows:
        return []
    counts = dict(
        db.session.execute(
            select(PromotionCase.session_id, func.count())
            .where(
                PromotionCase.session_id.in_([s.id for s, _ in rows]),
                PromotionCase.withdrawn_at.is_(None),
            )
            .group_by(PromotionCase.session_id)
        ).all()
    )
    return [
        SessionSummary(s.id, s.name, name, counts.get(s.id, 0), s.is_locked, s.votes_revealed)
        for s, name in rows
    ]


@dataclass(frozen=True)
class AgreedLine:
    name: str
    rating: Rating | None
    rationale: str


@dataclass(frozen=True)
class CasePanel:
    session_id: int
    session_name: str
    is_locked: bool
    may_open_session: bool
    shows_result: bool
    agreed: list[AgreedLine]
    outcome: Outcome | None
    outcome_rationale: str


def case_panel(viewer: User, case: PromotionCase) -> CasePanel | None:
    """The calibration part of a case page: never votes or who voted."""
    if case.session_id is None or case.session is None:
        return None
    session = case.session
    shows_result = policy.can(viewer, "case.view_result", case)
    agreed: list[AgreedLine] = []
    if shows_result:
        stored = {
            r.competency_key: r
            for r in db.session.scalars(
                select(CaseRating).where(
                    CaseRating.case_id == case.id, CaseRating.source == RatingSource.AGREED
                )
            )
        }
        agreed = [
            AgreedLine(e.name, stored[e.key].rating, stored[e.key].rationale)
            for e in _expected(case.proposed_level_id)
            if e.key in stored
        ]
    return CasePanel(
        session_id=session.id,
        session_name=session.name,
        is_locked=session.is_locked,
        may_open_session=policy.can(viewer, "session.view", session),
        shows_result=shows_result,
        agreed=agreed,
        outcome=case.outcome if shows_result else None,
        outcome_rationale=case.outcome_rationale if shows_result else "",
    )
