"""Evidence over time: items per competency of a person's track and calendar quarter."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Competency,
    CompetencyArea,
    Evidence,
    EvidenceCompetency,
    competency_tracks,
)
from app.services.growth.expectations import placement


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
    placed = placement(person_id)
    if placed is None:
        return Heatmap(periods, [], shared_only)
    competencies = db.session.execute(
        select(CompetencyArea.name, Competency.key, Competency.name)
        .join(Competency, Competency.area_id == CompetencyArea.id)
        .join(competency_tracks, competency_tracks.c.competency_id == Competency.id)
        .where(
            Competency.version_id == placed.level.version_id,
            competency_tracks.c.track_id == placed.level.track_id,
        )
        .order_by(CompetencyArea.position, Competency.position)
    ).all()
    counts = _counts(person_id, placed.framework_id, periods, shared_only=shared_only)
    areas: dict[str, list[HeatmapRow]] = defaultdict(list)
    for area_name, key, name in competencies:
        areas[area_name].append(HeatmapRow(key, name, list(counts[key])))
    return Heatmap(periods, [HeatmapArea(name, rows) for name, rows in areas.items()], shared_only)


def _counts(
    person_id: int, framework_id: int, periods: list[Quarter], *, shared_only: bool
) -> dict[str, list[int]]:
    """competency key → items per quarter. One query."""
    # A person's own items, a few per week at most: bucketing dates here is portable and cheap.
    query = (
        select(EvidenceCompetency.competency_key, Evidence.occurred_on)
        .join(Evidence, EvidenceCompetency.evidence_id == Evidence.id)
        .where(
            Evidence.owner_id == person_id,
            Evidence.deleted_at.is_(None),
            EvidenceCompetency.framework_id == framework_id,
            Evidence.occurred_on >= periods[0].start,
        )
    )
    if shared_only:
        query = query.where(Evidence.is_visible_to_others)  # what others may see of it
    column = {quarter: i for i, quarter in enumerate(periods)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(periods))
    for key, occurred_on in db.session.execute(query):
        i = column.get(quarter_of(occurred_on))
        if i is not None:  # an item dated tomorrow may fall in the next quarter
            counts[key][i] += 1
    return counts
