"""The meeting: the session page's grid of cases by competencies in agenda order, and the page
of one cell (the expectation, the ratings with their evidence, the votes, the agreed rating).
Both read in a fixed number of queries, whatever the number of cases and competencies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import Row, select
from sqlalchemy.orm import joinedload, selectinload

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.infra import markdown
from app.models import (
    CalibrationSession,
    CaseRating,
    PromotionCase,
    Rating,
    RatingSource,
    User,
    Vote,
)
from app.services.growth import readiness
from app.services.growth.since import case_level_reached
from app.services.promotions.calibration.checks import (
    case_in,
    expected_at,
    may_plan,
    may_vote,
    names_of,
    visible_session,
)
from app.services.promotions.calibration.votes import participant_vote_rows, participant_votes

# --- the grid -----------------------------------------------------------------------------------


# The widest column header that lets 13 competencies and the case column fit 1280 px.
SHORT_MAX = 12


@dataclass(frozen=True)
class Column:
    key: str
    name: str
    area: str
    short_name: str = ""  # the head's, or one made from the name (see abbreviate)

    @property
    def short(self) -> str:
        """The column header in a dense grid (the full name goes in the header's title and
        accessible name)."""
        return self.short_name or abbreviate(self.name, self.key)


def abbreviate(name: str, key: str = "") -> str:
    """A header for a competency the head gave no short name: the name if it fits, else its
    first word if that fits ("Stakeholder management" → "Stakeholder"), else the name cut at a
    word boundary or, for one long word, its first letters and an ellipsis: never a word cut
    with a dot that reads as an abbreviation it is not."""
    name = " ".join(name.split()) or key
    if len(name) <= SHORT_MAX:
        return name
    words = [word.strip(",&:;") for word in name.split()]
    if words[0] and len(words[0]) <= SHORT_MAX:
        return words[0]
    return name[: SHORT_MAX - 1].rstrip(" ,&:;-") + "…"


def _columns(expected) -> list[Column]:
    """The grid's columns in agenda order; two made-up headers that would read the same (two
    names starting "Product …") become the names cut to fit, which tell them apart."""
    columns = {
        e.key: Column(e.key, e.name, e.area, e.short_name) for es in expected.values() for e in es
    }
    made = Counter(c.short for c in columns.values() if not c.short_name)
    return [
        replace(c, short_name=c.name[: SHORT_MAX - 1].rstrip() + "…")
        if not c.short_name and made[c.short] > 1
        else c
        for c in columns.values()
    ]


@dataclass(frozen=True)
class Spread:
    counts: dict[Rating, int]  # votes per rating, every rating present (0 when none)
    low: Rating | None
    high: Rating | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class GridCell:
    key: str
    applies: bool
    manager: Rating | None = None
    spread: Spread | None = None  # None while the viewer may not see the votes
    sufficiency: readiness.Status | None = None
    agreed: Rating | None = None
    width: int = 0  # high - low over the votes and the manager's rating (0 when hidden)
    disagreement: int = 0  # 1, 2, … in agenda order where the ratings differ; 0 where they agree


@dataclass(frozen=True)
class GridRow:
    case: PromotionCase
    votes_visible: bool
    voters: int  # participants who voted on the case
    cells: list[GridCell]
    evidence_since: date | None = None  # the evidence counts from the day of the current level

    @property
    def width(self) -> int:
        """The widest cell."""
        return max((c.width for c in self.cells), default=0)

    @property
    def spread_total(self) -> int:
        return sum(c.width for c in self.cells)


@dataclass(frozen=True)
class SessionPage:
    """The session page: the grid and what the viewer may do in the session."""

    session: CalibrationSession
    columns: list[Column]
    rows: list[GridRow]
    voters: int  # participants who may vote (m of "n of m voted")
    can_vote: bool
    can_facilitate: bool
    can_reopen: bool
    can_plan: bool
    is_participant: bool
    voted_case_ids: frozenset[int] = frozenset()
    disagreements: int = 0  # cells where the votes and the manager's rating differ


@dataclass(frozen=True)
class _Facts:
    """What the grid's rows are read from, fetched once for every case."""

    columns: list[Column]
    expected: dict[int, list[readiness.Expected]]
    ratings: dict[tuple[int, str, RatingSource], Rating]
    votes: dict[int, list[Row]]  # case id → its votes (case_id, voter_id, competency_key, rating)
    votes_visible: set[int]
    sufficiency: dict
    since: dict[int, date]  # candidate id → the day they reached the level their case starts at


