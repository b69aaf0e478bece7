"""Competencies of an area: the tracks they apply to decide their cells (one per level)."""

from __future__ import annotations

from typing import Any

from app.core.errors import ValidationError
from app.models import CellStatus, Competency, CompetencyArea, FrameworkVersion, Track
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.inputs import COMPETENCY_KEY_MAX, CompetencyInput, count
from app.services.frameworks.editing.part import (
    Index,
    Part,
    Place,
    all_competencies,
    drop_cells,
    empty_cell,
    renumber,
)


class Competencies(Part):
    kind, noun, event, collection = "competencies", "competency", "competency", "competencies"
    parent_kind = "areas"

    def snapshot(self, item: Competency) -> dict[str, Any]:
        return {
            "key": item.key,
            "name": item.name,
            "short_name": item.short_name,
            "description": item.description,
            "area_id": item.area_id,
            "track_ids": [track.id for track in item.tracks],
        }

    def parent_id(self, under: int | None, data: CompetencyInput) -> int | None:
        return data.area_id  # the form's choice, which starts at the area it was added from

    def create(self, version: FrameworkVersion, found: Index, parent, data: CompetencyInput):
        """At the end of its area, with an empty cell at every level of its tracks."""
        return new_competency(version, parent, data)

    def change(self, version: FrameworkVersion, found: Index, place: Place, data):
        """Rename, describe, move to another area, change tracks (cells follow the tracks)."""
        area, competency = place
        tracks = _chosen_tracks(version, data.track_ids)
        target = found.item("areas", data.area_id)
        if target is None:
            raise ValidationError("Choose an area of this framework.", field="area_id")
        competency.name = inputs.line(data.name, "name", "a name")
        competency.short_name = inputs.short_name(data.short_name, "short_name")
        competency.description = inputs.prose(data.description, "description")
        _set_tracks(competency, tracks, allow_dropping=data.drop_written_cells)
        if target is not area:
            _move_to_area(competency, area, target)

    def take_out(self, version: FrameworkVersion, place: Place, confirmed: bool) -> dict:
        area, competency = place
        if len(area.competencies) == 1:
            raise ValidationError(
                f"{competency.name} is the only competency of {area.name}, and an area needs at "
                "least one. Remove the area instead, or add another competency first."
            )
        self.detach(place)
        return self.snapshot(competency)

    def consequences(self, version: FrameworkVersion, place: Place) -> list[str]:
        return [f"its {count(len(place[1].expectations), 'cell', 'cells')}"]


COMPETENCIES = Competencies()


def new_competency(
    version: FrameworkVersion, area: CompetencyArea, data: CompetencyInput, *, prefix: str = ""
) -> Competency:
    """A competency at the end of `area`; `prefix` names the fields when it is an area's first."""
    name = inputs.line(data.name, prefix + "name", "a name")
    key = inputs.key(data.key, name, prefix + "key", COMPETENCY_KEY_MAX)
    taken = {c.key: c.name for c in all_competencies(version)}
    inputs.unused(key, taken, prefix + "key", "key")
    tracks = _chosen_tracks(version, data.track_ids)
    competency = Competency(
        version_id=version.id,
        key=key,
        name=name,
        short_name=inputs.short_name(data.short_name, prefix + "short_name"),
        description=inputs.prose(data.description, prefix + "description"),
        position=len(area.competencies),
        tracks=tracks,
        expectations=[empty_cell(level) for track in tracks for level in track.levels],
    )
    area.competencies.append(competency)
    return competency


def _chosen_tracks(version: FrameworkVersion, track_ids: list[int]) -> list[Track]:
    tracks = [track for track in version.tracks if track.id in set(track_ids)]
    if not tracks:
        raise ValidationError("Choose at least one track.", field="track_ids")
    return tracks


def _set_tracks(competency: Competency, tracks: list[Track], *, allow_dropping: bool) -> None:
    """Cells follow the tracks: empty cells for a new track, none for a track taken away."""
    dropped = [t for t in competency.tracks if t not in tracks]
    gone = {level.id: level.code for track in dropped for level in track.levels}
    written = [
        gone[cell.level_id]
        for cell in competency.expectations
        if cell.level_id in gone and cell.status is CellStatus.DEFINED
    ]
    if written and not allow_dropping:
        raise ValidationError(
            f"Taking away {', '.join(t.name for t in dropped)} deletes the written "
            f"expectations at {', '.join(written)}. Tick the box to delete them, "
            "or keep the track.",
            field="drop_written_cells",
        )
    drop_cells(competency, set(gone))
    for track in tracks:
        if track not in competency.tracks:
            competency.expectations.extend(empty_cell(level) for level in track.levels)
    competency.tracks = tracks


def _move_to_area(competency: Competency, source: CompetencyArea, target: CompetencyArea) -> None:
    if len(source.competencies) == 1:
        raise ValidationError(
            f"{competency.name} is the only competency of {source.name}, and an area needs "
            "at least one. Add another competency to it first, or remove the area.",
            field="area_id",
        )
    source.competencies.remove(competency)
    renumber(source.competencies)
    target.competencies.append(competency)
    renumber(target.competencies)
