"""Tracks (career paths): added with a first level; removing one takes its levels and cells."""

from __future__ import annotations

from typing import Any

from app.core.errors import ValidationError
from app.models import FrameworkVersion, Track
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.inputs import KEY_MAX, TrackInput, count
from app.services.frameworks.editing.levels import clean_level, insert_level
from app.services.frameworks.editing.part import (
    Index,
    Part,
    Place,
    all_competencies,
    applies_everywhere,
    cells_at,
    drop_cells,
    empty_cell,
)


class Tracks(Part):
    kind, noun, event, collection = "tracks", "track", "track", "tracks"

    def snapshot(self, item: Track) -> dict[str, Any]:
        return {"key": item.key, "name": item.name}

    def create(self, version: FrameworkVersion, found: Index, parent, data: TrackInput):
        """With its first level. Competencies that apply to every track apply to it too."""
        key, name = _clean(version, data)
        everywhere = [c for c in all_competencies(version) if applies_everywhere(version, c)]
        track = Track(
            version_id=version.id, key=key, name=name, position=len(version.tracks), levels=[]
        )
        version.tracks.append(track)
        first = clean_level(version, data.first, prefix="level_")
        level = insert_level(version, track, first)
        for competency in everywhere:
            competency.tracks.append(track)
            competency.expectations.append(empty_cell(level))
        return track

    def added(self, parent, item: Track) -> dict[str, Any]:
        return {**self.snapshot(item), "level": item.levels[0].code}

    def change(self, version: FrameworkVersion, found: Index, place: Place, data: TrackInput):
        place[1].key, place[1].name = _clean(version, data, exclude=place[1])

    def take_out(self, version: FrameworkVersion, place: Place, confirmed: bool) -> dict:
        track = place[1]
        if len(version.tracks) == 1:
            raise ValidationError("A framework needs at least one track; add another one first.")
        level_ids = {level.id for level in track.levels}
        for competency in all_competencies(version):
            drop_cells(competency, level_ids)
            if track in competency.tracks:
                competency.tracks.remove(track)
        self.detach(place)
        return {**self.snapshot(track), "levels": [level.code for level in track.levels]}

    def consequences(self, version: FrameworkVersion, place: Place) -> list[str]:
        levels = place[1].levels
        codes = ", ".join(level.code for level in levels)
        level_ids = {level.id for level in levels}
        return [
            f"its {count(len(levels), 'level', 'levels')}: {codes}",
            f"{count(cells_at(version, level_ids), 'cell', 'cells')} of the matrix",
        ]


TRACKS = Tracks()


def _clean(version: FrameworkVersion, data: TrackInput, *, exclude=None) -> tuple[str, str]:
    name = inputs.line(data.name, "name", "a name")
    key = inputs.key(data.key, name, "key", KEY_MAX)
    inputs.unused(key, {t.key: t.name for t in version.tracks if t is not exclude}, "key", "key")
    return key, name
