"""Readiness: how well a person's evidence covers what a level expects, and when they logged it.

A competency's evidence is "enough" for a level when, counting only items from the last
`window_months`, there are at least `min_items`, at least `min_corroborated` of them confirmed by a
peer, and the newest is from the last `recent_days`; "thin" when there is some but not enough;
"none" with no item at all. The head of product sets the four numbers (growth.thresholds).

Every function here reads in a fixed number of queries, whatever the number of competencies,
items or people.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import (
    Corroboration,
    CorroborationStatus,
    Evidence,
    EvidenceCompetency,
    FrameworkVersion,
    Level,
    User,
)
from app.services.growth.expectations import (
    MEASURE_LABEL,
    LevelChoice,
    Placement,
    competencies_at,
    keys_expected_at,
    level_choices,
    next_level,
    placement,
    rank,
    target_id,
)

# Expected is re-exported: assessments, calibration and packets read a level's competencies here.
from app.services.growth.expectations import Expected as Expected
from app.services.growth.since import level_reached
from app.services.growth.thresholds import Thresholds, level_rank, thresholds


class Status(enum.StrEnum):
    NONE = "none"
    THIN = "thin"
    ENOUGH = "enough"
    NOT_PLACED = "not placed"  # team_status only: no level, so nothing to be ready for

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.NONE: "No evidence yet",
    Status.THIN: "Thin",
    Status.ENOUGH: "Enough",
    Status.NOT_PLACED: "Not placed",
}


# --- the numbers per competency ----------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    count: int = 0  # items inside the window
    corroborated: int = 0  # of those, confirmed by a peer
    latest: date | None = None  # the newest inside the window
    older: int = 0  # items before the window, not counted


NO_EVIDENCE = Tally()


def status_of(tally: Tally, rules: Thresholds, today: date) -> Status:
    if tally.count == 0:
        return Status.NONE
    return Status.ENOUGH if gap(tally, rules, today).steps == 0 else Status.THIN


@dataclass(frozen=True)
class Gap:
    """What a competency's evidence still lacks to be enough: more items, more of them
    corroborated by a peer, an item recent enough. The table's "To reach enough" says it in
    words; the growth page's focus orders by it."""

    items: int = 0
    corroborated: int = 0
    needs_recent: bool = False
    recent_days: int = 0

    @property
    def steps(self) -> int:
        """How far from enough: the items still to log (a new item is also a recent one, so a
        missing recent item adds one only when no more items are needed) plus the items still
        to be corroborated. A competency with some evidence is never further than one with none."""
        return max(self.items, int(self.needs_recent)) + self.corroborated

    @property
    def words(self) -> list[str]:
        """In words a person acts on; empty when nothing is missing."""
        words = []
        if self.items > 0:
            words.append(f"{self.items} more item{'s' if self.items > 1 else ''}")
        if self.corroborated > 0:
            many = "s" if self.corroborated > 1 else ""
            words.append(f"{self.corroborated} more item{many} corroborated by a peer")
        if self.needs_recent:
            words.append(f"an item from the last {self.recent_days} days")
        return words


def gap(tally: Tally, rules: Thresholds, today: date) -> Gap:
    """What would make a competency's evidence enough (nothing when it is)."""
    cutoff = today - timedelta(days=rules.recent_days)
    return Gap(
        items=max(0, rules.min_items - tally.count),
        corroborated=max(0, rules.min_corroborated - tally.corroborated),
        needs_recent=bool(tally.count) and (tally.latest is None or tally.latest < cutoff),
        recent_days=rules.recent_days,
    )


def window_start(today: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(today.day, (next_month - timedelta(days=1)).day))


