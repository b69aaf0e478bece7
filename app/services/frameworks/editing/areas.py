"""Competency areas: added with a first competency; removing one with competencies needs a tick."""

from __future__ import annotations

from typing import Any

from app.core.errors import ValidationError
from app.models import CompetencyArea, FrameworkVersion
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.competencies import new_competency
from app.services.frameworks.editing.inputs import KEY_MAX, AreaInput, count
from app.services.frameworks.editing.part import Index, Part, Place


class Areas(Part):
    kind, noun, event, collection = "areas", "area", "area", "areas"
    asks_to_confirm = True

    def snapshot(self, item: CompetencyArea) -> dict[str, Any]:
        return {"key": item.key, "name": item.name, "description": item.description}

    def create(self, version: FrameworkVersion, found: Index, parent, data: AreaInput):
        """With its first competency, which applies to every track (cells start empty)."""
        area = CompetencyArea(
            version_id=version.id,
            position=len(version.areas),
            competencies=[],
            **_clean(version, data),
        )
        version.areas.append(area)
        data.first.track_ids = [track.id for track in version.tracks]
        new_competency(version, area, data.first, prefix="competency_")
        return area

    def added(self, parent, item: CompetencyArea) -> dict[str, Any]:
        return {**self.snapshot(item), "competency": item.competencies[0].key}

    def change(self, version: FrameworkVersion, found: Index, place: Place, data: AreaInput):
        for name, value in _clean(version, data, exclude=place[1]).items():
            setattr(place[1], name, value)

    def take_out(self, version: FrameworkVersion, place: Place, confirmed: bool) -> dict:
        area = place[1]
        if len(version.areas) == 1:
            raise ValidationError("A framework needs at least one area; add another one first.")
        if area.competencies and not confirmed:
            raise ValidationError(
                f"{area.name} holds {_competencies(area)} "
                f"({_names(area)}). Tick the box to remove them and their cells too.",
                field="confirm",
            )
        self.detach(place)
        return {**self.snapshot(area), "competencies": [c.key for c in area.competencies]}

    def consequences(self, version: FrameworkVersion, place: Place) -> list[str]:
        return [f"{_competencies(place[1])} and their cells: {_names(place[1])}"]


AREAS = Areas()


def _competencies(area: CompetencyArea) -> str:
    return count(len(area.competencies), "competency", "competencies")


def _names(area: CompetencyArea) -> str:
    return ", ".join(c.name for c in area.competencies)


def _clean(version: FrameworkVersion, data: AreaInput, *, exclude=None) -> dict[str, str]:
    name = inputs.line(data.name, "name", "a name")
    key = inputs.key(data.key, name, "key", KEY_MAX)
    inputs.unused(key, {a.key: a.name for a in version.areas if a is not exclude}, "key", "key")
    return {"key": key, "name": name, "description": inputs.prose(data.description, "description")}
