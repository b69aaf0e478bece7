"""What a cycle leaves on record: the decision log as people may read it (pages and CSV), and
the fairness figures per manager.

Vote entries are blind: their values and the voter are shown only where the policy's
`votes.view` allows it for the entry's case. Every function here reads a fixed number of queries
whatever the length of the log or the number of cases.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import fmean

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.infra.text import inert_csv_cell
from app.models import (
    CalibrationSession,
    CaseRating,
    Competency,
    CyclePhase,
    DecisionLogEntry,
    Level,
    Outcome,
    PromotionCase,
    PromotionCycle,
    Rating,
    RatingSource,
    User,
)
from app.services.promotions import loading
from app.services.promotions.log import LogAction

PER_PAGE = 50
HIDDEN_VOTE = "Vote recorded"
SYSTEM_ACTOR = "System"
HIDDEN_ACTOR = "A participant"

# --- the decision log -------------------------------------------------------------------------

_RATING_ACTIONS = {LogAction.VOTE, LogAction.AGREED_RATING}
_OUTCOME_ACTIONS = {LogAction.OUTCOME, LogAction.DECISION}
_PHASE_ACTIONS = {LogAction.PHASE_FORWARD, LogAction.PHASE_BACK}
# Events of a whole session that bear on each of its cases, so a case's log shows them too.
_SESSION_EVENTS = [
    LogAction.VOTES_REVEALED.value,
    LogAction.SESSION_LOCKED.value,
    LogAction.SESSION_REOPENED.value,
]
# Events of the whole cycle that concern each of its cases while it is open.
_CYCLE_EVENTS = [
    LogAction.PHASE_FORWARD.value,
    LogAction.PHASE_BACK.value,
    LogAction.CYCLE_PUBLISHED.value,
]
# Other actions store names, level codes or counts: shown as they were written.


@dataclass(frozen=True)
class LogScope:
    """Whose log: one case, one session or a whole cycle, already authorized for the viewer."""

    kind: str  # "case", "session" or "cycle"
    cycle: PromotionCycle
    case: PromotionCase | None = None
    session: CalibrationSession | None = None

    @property
    def shows_cases(self) -> bool:
        """Session and cycle logs name the case of each entry; a case's log need not."""
        return self.kind != "case"

    @property
    def filename(self) -> str:
        if self.kind == "case":
            return f"decision-log-case-{self.case.id}.csv"
        if self.kind == "session":
            return f"decision-log-{_slug(self.session.name)}-session-{self.session.id}.csv"
        return f"decision-log-{_slug(self.cycle.name)}-cycle-{self.cycle.id}.csv"


@dataclass(frozen=True)
class LogRow:
    """One entry as the viewer may read it; plain values, so it outlives the request."""

    id: int
    at: datetime
    who: str  # "A participant" for a vote the viewer may not see
    action: str  # the label
    case_id: int | None
    candidate: str | None
    competency: str | None
    from_label: str
    to_label: str
    reason: str
    is_hidden_vote: bool = False
    is_cycle_event: bool = False  # an entry of the whole cycle (a phase move, the publication)


@dataclass(frozen=True)
class LogPage:
    scope: LogScope
    pagination: Pagination
    rows: list[LogRow] = field(default_factory=list)


def case_scope(viewer: User, case_id: int) -> LogScope:
    case = loading.case(case_id)
    policy.authorize(viewer, "case.view_log", case)
    return LogScope("case", case.cycle, case=case)


def session_scope(viewer: User, session_id: int) -> LogScope:
    session = loading.session(session_id)
    policy.authorize(viewer, "session.view", session)
    return LogScope("session", session.cycle, session=session)


def cycle_scope(viewer: User, cycle_id: int) -> LogScope:
    cycle = loading.cycle(cycle_id)
    policy.authorize(viewer, "cycles.manage", cycle)
    return LogScope("cycle", cycle)


def log_page(viewer: User, scope: LogScope, page: int) -> LogPage:
    """A page of the scope's log, newest first."""
    pagination = db.paginate(
        _entries(viewer, scope), page=page, per_page=PER_PAGE, error_out=False, count=True
    )
    return LogPage(scope, pagination, _rows(viewer, list(pagination.items)))


def log_rows(viewer: User, scope: LogScope) -> list[LogRow]:
    """The whole log of the scope, newest first (for the CSV download)."""
    return _rows(viewer, list(db.session.scalars(_entries(viewer, scope))))


CSV_HEADER = ("When (UTC)", "Who", "What", "Case", "Competency", "From", "To", "Reason")