def _scores(ratings) -> tuple[int, Rating | None, Rating | None]:
    present = [r for r in ratings if r is not None]
    if not present:
        return 0, None, None
    low, high = min(present, key=lambda r: r.score), max(present, key=lambda r: r.score)
    return high.score - low.score, low, high


def session_page(viewer: User, session_id: int, *, today: date | None = None) -> SessionPage:
    """Cases by competencies in agenda order, in a fixed number of queries."""
    session = visible_session(viewer, session_id)
    cases = db.session.scalars(
        select(PromotionCase)
        .where(PromotionCase.session_id == session.id, PromotionCase.withdrawn_at.is_(None))
        .options(
            joinedload(PromotionCase.candidate),
            joinedload(PromotionCase.current_level),
            joinedload(PromotionCase.proposed_level),
            joinedload(PromotionCase.cycle),
        )
    ).all()
    facts = _facts(viewer, session, cases, today)
    participant_ids = {p.id for p in session.participants}
    rows, disagreements = _numbered(_agenda([_row(viewer, case, facts) for case in cases]))
    return SessionPage(
        session=session,
        columns=facts.columns,
        rows=rows,
        disagreements=disagreements,
        voters=len(participant_ids),
        can_vote=policy.can(viewer, "session.vote", session),
        can_facilitate=policy.can(viewer, "session.facilitate", session),
        can_reopen=policy.can(viewer, "session.reopen", session),
        can_plan=may_plan(viewer, session.cycle) and not session.is_locked,
        is_participant=viewer.id in participant_ids,
        voted_case_ids=frozenset(
            case_id
            for case_id, votes in facts.votes.items()
            if any(v.voter_id == viewer.id for v in votes)
        ),
    )


def _facts(viewer: User, session: CalibrationSession, cases, today: date | None) -> _Facts:
    case_ids = [c.id for c in cases]
    expected = readiness.competencies_at({c.proposed_level_id for c in cases})
    columns = _columns(expected)
    ratings = {}
    if case_ids:
        ratings = {
            (case_id, key, source): rating
            for case_id, key, source, rating in db.session.execute(
                select(
                    CaseRating.case_id,
                    CaseRating.competency_key,
                    CaseRating.source,
                    CaseRating.rating,
                ).where(
                    CaseRating.case_id.in_(case_ids),
                    CaseRating.source.in_([RatingSource.MANAGER, RatingSource.AGREED]),
                )
            )
        }
    votes: dict[int, list[Row]] = {}
    for vote in participant_vote_rows(session):  # grouped once: a row looked through all of them
        votes.setdefault(vote.case_id, []).append(vote)
    since = case_level_reached(cases)
    sufficiency = readiness.sufficiency(
        [(c.candidate_id, c.proposed_level_id) for c in cases], since=since, today=today
    )
    visible = policy.votes_visible(viewer, case_ids)
    return _Facts(columns, expected, ratings, votes, visible, sufficiency, since)


def _row(viewer: User, case: PromotionCase, facts: _Facts) -> GridRow:
    applies = {e.key for e in facts.expected[case.proposed_level_id]}
    visible = case.id in facts.votes_visible
    case_votes = facts.votes.get(case.id, [])
    by_key: dict[str, list[Rating]] = {}
    for v in case_votes:
        by_key.setdefault(v.competency_key, []).append(v.rating)
    own = case.candidate_id == viewer.id
    cells = [
        _cell(case, column.key, facts, by_key.get(column.key, []) if visible else None)
        if column.key in applies and not own
        else GridCell(column.key, column.key in applies)
        for column in facts.columns
    ]
    return GridRow(
        case,
        visible,
        len({v.voter_id for v in case_votes}),
        cells,
        None if own else facts.since.get(case.candidate_id),
    )