def _tallies(
    owner_ids: Iterable[int],
    start: date,
    *,
    shared_only: bool,
    since: dict[int, date] | None = None,
) -> dict[tuple, Tally]:
    """(owner id, framework id, competency key) → Tally, in one grouped query. `since` moves an
    owner's start later (the day they reached their level)."""
    owner_ids = list(owner_ids)
    if not owner_ids:
        return {}
    since = {owner: day for owner, day in (since or {}).items() if day > start}
    # Looked up per item through ix_corroborations_evidence_id. A DISTINCT over every confirmation
    # joined back (and an EXISTS, which PostgreSQL hashes) read the whole table on every page, and
    # at 200,000 items the join also hashed all 400,000 tags for a calibration grid's 30 people:
    # EXPLAIN ANALYZE in bench/scale.py, 0.3 ms for one person instead of about 40.
    confirmed = (
        select(func.count())
        .where(
            Corroboration.evidence_id == Evidence.id,
            Corroboration.status == CorroborationStatus.CONFIRMED,
        )
        .correlate(Evidence)
        .scalar_subquery()
        > 0
    )
    inside = Evidence.occurred_on >= start
    if since:
        inside = or_(
            and_(inside, Evidence.owner_id.not_in(list(since))),
            *(
                and_(Evidence.owner_id == owner, Evidence.occurred_on >= day)
                for owner, day in since.items()
            ),
        )
    query = (
        select(
            Evidence.owner_id,
            EvidenceCompetency.framework_id,
            EvidenceCompetency.competency_key,
            func.count(case((inside, Evidence.id))),
            func.count(case((and_(inside, confirmed), Evidence.id))),
            func.max(case((inside, Evidence.occurred_on))),
            func.count(case((~inside, Evidence.id))),
        )
        .join(EvidenceCompetency, EvidenceCompetency.evidence_id == Evidence.id)
        .where(Evidence.owner_id.in_(owner_ids), Evidence.deleted_at.is_(None))
        .group_by(
            Evidence.owner_id, EvidenceCompetency.framework_id, EvidenceCompetency.competency_key
        )
    )
    if shared_only:
        query = query.where(Evidence.is_visible_to_others)  # what others may see of it
    return {
        (owner, framework, key): Tally(count, corroborated, _as_date(latest), older)
        for owner, framework, key, count, corroborated, latest, older in db.session.execute(query)
    }


def _as_date(value) -> date | None:
    # SQLite hands back MAX() over a CASE as text; PostgreSQL as a date.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- one person's readiness --------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyReadiness:
    key: str
    name: str
    description: str
    expectation: str  # what the target level expects; "" when not written yet
    indicators: list[tuple[str, list[str]]]  # (kind label, texts)
    tally: Tally
    status: Status
    gap: Gap

    @property
    def measures(self) -> list[str]:
        """How to tell the expectation is met: read with it, not as one more list."""
        return next((texts for label, texts in self.indicators if label == MEASURE_LABEL), [])

    @property
    def other_indicators(self) -> list[tuple[str, list[str]]]:
        """The criteria, examples and signals, after the expectation and its measure."""
        return [(label, texts) for label, texts in self.indicators if label != MEASURE_LABEL]

    @property
    def missing(self) -> list[str]:
        """What would make it enough, in words ("To reach enough" on the growth page)."""
        return self.gap.words

    @property
    def count(self) -> int:
        return self.tally.count

    @property
    def corroborated(self) -> int:
        return self.tally.corroborated

    @property
    def latest(self) -> date | None:
        return self.tally.latest


@dataclass(frozen=True)
class AreaReadiness:
    name: str
    competencies: list[CompetencyReadiness]

    @property
    def tallies(self) -> list[tuple[Status, int]]:
        """The area's competencies by status: enough, thin, none, in that order."""
        shown = (Status.ENOUGH, Status.THIN, Status.NONE)
        return [(s, sum(1 for c in self.competencies if c.status == s)) for s in shown]