def log_csv(scope: LogScope, rows: Iterable[LogRow]) -> str:
    """The rows as CSV text, with a header row; cells that a spreadsheet would run as a formula
    are prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = CSV_HEADER if scope.shows_cases else tuple(h for h in CSV_HEADER if h != "Case")
    marks_cycle = scope.kind == "case"  # in a case's log, what concerns the whole cycle
    writer.writerow(header)
    for row in rows:
        cells = [
            row.at.strftime("%Y-%m-%d %H:%M:%S"),
            row.who,
            f"{row.action} (cycle event)" if marks_cycle and row.is_cycle_event else row.action,
            *([row.candidate or ""] if scope.shows_cases else []),
            row.competency or "",
            row.from_label,
            row.to_label,
            row.reason,
        ]
        writer.writerow([inert_csv_cell(cell) for cell in cells])
    return out.getvalue()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "log"


def _entries(viewer: User, scope: LogScope) -> Select:
    query = (
        select(DecisionLogEntry)
        .options(joinedload(DecisionLogEntry.actor))
        .order_by(DecisionLogEntry.at.desc(), DecisionLogEntry.id.desc())
    )
    if scope.kind == "case":
        return query.where(_of_case(scope.case))
    if scope.kind == "session":
        query = query.where(DecisionLogEntry.session_id == scope.session.id)
    else:
        query = query.where(DecisionLogEntry.cycle_id == scope.cycle.id)
    # case.view_log never lets candidates read their own case's log, whichever log it is in.
    return query.outerjoin(PromotionCase, DecisionLogEntry.case_id == PromotionCase.id).where(
        or_(DecisionLogEntry.case_id.is_(None), PromotionCase.candidate_id != viewer.id)
    )


def _of_case(case: PromotionCase):
    """A case's own entries, its session's (reveal, lock, reopen) and the cycle's phase moves
    and publication from the case's opening until it was withdrawn."""
    cycle_events = (
        DecisionLogEntry.case_id.is_(None)
        & (DecisionLogEntry.cycle_id == case.cycle_id)
        & DecisionLogEntry.action.in_(_CYCLE_EVENTS)
        & (DecisionLogEntry.at >= case.created_at)
    )
    if case.withdrawn_at is not None:
        cycle_events &= DecisionLogEntry.at <= case.withdrawn_at
    shown = [DecisionLogEntry.case_id == case.id, cycle_events]
    if case.session_id is not None:
        shown.append(
            DecisionLogEntry.case_id.is_(None)
            & (DecisionLogEntry.session_id == case.session_id)
            & DecisionLogEntry.action.in_(_SESSION_EVENTS)
        )
    return or_(*shown)


def _rows(viewer: User, entries: list[DecisionLogEntry]) -> list[LogRow]:
    case_ids = {e.case_id for e in entries if e.case_id is not None}
    cases = _case_facts(case_ids)
    names = _competency_names(
        {cases[e.case_id][1] for e in entries if e.competency_key and e.case_id in cases},
        {e.competency_key for e in entries if e.competency_key},
    )
    votes = {e.case_id for e in entries if e.action == LogAction.VOTE and e.case_id}
    open_votes = policy.votes_visible(viewer, votes)
    return [_row(e, cases, names, open_votes) for e in entries]


def _row(
    entry: DecisionLogEntry,
    cases: dict[int, tuple[str, int]],
    names: dict[tuple[int, str], str],
    open_votes: set[int],
) -> LogRow:
    action = _action(entry.action)
    candidate, version_id = cases.get(entry.case_id, (None, None))
    competency = None
    if entry.competency_key:
        competency = names.get((version_id, entry.competency_key), entry.competency_key)
    hidden = action is LogAction.VOTE and entry.case_id not in open_votes
    who = entry.actor.name if entry.actor else SYSTEM_ACTOR
    return LogRow(
        id=entry.id,
        at=entry.at,
        who=HIDDEN_ACTOR if hidden else who,
        action=HIDDEN_VOTE if hidden else (action.label if action else entry.action),
        case_id=entry.case_id,
        candidate=candidate,
        competency=competency,
        from_label="" if hidden else _value_label(action, entry.from_value),
        to_label="" if hidden else _value_label(action, entry.to_value),
        reason="" if hidden else entry.reason,
        is_hidden_vote=hidden,
        is_cycle_event=entry.case_id is None
        and action is not None
        and action.value in _CYCLE_EVENTS,
    )


def _action(value: str) -> LogAction | None:
    try:
        return LogAction(value)
    except ValueError:
        return None


def _value_label(action: LogAction | None, value: str) -> str:
    """A stored rating, outcome or phase as people read it (its label)."""
    if not value:
        return ""
    for actions, kind in (
        (_RATING_ACTIONS, Rating),
        (_OUTCOME_ACTIONS, Outcome),
        (_PHASE_ACTIONS, CyclePhase),
    ):
        if action in actions and value in kind._value2member_map_:
            return kind(value).label
    return value


def _case_facts(case_ids: set[int]) -> dict[int, tuple[str, int]]:
    """case id → (the candidate's name, the framework version of the proposed level)."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(PromotionCase.id, User.name, Level.version_id)
        .join(User, PromotionCase.candidate_id == User.id)
        .join(Level, PromotionCase.proposed_level_id == Level.id)
        .where(PromotionCase.id.in_(case_ids))
    ).all()
    return {case_id: (name, version_id) for case_id, name, version_id in rows}


def _competency_names(version_ids: set[int], keys: set[str]) -> dict[tuple[int, str], str]:
    if not version_ids or not keys:
        return {}
    rows = db.session.execute(
        select(Competency.version_id, Competency.key, Competency.name).where(
            Competency.version_id.in_(version_ids), Competency.key.in_(keys)
        )
    ).all()
    return {(version_id, key): name for version_id, key, name in rows}


# --- fairness ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One row of the fairness view: a manager's, or the whole cycle's (manager_id None)."""

    manager_id: int | None
    name: str
    people: int
    leniency: float | None  # mean(manager - agreed); positive = more generous than calibration
    leniency_pairs: int
    self_gap: float | None  # mean(self - manager)
    self_gap_pairs: int
    is_hidden: bool = False