def _cell(case: PromotionCase, key: str, facts: _Facts, votes: list[Rating] | None) -> GridCell:
    """A cell that applies, on someone else's case; `votes` is None while they are hidden."""
    manager = None
    if case.manager_submitted_at is not None:
        manager = facts.ratings.get((case.id, key, RatingSource.MANAGER))
    spread, width = None, 0
    if votes is not None:
        counts = Counter(votes)
        _width, low, high = _scores(votes)
        spread = Spread({r: counts.get(r, 0) for r in Rating}, low, high)
        width = _scores([*votes, manager])[0]
    return GridCell(
        key,
        True,
        manager=manager,
        spread=spread,
        sufficiency=facts.sufficiency.get((case.candidate_id, key)),
        agreed=facts.ratings.get((case.id, key, RatingSource.AGREED)),
        width=width,
    )


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


def _numbered(rows: list[GridRow]) -> tuple[list[GridRow], int]:
    """Number the cells where the ratings differ, row by row in agenda order and left to right,
    so that "Next disagreement" walks them in the order the meeting takes them."""
    count = 0
    numbered = []
    for row in rows:
        cells = []
        for cell in row.cells:
            if cell.width > 0:
                count += 1
                cell = replace(cell, disagreement=count)
            cells.append(cell)
        numbered.append(replace(row, cells=cells))
    return numbered, count


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
    rationale_html: Markup
    reason_html: Markup


@dataclass(frozen=True)
class ShownVote:
    voter: str
    rating: Rating
    is_mine: bool


@dataclass(frozen=True)
class Cell:
    """The page of one cell."""

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


def cell_page(viewer: User, session_id: int, case_id: int, key: str) -> Cell:
    """What a cell of the grid stands on: the expectation, the ratings with their rationale
    and evidence, the votes (when the viewer may see them) and the agreed rating."""
    session = visible_session(viewer, session_id)
    case = case_in(session, case_id)
    policy.authorize(viewer, "case.view_assessment", case)
    competency = next((e for e in expected_at(case.proposed_level_id) if e.key == key), None)
    if competency is None:
        raise NotFoundError("This competency does not apply at the proposed level.")
    rows = db.session.scalars(
        select(CaseRating)
        .where(CaseRating.case_id == case.id, CaseRating.competency_key == key)
        .options(selectinload(CaseRating.evidence))
    ).all()
    names = names_of({r.updated_by_id for r in rows} - {None})
    shown = {r.source: _shown(r, names) for r in rows}
    self_allowed = policy.can(viewer, "case.view_self_assessment", case)
    votes = participant_votes(
        session,
        Vote.case_id == case.id,
        Vote.competency_key == key,
        options=[joinedload(Vote.voter)],
    )
    return Cell(
        session=session,
        case=case,
        competency=competency,
        self_rating=shown.get(RatingSource.SELF) if self_allowed else None,
        self_hidden=not self_allowed,
        manager=shown.get(RatingSource.MANAGER) if case.manager_submitted_at else None,
        agreed=shown.get(RatingSource.AGREED),
        votes=_shown_votes(viewer, votes) if policy.can(viewer, "votes.view", case) else None,
        my_vote=next((v.rating for v in votes if v.voter_id == viewer.id), None),
        voters=len({v.voter_id for v in votes}),
        can_agree=policy.can(viewer, "session.facilitate", session),
        can_vote=may_vote(viewer, session, case),
    )


def _shown_votes(viewer: User, votes) -> list[ShownVote]:
    return [
        ShownVote(v.voter.name, v.rating, v.voter_id == viewer.id)
        for v in sorted(votes, key=lambda v: (v.voter.name, v.voter_id))
    ]


def _shown(row: CaseRating, names: dict[int, str]) -> ShownRating:
    evidence = [
        LinkedEvidence(
            e.id, e.title, e.occurred_on, e.kind.label, markdown.html_excerpt(e.html("body"), 200)
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
        row.html("rationale"),
        row.html("reason"),
    )