@dataclass(frozen=True)
class Readiness:
    person_id: int
    shared_only: bool
    rules: Thresholds
    counted_from: date
    placement: Placement | None = None
    target: LevelChoice | None = None
    levels: list[LevelChoice] = field(default_factory=list)
    is_next_level: bool = False  # the target is the next level up in the person's track
    level_since: date | None = None  # counting from the day they reached their level
    areas: list[AreaReadiness] = field(default_factory=list)

    @property
    def is_placed(self) -> bool:
        return self.placement is not None

    @property
    def current(self) -> LevelChoice | None:
        if self.placement is None:
            return None
        return next(level for level in self.levels if level.id == self.placement.level.id)

    @property
    def is_top(self) -> bool:
        """No level above the person's in their track."""
        return self.is_placed and next_level(self.levels, self.placement.level.id) is None

    @property
    def at_top(self) -> bool:
        """At the top of the track and looking at their own level: no figure to show."""
        return self.is_top and self.target is not None and self.target.id == self.placement.level.id

    @property
    def competencies(self) -> list[CompetencyReadiness]:
        return [c for area in self.areas for c in area.competencies]

    def count(self, status: Status | str) -> int:
        return sum(1 for c in self.competencies if c.status == status)

    @property
    def tallies(self) -> list[tuple[Status, int]]:
        """How many competencies are enough, thin and without evidence, in that order."""
        shown = (Status.ENOUGH, Status.THIN, Status.NONE)
        return [(status, self.count(status)) for status in shown]

    @property
    def focus(self) -> list[CompetencyReadiness]:
        """Where another item helps most, three at most: the thin competencies closest to enough
        first (fewest steps of their gap), then those further away, then those with none; the
        framework's order among equals."""
        thin = [c for c in self.competencies if c.status is Status.THIN]
        none = [c for c in self.competencies if c.status is Status.NONE]
        return (sorted(thin, key=lambda c: c.gap.steps) + none)[:3]

    @property
    def status(self) -> Status:
        return overall(c.status for c in self.competencies)


def overall(statuses: Iterable[Status]) -> Status:
    """One status for a level: enough only when every competency is; none when none has any
    evidence; thin otherwise (and none when the level expects nothing at all)."""
    statuses = list(statuses)
    if statuses and all(s is Status.ENOUGH for s in statuses):
        return Status.ENOUGH
    if all(s is Status.NONE for s in statuses):
        return Status.NONE
    return Status.THIN


def readiness(
    person_id: int,
    target_level_id: int | None = None,
    *,
    shared_only: bool = False,
    today: date | None = None,
) -> Readiness:
    """The person's evidence per competency of the target level: the next level in their track
    by default (their own at the top), any level of their framework version on request.

    `shared_only` leaves out private drafts: what a manager or mentor may see.
    """
    today = today or date.today()
    rules = thresholds()
    start = window_start(today, rules.window_months)
    empty = Readiness(person_id, shared_only, rules, start)
    placed = placement(person_id)
    if placed is None:
        return empty
    levels = level_choices([placed.level.version_id])[placed.level.version_id]
    following = next_level(levels, placed.level.id)
    if target_level_id is None:
        target_level_id = target_id(levels, placed.level.id)
    target = next((level for level in levels if level.id == target_level_id), None)
    if target is None:
        raise NotFoundError(f"{placed.version_name} has no such level.")
    rules = rules.for_level(target.code, rank(levels, target.id))
    reached = level_reached([person_id]).get(person_id)
    tallies = _tallies(
        [person_id], start, shared_only=shared_only, since={person_id: reached} if reached else None
    )
    if reached and reached > start:
        start = reached
    areas: dict[str, list[CompetencyReadiness]] = defaultdict(list)
    for expected in competencies_at([target.id])[target.id]:
        tally = tallies.get((person_id, placed.framework_id, expected.key), NO_EVIDENCE)
        areas[expected.area].append(
            CompetencyReadiness(
                key=expected.key,
                name=expected.name,
                description=expected.description,
                expectation=expected.expectation,
                indicators=expected.indicators,
                tally=tally,
                status=status_of(tally, rules, today),
                gap=gap(tally, rules, today),
            )
        )
    return Readiness(
        person_id,
        shared_only,
        rules,
        start,
        placement=placed,
        target=target,
        levels=levels,
        is_next_level=following is not None and target.id == following.id,
        level_since=reached,
        areas=[AreaReadiness(name, items) for name, items in areas.items()],
    )


