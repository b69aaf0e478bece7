"""Readiness: how well a person's evidence covers what a level expects, and when they logged it.

A competency's evidence is "enough" for a level when, counting only items from the last
`window_months`, there are at least `min_items`, at least `min_corroborated` of them confirmed by a
peer, and the newest is from the last `recent_days`; "thin" when there is some but not enough;
"none" with no item at all. The head of product sets the four numbers (readiness_thresholds).

Every function here reads in a fixed number of queries, whatever the number of competencies,
items or people.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from app import policy
from app.extensions import db
from app.models import (
    CellStatus,
    Competency,
    CompetencyArea,
    Corroboration,
    CorroborationStatus,
    Evidence,
    EvidenceCompetency,
    Expectation,
    Framework,
    FrameworkVersion,
    IndicatorKind,
    Level,
    Track,
    User,
    Visibility,
    competency_tracks,
)
from app.services.errors import NotFoundError
from app.services.readiness_thresholds import Thresholds, thresholds


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

INDICATOR_LABELS = {
    IndicatorKind.CRITERION: "Criteria",
    IndicatorKind.EXAMPLE: "Examples",
    IndicatorKind.SIGNAL: "Signals",
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
    recent = tally.latest is not None and tally.latest >= today - timedelta(days=rules.recent_days)
    if tally.count >= rules.min_items and tally.corroborated >= rules.min_corroborated and recent:
        return Status.ENOUGH
    return Status.THIN


def missing(tally: Tally, rules: Thresholds, today: date) -> list[str]:
    """What would make a competency's evidence enough, in words a person acts on."""
    gaps = []
    more = rules.min_items - tally.count
    if more > 0:
        gaps.append(f"{more} more item{'s' if more > 1 else ''}")
    unconfirmed = rules.min_corroborated - tally.corroborated
    if unconfirmed > 0:
        gaps.append(
            f"{unconfirmed} more item{'s' if unconfirmed > 1 else ''} corroborated by a peer"
        )
    cutoff = today - timedelta(days=rules.recent_days)
    if tally.count and (tally.latest is None or tally.latest < cutoff):
        gaps.append(f"an item from the last {rules.recent_days} days")
    return gaps


def window_start(today: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(today.day, (next_month - timedelta(days=1)).day))


def _tallies(owner_ids: Iterable[int], start: date, *, shared_only: bool) -> dict[tuple, Tally]:
    """(owner id, framework id, competency key) → Tally, in one grouped query."""
    owner_ids = list(owner_ids)
    if not owner_ids:
        return {}
    confirmed = (
        select(Corroboration.evidence_id)
        .where(Corroboration.status == CorroborationStatus.CONFIRMED)
        .distinct()
        .subquery()
    )
    inside = Evidence.occurred_on >= start
    query = (
        select(
            Evidence.owner_id,
            EvidenceCompetency.framework_id,
            EvidenceCompetency.competency_key,
            func.count(case((inside, Evidence.id))),
            func.count(case((and_(inside, confirmed.c.evidence_id.is_not(None)), Evidence.id))),
            func.max(case((inside, Evidence.occurred_on))),
            func.count(case((~inside, Evidence.id))),
        )
        .join(EvidenceCompetency, EvidenceCompetency.evidence_id == Evidence.id)
        .outerjoin(confirmed, confirmed.c.evidence_id == Evidence.id)
        .where(Evidence.owner_id.in_(owner_ids), Evidence.deleted_at.is_(None))
        .group_by(
            Evidence.owner_id, EvidenceCompetency.framework_id, EvidenceCompetency.competency_key
        )
    )
    if shared_only:
        query = query.where(Evidence.visibility == Visibility.SHARED)
    return {
        (owner, framework, key): Tally(count, corroborated, _as_date(latest), older)
        for owner, framework, key, count, corroborated, latest, older in db.session.execute(query)
    }


def _as_date(value) -> date | None:
    # SQLite hands back MAX() over a CASE as text; PostgreSQL as a date.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- where a person stands ---------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    level: Level
    framework_id: int
    framework_slug: str
    version_number: int
    version_name: str


