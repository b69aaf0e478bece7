"""What the promotion pages list, each in a fixed number of queries whatever the number of cases.

Who sees which case is the policy's: the filters of the rules `case.view`, `case.view_result`,
`session.view` and `case.nominate` (`policy.where`), evaluated for a whole page at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import (
    CyclePhase,
    FrameworkVersion,
    Level,
    Outcome,
    PromotionCase,
    PromotionCycle,
    Track,
    User,
)
from app.services.promotions import deadlines

PER_PAGE = 25


@dataclass(frozen=True)
class _Seen:
    """What the viewer may see of each listed case (one query for the page's cases)."""

    results: frozenset[int]  # case.view_result
    sessions: frozenset[int]  # session.view, for the case's session


def _seen(viewer: User, cases: list[PromotionCase]) -> _Seen:
    if not cases:
        return _Seen(frozenset(), frozenset())
    rows = db.session.execute(
        select(
            PromotionCase.id,
            policy.where("case.view_result", viewer),
            policy.session_ids_readable_by(viewer, PromotionCase.session_id),
        ).where(PromotionCase.id.in_([case.id for case in cases]))
    ).all()
    return _Seen(
        frozenset(case_id for case_id, result, _ in rows if result),
        frozenset(case_id for case_id, _, session in rows if session),
    )


@dataclass(frozen=True)
class CaseRow:
    """One case as a list shows it; outcome and decision only when the viewer may see them."""

    id: int
    cycle_id: int
    cycle_name: str
    phase: CyclePhase
    candidate_id: int
    candidate_name: str
    manager_name: str
    current_level: str
    proposed_level: str
    proposed_track: str
    is_open: bool
    is_self_submitted: bool
    is_manager_submitted: bool
    session_id: int | None
    session_name: str | None
    may_open_session: bool
    outcome: Outcome | None
    decision: Outcome | None
    is_own: bool
    manager_id: int
    current_level_id: int
    proposed_level_id: int


def _case_query():
    return (
        select(PromotionCase)
        .join(User, PromotionCase.candidate_id == User.id)
        .options(
            joinedload(PromotionCase.cycle),
            joinedload(PromotionCase.candidate),
            joinedload(PromotionCase.manager),
            joinedload(PromotionCase.current_level),
            joinedload(PromotionCase.proposed_level).joinedload(Level.track),
            joinedload(PromotionCase.session),
        )
    )


def _row(case: PromotionCase, viewer: User, seen: _Seen) -> CaseRow:
    shows_result = case.id in seen.results
    return CaseRow(
        id=case.id,
        cycle_id=case.cycle_id,
        cycle_name=case.cycle.name,
        phase=case.cycle.phase,
        candidate_id=case.candidate_id,
        candidate_name=case.candidate.name,
        manager_name=case.manager.name,
        current_level=f"{case.current_level.code} · {case.current_level.title}",
        proposed_level=f"{case.proposed_level.code} · {case.proposed_level.title}",
        proposed_track=case.proposed_level.track.name,
        is_open=case.is_open,
        is_self_submitted=case.self_submitted_at is not None,
        is_manager_submitted=case.manager_submitted_at is not None,
        session_id=case.session_id,
        session_name=case.session.name if case.session else None,
        may_open_session=case.id in seen.sessions,
        outcome=case.outcome if shows_result else None,
        decision=case.decision if shows_result else None,
        is_own=case.candidate_id == viewer.id,
        manager_id=case.manager_id,
        current_level_id=case.current_level_id,
        proposed_level_id=case.proposed_level_id,
    )


def _rows(viewer: User, cases: list[PromotionCase]) -> list[CaseRow]:
    seen = _seen(viewer, cases)
    return [_row(case, viewer, seen) for case in cases]


def cycle_cases(viewer: User, cycle_id: int, page: int) -> tuple[Pagination, list[CaseRow]]:
    """A page of the cycle's cases the viewer may see: open ones first, then by name."""
    pagination = db.paginate(
        _case_query()
        .where(PromotionCase.cycle_id == cycle_id, policy.where("case.view", viewer))
        .order_by(PromotionCase.withdrawn_at.is_not(None), User.name, PromotionCase.id),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return pagination, _rows(viewer, list(pagination.items))


def cycle_cases_after(
    viewer: User, cycle_id: int, after_id: int | None, limit: int
) -> list[CaseRow]:
    """Up to `limit` of the cycle's cases the viewer may see (the cycle page's), by id, after
    `after_id`: the API's pages, stable while cases are added (three queries)."""
    query = _case_query().where(
        PromotionCase.cycle_id == cycle_id, policy.where("case.view", viewer)
    )
    if after_id is not None:
        query = query.where(PromotionCase.id > after_id)
    cases = db.session.scalars(query.order_by(PromotionCase.id).limit(limit)).all()
    return _rows(viewer, list(cases))


def visible_cases(viewer: User, page: int) -> tuple[Pagination, list[CaseRow]]:
    """Cases across cycles the viewer may see, apart from their own: newest cycle first."""
    pagination = db.paginate(
        _case_query()
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(policy.where("case.view", viewer), PromotionCase.candidate_id != viewer.id)
        .order_by(
            PromotionCycle.created_at.desc(),
            PromotionCycle.id.desc(),
            PromotionCase.withdrawn_at.is_not(None),
            User.name,
            PromotionCase.id,
        ),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return pagination, _rows(viewer, list(pagination.items))


def own_cases(viewer: User) -> list[CaseRow]:
    """The viewer's own cases (a handful at most: one per cycle), newest first."""
    cases = db.session.execute(
        _case_query()
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(PromotionCase.candidate_id == viewer.id)
        .order_by(PromotionCycle.created_at.desc(), PromotionCase.id.desc())
    ).scalars()
    return _rows(viewer, list(cases))


def person_cases(viewer: User, person_id: int) -> list[CaseRow]:
    """The person's cases the viewer may see (`case.view`), newest cycle first (one per cycle)."""
    cases = db.session.execute(
        _case_query()
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(PromotionCase.candidate_id == person_id, policy.where("case.view", viewer))
        .order_by(PromotionCycle.created_at.desc(), PromotionCase.id.desc())
    ).scalars()
    return _rows(viewer, list(cases))


@dataclass(frozen=True)
class CycleSummary:
    id: int
    name: str
    phase: CyclePhase
    created_at: datetime
    published_at: datetime | None
    open_cases: int
    due_at: datetime | None = None  # when its current phase is due


def cycles(page: int) -> tuple[Pagination, list[CycleSummary]]:
    """Every cycle, newest first, with its number of open cases and when its phase is due
    (three queries)."""
    pagination = db.paginate(
        select(PromotionCycle).order_by(PromotionCycle.created_at.desc(), PromotionCycle.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return pagination, summaries(list(pagination.items))


def cycles_after(after_id: int | None, limit: int) -> list[CycleSummary]:
    """Up to `limit` cycles, newest (highest id) first, after `after_id`: the API's pages of
    the list every signed-in person sees (three queries)."""
    query = select(PromotionCycle)
    if after_id is not None:
        query = query.where(PromotionCycle.id < after_id)
    return summaries(
        list(db.session.scalars(query.order_by(PromotionCycle.id.desc()).limit(limit)))
    )


def summaries(shown: list[PromotionCycle]) -> list[CycleSummary]:
    """The cycles with their number of open cases and when their phase is due (two queries)."""
    counts = dict(
        db.session.execute(
            select(PromotionCase.cycle_id, func.count(PromotionCase.id))
            .where(
                PromotionCase.cycle_id.in_([c.id for c in shown]),
                PromotionCase.withdrawn_at.is_(None),
            )
            .group_by(PromotionCase.cycle_id)
        ).all()
    )
    due = deadlines.deadlines_for(c.id for c in shown)
    return [
        CycleSummary(
            c.id,
            c.name,
            c.phase,
            c.created_at,
            c.published_at,
            counts.get(c.id, 0),
            due.get((c.id, c.phase)),
        )
        for c in shown
    ]


# --- choices for the forms ---------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: int
    label: str
    group: str = ""


def nominees(viewer: User, cycle_id: int) -> list[Choice]:
    """Active people the viewer may nominate, placed on a level, without an open case here."""
    with_case = select(PromotionCase.candidate_id).where(
        PromotionCase.cycle_id == cycle_id, PromotionCase.withdrawn_at.is_(None)
    )
    query = (
        select(User.id, User.name, Level.code, Level.title)
        .join(Level, User.level_id == Level.id)
        .where(
            User.deactivated_at.is_(None),
            User.id.not_in(with_case),
            policy.where("case.nominate", viewer),
        )
        .order_by(User.name, User.id)
    )
    return [
        Choice(person_id, f"{name} — now {code} · {title}")
        for person_id, name, code, title in db.session.execute(query)
    ]


@dataclass(frozen=True)
class ProposedLevels:
    """The levels a nomination may propose for one person, their next level first."""

    choices: list[Choice]
    next_level_id: int | None  # the level above theirs on their track, preselected
    current: str = ""  # their level now, "L1 · Level 1"
    track: str = ""  # their track in the cycle's career paths, "Framework — Track"
    is_top: bool = False  # no higher level on their track
    is_all: bool = True  # every track's levels, not only theirs


def levels_for(cycle: PromotionCycle, candidate_id: int, every_track: bool) -> ProposedLevels:
    """The levels above a person's on their own track in the cycle's versions (the same track
    key of the same framework), or above their rank on every track; two queries."""
    person = db.session.execute(
        select(Level.code, Level.title, Level.rank, Track.key, FrameworkVersion.framework_id)
        .select_from(User)
        .join(Level, User.level_id == Level.id)
        .join(Track, Level.track_id == Track.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(User.id == candidate_id)
    ).first()
    if person is None:
        return ProposedLevels(proposed_levels(cycle), None)
    code, title, rank, track_key, framework_id = person
    rows = db.session.execute(
        select(Level.id, Level.code, Level.title, Track.name, FrameworkVersion.name)
        .add_columns(Track.key, FrameworkVersion.framework_id)
        .join(Track, Level.track_id == Track.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(Level.version_id.in_([v.id for v in cycle.versions]), Level.rank > rank)
        .order_by(FrameworkVersion.name, Track.position, Level.rank, Level.position)
    ).all()
    own = [row for row in rows if (row.key, row.framework_id) == (track_key, framework_id)]
    track = _track_name(cycle, track_key, framework_id)
    shown = rows if every_track or not track else own
    return ProposedLevels(
        [Choice(r[0], f"{r[1]} · {r[2]}", f"{r[4]} — {r[3]}") for r in shown],
        own[0][0] if own else None,
        current=f"{code} · {title}",
        track=track,
        is_top=bool(track) and not own,
        is_all=shown is rows,
    )


def _track_name(cycle: PromotionCycle, key: str, framework_id: int) -> str:
    """ "Framework — Track" of the cycle's version of a track, or "" when the cycle has none."""
    row = db.session.execute(
        select(FrameworkVersion.name, Track.name)
        .join(Track, Track.version_id == FrameworkVersion.id)
        .where(
            FrameworkVersion.id.in_([v.id for v in cycle.versions]),
            FrameworkVersion.framework_id == framework_id,
            Track.key == key,
        )
    ).first()
    return f"{row[0]} — {row[1]}" if row else ""


def proposed_levels(cycle: PromotionCycle) -> list[Choice]:
    """Every level of the cycle's versions, grouped by framework and track, lowest rank first."""
    rows = db.session.execute(
        select(Level.id, Level.code, Level.title, Track.name, FrameworkVersion.name)
        .join(Track, Level.track_id == Track.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(Level.version_id.in_([v.id for v in cycle.versions]))
        .order_by(FrameworkVersion.name, Track.position, Level.rank, Level.position)
    ).all()
    return [
        Choice(level_id, f"{code} · {title}", f"{framework} — {track}")
        for level_id, code, title, track, framework in rows
    ]