# --- a team at a glance ------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamReadiness:
    """One person's readiness at a glance: the overall status and how many of the target
    level's competencies have enough evidence ("9 of 13")."""

    status: Status = Status.NOT_PLACED
    enough: int = 0
    total: int = 0

    @property
    def label(self) -> str:
        return self.status.label


def team_status(person_ids: Iterable[int], *, today: date | None = None) -> dict[int, Status]:
    """person id → readiness for their next level (their own at the top of a track), from
    SHARED evidence only: enough when every competency is, none when no competency has any
    evidence, thin otherwise; "not placed" without a level. Five queries for any team."""
    return {
        person: ready.status for person, ready in team_readiness(person_ids, today=today).items()
    }


def team_readiness(
    person_ids: Iterable[int], *, today: date | None = None
) -> dict[int, TeamReadiness]:
    """person id → status and "enough of total" for their next level (their own at the top of
    a track), from SHARED evidence only (see team_status). Five queries for any team."""
    today = today or date.today()
    person_ids = set(person_ids)
    result = dict.fromkeys(person_ids, TeamReadiness())
    if not person_ids:
        return result
    rules = thresholds()
    placed = db.session.execute(
        select(User.id, User.level_id, Level.version_id, FrameworkVersion.framework_id)
        .join(Level, User.level_id == Level.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(User.id.in_(person_ids))
    ).all()
    if not placed:
        return result
    levels = level_choices({row.version_id for row in placed})
    targets = {
        person: target_id(levels[version], level) for person, level, version, _framework in placed
    }
    at_target = {
        level.id: rules.for_level(level.code, rank(choices, level.id))
        for choices in levels.values()
        for level in choices
        if level.id in set(targets.values())
    }
    keys = keys_expected_at(set(targets.values()))
    start = window_start(today, rules.window_months)
    since = level_reached([row.id for row in placed])
    tallies = _tallies([row.id for row in placed], start, shared_only=True, since=since)
    for person, _level, _version, framework in placed:
        at_level = at_target[targets[person]]
        statuses = [
            status_of(tallies.get((person, framework, key), NO_EVIDENCE), at_level, today)
            for key in keys.get(targets[person], [])
        ]
        result[person] = TeamReadiness(
            overall(statuses), sum(1 for s in statuses if s is Status.ENOUGH), len(statuses)
        )
    return result


# --- for promotion cases ------------------------------------------------------------------------


def sufficiency(
    pairs: Iterable[tuple[int, int]],
    *,
    since: Mapping[int, date],
    today: date | None = None,
) -> dict[tuple[int, str], Status]:
    """For (person id, target level id) pairs: (person id, competency key) → how well the
    person's SHARED evidence covers each competency that applies at the target level, with the
    head of product's thresholds, counting as readiness does: inside the window and from the
    day in `since` (since.case_level_reached for cases). A fixed number of queries for any
    number of people."""
    pairs = set(pairs)
    if not pairs:
        return {}
    today = today or date.today()
    rules = thresholds()
    found = db.session.execute(
        select(Level.id, FrameworkVersion.framework_id, Level.code, level_rank())
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(Level.id.in_({level for _person, level in pairs}))
    ).all()
    frameworks = {level: framework for level, framework, _code, _rank in found}
    at_level = {level: rules.for_level(code, rung) for level, _framework, code, rung in found}
    keys = keys_expected_at(set(frameworks))
    start = window_start(today, rules.window_months)
    tallies = _tallies(
        {person for person, _level in pairs}, start, shared_only=True, since=dict(since)
    )
    return {
        (person, key): status_of(
            tallies.get((person, frameworks[level], key), NO_EVIDENCE),
            at_level[level],
            today,
        )
        for person, level in pairs
        if level in frameworks
        for key in keys.get(level, [])
    }
