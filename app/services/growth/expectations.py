"""What a level expects: where a person is placed, the levels of their career path in ladder
order, and the competencies that apply at a level with its expectation and indicators.

Readiness, the heatmap, assessments, calibration and packets read levels through here, so the
rule for "a competency applies at a level" is written once (`_applicable`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, event, select
from sqlalchemy.orm import Session

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import (
    CellStatus,
    Competency,
    CompetencyArea,
    Expectation,
    Framework,
    FrameworkVersion,
    Indicator,
    IndicatorKind,
    Level,
    Track,
    User,
    competency_tracks,
)

# In reading order after the measure, which is read first with the expectation it tells how to
# check (Expectation.measures).
MEASURE_LABEL = "Measure"
INDICATOR_LABELS = {
    IndicatorKind.CRITERION: "Criteria",
    IndicatorKind.EXAMPLE: "Examples",
    IndicatorKind.SIGNAL: "Signals",
}


# --- where a person stands ---------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    level: Level
    framework_id: int
    framework_slug: str
    version_number: int
    version_name: str


def placement(person_id: int) -> Placement | None:
    """The person's level with its framework and version, or None when not placed. One query."""
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
    seniority: int = 0  # the level's rank, which compares levels across tracks


def level_choices(version_ids: Iterable[int]) -> dict[int, list[LevelChoice]]:
    """version id → its levels, track by track, in ladder order. One query."""
    rows = db.session.execute(
        select(
            Level.version_id,
            Level.id,
            Level.code,
            Level.title,
            Level.track_id,
            Track.name,
            Level.position,
            Level.rank,
        )
        .join(Track, Level.track_id == Track.id)
        .where(Level.version_id.in_(list(version_ids)))
        .order_by(Track.position, Level.position)
    ).all()
    levels: dict[int, list[LevelChoice]] = defaultdict(list)
    for version_id, *values in rows:
        levels[version_id].append(LevelChoice(*values))
    return levels


def next_level(levels: list[LevelChoice], current_id: int) -> LevelChoice | None:
    """The level above `current_id` in its track, or None at the top."""
    current = next(level for level in levels if level.id == current_id)
    return next(
        (
            level
            for level in levels
            if level.track_id == current.track_id and level.position > current.position
        ),
        None,
    )


def rank(levels: list[LevelChoice], level_id: int) -> int:
    """The level's rung in its career path, from 1 at the bottom: one more than the number of
    distinct ranks below its own, on any track (a Lead PM, first on the management track, is
    as senior as a Group PM and asks for as much evidence; thresholds.level_rank in SQL)."""
    level = next(choice for choice in levels if choice.id == level_id)
    return 1 + len({other.seniority for other in levels if other.seniority < level.seniority})


def target_id(levels: list[LevelChoice], level_id: int) -> int:
    """The next level up in the track, or the level itself at the top."""
    following = next_level(levels, level_id)
    return following.id if following else level_id


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


# --- what a level expects ----------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A competency that applies at a level, with that level's expectation."""

    key: str
    name: str
    description: str
    area: str
    expectation: str  # "" when the cell is not defined yet
    indicators: list[tuple[str, list[str]]] = field(default_factory=list)
    short_name: str = ""  # the head's short name for dense grids ("" when not set)


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


def competencies_at(level_ids: Iterable[int]) -> dict[int, list[Expected]]:
    """level id → the competencies that apply there, in reading order. Two queries for the
    levels not asked about yet in this transaction: a case page asks three times for the same
    level (its assessments, its evidence, its calibration panel), so the answers are kept in the
    session until it next writes, commits or rolls back (`_forget_competencies`)."""
    level_ids = set(level_ids)
    known: dict[int, list[Expected]] = db.session.info.setdefault(_COMPETENCIES_AT, {})
    missing = level_ids - known.keys()
    if missing:
        found: dict[int, list[Expected]] = {level_id: [] for level_id in missing}
        # Columns, not objects: a grid's dozen levels are a few hundred cells, and loading each
        # as an Expectation with its Indicators was most of what this took.
        rows = db.session.execute(
            _applicable(
                missing,
                CompetencyArea.name.label("area"),
                Competency.key,
                Competency.name,
                Competency.description,
                Competency.short_name,
                Expectation.id,
                Expectation.level_id,
                Expectation.status,
                Expectation.text,
            )
        ).all()
        indicators: dict[int, list[tuple[IndicatorKind, str]]] = defaultdict(list)
        if rows:
            for expectation_id, kind, text in db.session.execute(
                select(Indicator.expectation_id, Indicator.kind, Indicator.text)
                .where(Indicator.expectation_id.in_([row.id for row in rows]))
                .order_by(Indicator.expectation_id, Indicator.position)
            ):
                indicators[expectation_id].append((kind, text))
        for row in rows:
            defined = row.status is CellStatus.DEFINED
            found[row.level_id].append(
                Expected(
                    key=row.key,
                    name=row.name,
                    description=row.description,
                    area=row.area,
                    expectation=row.text if defined else "",
                    indicators=_indicator_groups(indicators[row.id]) if defined else [],
                    short_name=row.short_name,
                )
            )
        known.update(found)
    return {level_id: list(known[level_id]) for level_id in level_ids}


_COMPETENCIES_AT = "rungs.expectations.competencies_at"  # session.info: level id → [Expected]


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_competencies(session: Session, *_args) -> None:
    session.info.pop(_COMPETENCIES_AT, None)


def keys_expected_at(level_ids: set[int]) -> dict[int, list[str]]:
    """level id → the keys of the competencies that apply there. One query, or none when
    competencies_at has answered for these levels in this transaction."""
    keys: dict[int, list[str]] = defaultdict(list)
    known = db.session.info.get(_COMPETENCIES_AT, {})
    if level_ids <= known.keys():
        for level_id in level_ids:
            if known[level_id]:
                keys[level_id] = [expected.key for expected in known[level_id]]
        return keys
    for level_id, key in db.session.execute(
        _applicable(level_ids, Expectation.level_id, Competency.key)
    ):
        keys[level_id].append(key)
    return keys


def _indicator_groups(indicators: list[tuple[IndicatorKind, str]]) -> list[tuple[str, list[str]]]:
    """A written cell's (kind, text) indicators in their order, grouped under their labels: the
    measure first (Expectation.measures), then INDICATOR_LABELS' order."""
    groups = [(MEASURE_LABEL, [t for k, t in indicators if k is IndicatorKind.MEASURE])] + [
        (label, [t for k, t in indicators if k is kind]) for kind, label in INDICATOR_LABELS.items()
    ]
    return [(label, texts) for label, texts in groups if texts]