@dataclass(frozen=True)
class Fairness:
    cycle: PromotionCycle
    min_group: int
    managers: list[Figures]
    total: Figures
    # Why the whole-cycle figures are hidden: None, "too_few" or "would_reveal" (exactly one
    # manager hidden: the total minus the shown rows would give that manager's figures away).
    total_hidden_because: str | None = None

    @property
    def hidden_count(self) -> int:
        return sum(1 for row in self.managers if row.is_hidden)


@dataclass
class _Tally:
    people: set[int] = field(default_factory=set)
    leniency: list[int] = field(default_factory=list)
    self_gap: list[int] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        self.people |= other.people
        self.leniency += other.leniency
        self.self_gap += other.self_gap

    def figures(self, manager_id: int | None, name: str, min_group: int) -> Figures:
        return Figures(
            manager_id=manager_id,
            name=name,
            people=len(self.people),
            leniency=fmean(self.leniency) if self.leniency else None,
            leniency_pairs=len(self.leniency),
            self_gap=fmean(self.self_gap) if self.self_gap else None,
            self_gap_pairs=len(self.self_gap),
            is_hidden=len(self.people) < min_group,
        )


def fairness(viewer: User, cycle_id: int, *, min_group: int) -> Fairness:
    """Per manager, over the cycle's open cases: how their ratings compare with the agreed ones,
    and how the candidates' own ratings compare with theirs. Three queries.

    Only submitted assessments count (a draft is not a rating). Groups of fewer than `min_group`
    people are hidden, and so is the total when it would reveal a hidden group."""
    cycle = loading.cycle(cycle_id)
    policy.authorize(viewer, "fairness.view", cycle)
    cases = db.session.execute(
        select(
            PromotionCase.id,
            PromotionCase.candidate_id,
            PromotionCase.manager_id,
            User.name,
            PromotionCase.self_submitted_at.is_not(None),
            PromotionCase.manager_submitted_at.is_not(None),
        )
        .join(User, PromotionCase.manager_id == User.id)
        .where(PromotionCase.cycle_id == cycle.id, PromotionCase.withdrawn_at.is_(None))
    ).all()
    ratings = _submitted_scores(cycle.id, {row[0]: row[4:] for row in cases})
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    manager_names: dict[int, str] = {}
    for case_id, candidate_id, manager_id, manager_name, _self, _manager in cases:
        manager_names[manager_id] = manager_name
        tally = tallies[manager_id]
        tally.people.add(candidate_id)
        for scores in ratings.get(case_id, {}).values():
            mine = scores.get(RatingSource.MANAGER)
            agreed = scores.get(RatingSource.AGREED)
            own = scores.get(RatingSource.SELF)
            if mine is not None and agreed is not None:
                tally.leniency.append(mine - agreed)
            if own is not None and mine is not None:
                tally.self_gap.append(own - mine)
    rows = sorted(
        (tallies[m].figures(m, manager_names[m], min_group) for m in tallies),
        key=lambda row: (row.name.lower(), row.manager_id),
    )
    whole = _Tally()
    for tally in tallies.values():
        whole.add(tally)
    total = whole.figures(None, "Whole cycle", min_group)
    hidden = sum(1 for row in rows if row.is_hidden)
    because = "too_few" if total.is_hidden else "would_reveal" if hidden == 1 else None
    if because and not total.is_hidden:
        total = replace(total, is_hidden=True)
    return Fairness(cycle, min_group, rows, total, because)


def _submitted_scores(
    cycle_id: int, submitted: dict[int, tuple[bool, bool]]
) -> dict[int, dict[str, dict[RatingSource, int]]]:
    """case id → competency key → source → score, leaving out assessments still in draft."""
    found: dict[int, dict[str, dict[RatingSource, int]]] = defaultdict(lambda: defaultdict(dict))
    if not submitted:
        return found
    rows = db.session.execute(
        select(CaseRating.case_id, CaseRating.competency_key, CaseRating.source, CaseRating.rating)
        .join(PromotionCase, CaseRating.case_id == PromotionCase.id)
        .where(
            PromotionCase.cycle_id == cycle_id,
            PromotionCase.withdrawn_at.is_(None),
            CaseRating.rating.is_not(None),
        )
    ).all()
    for case_id, key, source, rating in rows:
        self_in, manager_in = submitted.get(case_id, (False, False))
        if (source is RatingSource.SELF and not self_in) or (
            source is RatingSource.MANAGER and not manager_in
        ):
            continue
        found[case_id][key][source] = rating.score
    return found