def _placement(person_id: int) -> Placement | None:
    row = db.session.execute(
        select(Level, FrameworkVersion.framework_id, Framework.slug, FrameworkVersion.number)
        .add_columns(FrameworkVersion.name)
        .join(User, User.level_id == Level.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .join(Framework, FrameworkVersion.framework_id == Framework.id)
        .where(User.id == person_id)
    ).one_or_none()
    return Placement(*row) if row else None


@dataclass(frozen=True)
class LevelChoice:
    id: int
    code: str
    title: str
    track_id: int
    track_name: str
    position: int


def _levels(version_ids: Iterable[int]) -> dict[int, list[LevelChoice]]:
    """version id → its levels, track by track, in ladder order."""
    rows = db.session.execute(
        select(
            Level.version_id,
            Level.id,
            Level.code,
            Level.title,
            Level.track_id,
            Track.name,
            Level.position,
        )
        .join(Track, Level.track_id == Track.id)
        .where(Level.version_id.in_(list(version_ids)))
        .order_by(Track.position, Level.position)
    ).all()
    levels: dict[int, list[LevelChoice]] = defaultdict(list)
    for version_id, *values in rows:
        levels[version_id].append(LevelChoice(*values))
    return levels


def _next_level(levels: list[LevelChoice], current_id: int) -> LevelChoice | None:
    current = next(level for level in levels if level.id == current_id)
    return next(
        (
            level
            for level in levels
            if level.track_id == current.track_id and level.position > current.position
        ),
        None,
    )


def _target_id(levels: list[LevelChoice], level_id: int) -> int:
    """The next level up in the track, or the level itself at the top."""
    following = _next_level(levels, level_id)
    return following.id if following else level_id


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
    missing: list[str]

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
        return self.is_placed and _next_level(self.levels, self.placement.level.id) is None

    @property
    def competencies(self) -> list[CompetencyReadiness]:
        return [c for area in self.areas for c in area.competencies]

    def count(self, status: Status) -> int:
        return sum(1 for c in self.competencies if c.status is status)

    @property
    def focus(self) -> list[CompetencyReadiness]:
        """Where another item helps most: competencies with none first, then thin ones."""
        order = {Status.NONE: 0, Status.THIN: 1}
        gaps = [c for c in self.competencies if c.status in order]
        return sorted(gaps, key=lambda c: order[c.status])[:3]

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
    placement = _placement(person_id)
    if placement is None:
        return empty
    levels = _levels([placement.level.version_id])[placement.level.version_id]
    next_level = _next_level(levels, placement.level.id)
    if target_level_id is None:
        target_level_id = _target_id(levels, placement.level.id)
    target = next((level for level in levels if level.id == target_level_id), None)
    if target is None:
        raise NotFoundError(f"{placement.version_name} has no such level.")
    tallies = _tallies([person_id], start, shared_only=shared_only)
    areas: dict[str, list[CompetencyReadiness]] = defaultdict(list)
    for area_name, competency, expectation in _expected_at(target.id):
        tally = tallies.get((person_id, placement.framework_id, competency.key), NO_EVIDENCE)
        areas[area_name].append(
            CompetencyReadiness(
                key=competency.key,
                name=competency.name,
                description=competency.description,
                expectation=expectation.text if expectation.status is CellStatus.DEFINED else "",
                indicators=_indicator_groups(expectation),
                tally=tally,
                status=status_of(tally, rules, today),
                missing=missing(tally, rules, today),
            )
        )
    return Readiness(
        person_id,
        shared_only,
        rules,
        start,
        placement=placement,
        target=target,
        levels=levels,
        is_next_level=next_level is not None and target.id == next_level.id,
        areas=[AreaReadiness(name, items) for name, items in areas.items()],
    )


def level_id_for(person_id: int, code: str) -> int:
    """The id of the level with this code in the person's framework version."""
    own_version = (
        select(Level.version_id)
        .join(User, User.level_id == Level.id)
        .where(User.id == person_id)
        .scalar_subquery()
    )
    level_id = db.session.execute(
        select(Level.id).where(Level.version_id == own_version, Level.code == code)
    ).scalar_one_or_none()
    if level_id is None:
        raise NotFoundError(f'This career path has no level "{code[:40]}".')
    return level_id


def _applicable(level_ids: Iterable[int], *columns):
    """A select of `columns` over each competency that applies at the levels: on the level's
    track and not marked not applicable there, in reading order."""
    return (
        select(*columns)
        .select_from(Expectation)
        .join(Competency, Expectation.competency_id == Competency.id)
        .join(CompetencyArea, Competency.area_id == CompetencyArea.id)
        .join(Level, Expectation.level_id == Level.id)
        .join(
            competency_tracks,
            and_(
                competency_tracks.c.competency_id == Competency.id,
                competency_tracks.c.track_id == Level.track_id,
            ),
        )
        .where(
            Expectation.level_id.in_(list(level_ids)),
            Expectation.status != CellStatus.NOT_APPLICABLE,
        )
        .order_by(CompetencyArea.position, Competency.position)
    )


def _expected_at(level_id: int):
    """(area name, competency, expectation with its indicators) at one level."""
    query = _applicable([level_id], CompetencyArea.name, Competency, Expectation)
    return db.session.execute(query.options(selectinload(Expectation.indicators))).all()


def _keys_expected_at(level_ids: set[int]) -> dict[int, list[str]]:
    keys: dict[int, list[str]] = defaultdict(list)
    for level_id, key in db.session.execute(
        _applicable(level_ids, Expectation.level_id, Competency.key)
    ):
        keys[level_id].append(key)
    return keys


def _indicator_groups(expectation: Expectation) -> list[tuple[str, list[str]]]:
    if expectation.status is not CellStatus.DEFINED:
        return []
    groups = [
        (label, [i.text for i in expectation.indicators if i.kind is kind])
        for kind, label in INDICATOR_LABELS.items()
    ]
    return [(label, texts) for label, texts in groups if texts]


# --- evidence over time ------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def quarters_ending(today: date, count: int) -> list[Quarter]:
    """The last `count` calendar quarters, oldest first, the current one last."""
    now = today.year * 4 + (today.month - 1) // 3
    return [Quarter(i // 4, i % 4 + 1) for i in range(now - count + 1, now + 1)]


@dataclass(frozen=True)
class HeatmapRow:
    key: str
    name: str
    counts: list[int]  # items per quarter, in the heatmap's quarter order

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class HeatmapArea:
    name: str
    rows: list[HeatmapRow]


@dataclass(frozen=True)
class Heatmap:
    quarters: list[Quarter]
    areas: list[HeatmapArea]
    shared_only: bool

    @property
    def quarter_totals(self) -> list[int]:
        """Tags per quarter over every competency shown (0 marks an empty quarter)."""
        rows = [row.counts for area in self.areas for row in area.rows]
        return [sum(column) for column in zip(*rows, strict=True)] if rows else []

    @property
    def is_empty(self) -> bool:
        return not any(self.quarter_totals)


def heatmap(
    person_id: int, quarters: int = 6, *, shared_only: bool = False, today: date | None = None
) -> Heatmap:
    """Items per competency of the person's track and calendar quarter, the last `quarters`
    quarters up to today's; not trashed, and without private drafts when `shared_only`."""
    periods = quarters_ending(today or date.today(), quarters)
    placement = _placement(person_id)
    if placement is None:
        return Heatmap(periods, [], shared_only)
    competencies = db.session.execute(
        select(CompetencyArea.name, Competency.key, Competency.name)
        .join(Competency, Competency.area_id == CompetencyArea.id)
        .join(competency_tracks, competency_tracks.c.competency_id == Competency.id)
        .where(
            Competency.version_id == placement.level.version_id,
            competency_tracks.c.track_id == placement.level.track_id,
        )
        .order_by(CompetencyArea.position, Competency.position)
    ).all()
    # A person's own items, a few per week at most: bucketing dates here is portable and cheap.
    query = (
        select(EvidenceCompetency.competency_key, Evidence.occurred_on)
        .join(Evidence, EvidenceCompetency.evidence_id == Evidence.id)
        .where(
            Evidence.owner_id == person_id,
            Evidence.deleted_at.is_(None),
            EvidenceCompetency.framework_id == placement.framework_id,
            Evidence.occurred_on >= periods[0].start,
        )
    )
    if shared_only:
        query = query.where(Evidence.visibility == Visibility.SHARED)
    column = {quarter: i for i, quarter in enumerate(periods)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(periods))
    for key, occurred_on in db.session.execute(query):
        i = column.get(quarter_of(occurred_on))
        if i is not None:  # an item dated tomorrow may fall in the next quarter
            counts[key][i] += 1
    areas: dict[str, list[HeatmapRow]] = defaultdict(list)
    for area_name, key, name in competencies:
        areas[area_name].append(HeatmapRow(key, name, list(counts[key])))
    return Heatmap(periods, [HeatmapArea(name, rows) for name, rows in areas.items()], shared_only)


# --- a team at a glance ------------------------------------------------------------------------


def team_status(person_ids: Iterable[int], *, today: date | None = None) -> dict[int, Status]:
    """person id → readiness for their next level (their own at the top of a track), from
    SHARED evidence only: enough when every competency is, none when no competency has any
    evidence, thin otherwise; "not placed" without a level. Five queries for any team."""
    today = today or date.today()
    person_ids = set(person_ids)
    result = dict.fromkeys(person_ids, Status.NOT_PLACED)
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
    levels = _levels({row.version_id for row in placed})
    targets = {
        person: _target_id(levels[version], level) for person, level, version, _framework in placed
    }
    keys = _keys_expected_at(set(targets.values()))
    start = window_start(today, rules.window_months)
    tallies = _tallies([row.id for row in placed], start, shared_only=True)
    for person, _level, _version, framework in placed:
        result[person] = overall(
            status_of(tallies.get((person, framework, key), NO_EVIDENCE), rules, today)
            for key in keys.get(targets[person], [])
        )
    return result


# --- for promotion cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A competency that applies at a level, with that level's expectation."""

    key: str
    name: str
    description: str
    area: str
    expectation: str  # "" when the cell is not defined yet
    indicators: list[tuple[str, list[str]]] = field(default_factory=list)


def competencies_at(level_ids: Iterable[int]) -> dict[int, list[Expected]]:
    """level id → the competencies that apply there, in reading order. Two queries."""
    level_ids = set(level_ids)
    found: dict[int, list[Expected]] = {level_id: [] for level_id in level_ids}
    if not level_ids:
        return found
    query = _applicable(level_ids, CompetencyArea.name, Competency, Expectation)
    for area, competency, expectation in db.session.execute(
        query.options(selectinload(Expectation.indicators))
    ):
        found[expectation.level_id].append(
            Expected(
                key=competency.key,
                name=competency.name,
                description=competency.description,
                area=area,
                expectation=expectation.text if expectation.status is CellStatus.DEFINED else "",
                indicators=_indicator_groups(expectation),
            )
        )
    return found


def sufficiency(
    pairs: Iterable[tuple[int, int]], *, today: date | None = None
) -> dict[tuple[int, str], Status]:
    """For (person id, target level id) pairs: (person id, competency key) → how well the
    person's SHARED evidence covers each competency that applies at the target level, with the
    head of product's thresholds. A fixed number of queries for any number of people."""
    pairs = set(pairs)
    if not pairs:
        return {}
    today = today or date.today()
    rules = thresholds()
    frameworks = dict(
        db.session.execute(
            select(Level.id, FrameworkVersion.framework_id)
            .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
            .where(Level.id.in_({level for _person, level in pairs}))
        ).all()
    )
    keys = _keys_expected_at(set(frameworks))
    start = window_start(today, rules.window_months)
    tallies = _tallies({person for person, _level in pairs}, start, shared_only=True)
    return {
        (person, key): status_of(
            tallies.get((person, frameworks[level], key), NO_EVIDENCE), rules, today
        )
        for person, level in pairs
        if level in frameworks
        for key in keys.get(level, [])
    }


# --- the growth page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthPage:
    person: User
    is_own: bool  # the owner sees their private drafts counted; others only shared items
    readiness: Readiness
    heatmap: Heatmap | None


def growth_page(
    actor, person_id: int, *, level_code: str | None = None, today: date | None = None
) -> GrowthPage:
    """Readiness and evidence over time for a person the actor may follow (NotFoundError else)."""
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "growth.view", person)
    is_own = person.id == actor.id
    target = level_id_for(person.id, level_code) if level_code else None
    ready = readiness(person.id, target, shared_only=not is_own, today=today)
    heat = heatmap(person.id, shared_only=not is_own, today=today) if ready.is_placed else None
    return GrowthPage(person, is_own, ready, heat)
