"""Levels of a track: placed by rank, each with an empty cell for every competency of its track."""

from __future__ import annotations

from typing import Any

from app.core.errors import ValidationError
from app.models import FrameworkVersion, Level, Track
from app.services.frameworks.document import LevelDoc
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.inputs import LevelInput, count
from app.services.frameworks.editing.part import (
    Index,
    Part,
    Place,
    all_competencies,
    cells_at,
    drop_cells,
    empty_cell,
    renumber,
)

FIELDS = ("code", "title", "rank", "summary", "scope", "typical_experience")


class Levels(Part):
    kind, noun, event, collection = "levels", "level", "level", "levels"
    parent_kind = "tracks"

    def name(self, item: Level) -> str:
        return item.code

    def label(self, place: Place) -> str:
        return f"{place[1].code} — {place[1].title}"

    def snapshot(self, item: Level) -> dict[str, Any]:
        return {name: getattr(item, name) for name in FIELDS}

    def now(self, parent: Track) -> dict[str, Any]:
        return {"levels_now": ", ".join(f"{lv.code} (rank {lv.rank})" for lv in parent.levels)}

    def create(self, version: FrameworkVersion, found: Index, parent: Track, data: LevelInput):
        """In its place by rank; every competency of the track gets an empty cell for it."""
        level = insert_level(version, parent, clean_level(version, data))
        for competency in all_competencies(version):
            if parent in competency.tracks:
                competency.expectations.append(empty_cell(level))
        return level

    def change(self, version: FrameworkVersion, found: Index, place: Place, data: LevelInput):
        track, level = place
        clean = clean_level(version, data, exclude=level)
        at = track.levels.index(level)
        _rank_between(
            clean.rank,
            track.levels[at - 1] if at else None,
            track.levels[at + 1] if at + 1 < len(track.levels) else None,
        )
        for name in FIELDS:
            setattr(level, name, getattr(clean, name))

    def swap(self, item: Level, other: Level) -> None:
        super().swap(item, other)
        item.rank, other.rank = other.rank, item.rank  # ranks keep rising along the track

    def take_out(self, version: FrameworkVersion, place: Place, confirmed: bool) -> dict:
        track, level = place
        if len(track.levels) == 1:
            raise ValidationError(
                f"{level.code} is the only level of {track.name}; a track needs at least one "
                "level. Remove the track instead."
            )
        for competency in all_competencies(version):
            drop_cells(competency, {level.id})
        self.detach(place)
        return self.snapshot(level)

    def consequences(self, version: FrameworkVersion, place: Place) -> list[str]:
        level = place[1]
        return [
            f"{count(cells_at(version, {level.id}), 'cell', 'cells')} of the matrix",
            count(len(level.decision_rights), "decision right", "decision rights"),
        ]


LEVELS = Levels()


def clean_level(
    version: FrameworkVersion, data: LevelInput, *, exclude: Level | None = None, prefix: str = ""
) -> LevelDoc:
    """A level's input checked; `prefix` names the fields when it is a track's first level."""
    code = inputs.code(data.code, prefix + "code")
    others = {lv.code: lv.title for t in version.tracks for lv in t.levels if lv is not exclude}
    inputs.unused(code, others, prefix + "code", "code")
    if data.rank is None:
        raise ValidationError("Enter a whole number.", field=prefix + "rank")
    return LevelDoc(
        code=code,
        title=inputs.line(data.title, prefix + "title", "a title"),
        rank=data.rank,
        summary=inputs.prose(data.summary, prefix + "summary"),
        scope=inputs.prose(data.scope, prefix + "scope"),
        typical_experience=inputs.line(
            data.typical_experience, prefix + "typical_experience", "", required=False
        ),
    )


def insert_level(version: FrameworkVersion, track: Track, data: LevelDoc) -> Level:
    """A new level in its place by rank; a rank the track has already is refused."""
    for other in track.levels:
        if other.rank == data.rank:
            raise ValidationError(
                f"{other.code} has rank {data.rank} in this track already; "
                "ranks rise along a track, so each level needs its own.",
                field="rank",
            )
    level = Level(
        version_id=version.id,
        position=0,
        decision_rights=[],
        **{name: getattr(data, name) for name in FIELDS},
    )
    at = sum(1 for other in track.levels if other.rank < data.rank)
    track.levels.insert(at, level)
    renumber(track.levels)
    return level


def _rank_between(rank: int, below: Level | None, above: Level | None) -> None:
    if (below is None or rank > below.rank) and (above is None or rank < above.rank):
        return
    limits = []
    if below is not None:
        limits.append(f"above {below.rank} ({below.code}, the level below)")
    if above is not None:
        limits.append(f"below {above.rank} ({above.code}, the level above)")
    raise ValidationError(
        f"Choose a rank {' and '.join(limits)}: ranks rise along a track. "
        "To change the order of levels, move the level instead.",
        field="rank",
    )
