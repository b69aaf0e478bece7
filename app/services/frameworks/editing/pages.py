"""What the editor's pages show: the whole draft with its problems, a cell in its place, the
publish page; each page's data from one call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.core.errors import NotFoundError
from app.models import (
    CellStatus,
    Competency,
    CompetencyArea,
    Expectation,
    FrameworkVersion,
    Level,
    Track,
)
from app.services.frameworks import document, store, versions, wording
from app.services.frameworks.editing.drafts import other_draft
from app.services.frameworks.editing.part import Index, check, find
from app.services.frameworks.editing.registry import PARTS
from app.services.frameworks.editing.verbs import Removal, removal


@dataclass
class Grid:
    """The expectation matrix: a column per level, a row per competency, grouped by area."""

    columns: list[tuple[Track, Level]]
    rows: list[tuple[CompetencyArea, list[tuple[Competency, list[Expectation | None]]]]]


def grid(version: FrameworkVersion) -> Grid:
    columns = [(track, level) for track in version.tracks for level in track.levels]
    rows = []
    for area in version.areas:
        area_rows = []
        for competency in area.competencies:
            by_level = {cell.level_id: cell for cell in competency.expectations}
            area_rows.append((competency, [by_level.get(level.id) for _, level in columns]))
        rows.append((area, area_rows))
    return Grid(columns, rows)


@dataclass(frozen=True)
class NextCell:
    """Where "save, then the next" goes: the cell one level up the same track, or, past the
    top of the track, the next competency's cell at the track's first level."""

    competency: Competency
    level: Level
    cell: Expectation


@dataclass(frozen=True)
class Below:
    """The cell a cell is read against, as the checks read it: the same competency one level
    down the track, or, for a track's first level, at the highest-ranked lower level of another
    track (`track` is then that other track, to name it)."""

    level: Level
    cell: Expectation
    track: Track | None = None


@dataclass
class CellPlace:
    """A cell with what its editor shows around it: the competency, the level, its neighbours."""

    area: CompetencyArea
    competency: Competency
    track: Track
    level: Level
    cell: Expectation
    below: Below | None  # the level below, as the checks compare them
    next: NextCell | None  # where "save, then the next" goes


def cell_place(version: FrameworkVersion, expectation_id: int) -> CellPlace:
    found = Index(version)
    place = found.get("cells", expectation_id)
    if place is None:
        raise NotFoundError("Not found.")
    competency, cell = place
    area = found.get("competencies", competency.id)[0]
    track, level = found.get("levels", cell.level_id)
    below = _below(version, competency, track, level)
    following = _next_cell(version, competency, track, level)
    return CellPlace(area, competency, track, level, cell, below, following)


def _below(
    version: FrameworkVersion, competency: Competency, track: Track, level: Level
) -> Below | None:
    """The level below as the document's checks have it (`document.step_below`), when the
    competency has a cell there."""

    def applies(other: Track) -> bool:
        return any(_cell_at(competency, lv) is not None for lv in other.levels)

    lower_track, lower = document.step_below(version.tracks, track, level, applies)
    cell = _cell_at(competency, lower)
    if cell is None:
        return None
    return Below(lower, cell, lower_track if lower_track is not track else None)


def _next_cell(
    version: FrameworkVersion, competency: Competency, track: Track, level: Level
) -> NextCell | None:
    """Up the track first, never across to another track (its levels are another path); past
    the top, the start of the next row: the next competency on this track at its first level,
    so that a fresh draft is written a competency at a time, all of each one's levels."""
    at = track.levels.index(level)
    above = track.levels[at + 1] if at + 1 < len(track.levels) else None
    if above is not None and (cell := _cell_at(competency, above)) is not None:
        return NextCell(competency, above, cell)
    first = track.levels[0]
    competencies = [c for area in version.areas for c in area.competencies]
    for other in competencies[competencies.index(competency) + 1 :]:
        if (cell := _cell_at(other, first)) is not None:
            return NextCell(other, first, cell)
    return None


def _cell_at(competency: Competency, level: Level | None) -> Expectation | None:
    return next((c for c in competency.expectations if level and c.level_id == level.id), None)


@dataclass(frozen=True)
class Finding:
    """A problem the editor lists, with the cell it is about (to link to) when there is one."""

    message: str
    place: str = ""
    cell: Expectation | None = None
    is_empty_cell: bool = False  # "not written yet": listed together, they are many at first
    is_without_measure: bool = False  # listed together too: a file from Monzo has none
    after_place: str = ""  # the message's words after the place, when it starts by naming it


CELL_PATH = re.compile(r"^areas\[(\d+)\]\.competencies\[(\d+)\]\.expectations\.([^.]+)")


def findings(version: FrameworkVersion, problems: list[document.Problem]) -> list[Finding]:
    """Problems in the words of the editor: a cell's problem names and links to the cell."""
    codes = {level.id: level.code for track in version.tracks for level in track.levels}
    found = []
    for problem in problems:
        match = CELL_PATH.match(problem.path)
        if match is None:
            found.append(Finding(problem.message))
            continue
        competency = version.areas[int(match[1])].competencies[int(match[2])]
        cell = next((c for c in competency.expectations if codes[c.level_id] == match[3]), None)
        about_the_cell = match.end() == len(problem.path)  # not about its text or status
        is_empty = about_the_cell and cell is not None and cell.status is CellStatus.EMPTY
        place = f"{competency.name} at {match[3]}"
        after_place = problem.message.removeprefix(f"{place} ")
        after_place = "" if after_place == problem.message else after_place
        without_measure = problem.kind == wording.NO_MEASURE_KIND
        found.append(
            Finding(
                problem.message,
                place,
                cell,
                is_empty_cell=is_empty,
                is_without_measure=without_measure,
                after_place=after_place,
            )
        )
    return found


@dataclass(frozen=True)
class EditorPage:
    """The whole draft on one page, with what stops it from being published and what to check."""

    version: FrameworkVersion
    grid: Grid
    errors: list[Finding]
    warnings: list[Finding]
    other_draft: FrameworkVersion | None  # where to go instead when this is not a draft
    published: FrameworkVersion | None  # the version this draft would replace


def editor_page(actor, slug: str, number: int) -> EditorPage:
    version = store.version_for(actor, slug, number)
    report = check(version)
    return EditorPage(
        version,
        grid(version),
        findings(version, report.errors),
        findings(version, report.warnings),
        None if version.is_draft else other_draft(version),
        versions.published_version(version.framework_id) if version.is_draft else None,
    )


@dataclass(frozen=True)
class PublishPage:
    """A draft about to be published: its problems, and the version it replaces."""

    version: FrameworkVersion
    errors: list[Finding]
    warnings: list[Finding]
    published: FrameworkVersion | None


def publish_page(version: FrameworkVersion) -> PublishPage:
    report = check(version)
    return PublishPage(
        version,
        findings(version, report.errors),
        findings(version, report.warnings),
        versions.published_version(version.framework_id),
    )


@dataclass(frozen=True)
class PartPage:
    """A form about one part: the draft, the part's parent, the part itself (None while it is
    being added) and the revision the form carries; a cell comes with its neighbours."""

    version: FrameworkVersion
    parent: Any
    item: Any
    revision: int
    cell: CellPlace | None = None
    removal: Removal | None = None


def part_page(
    version: FrameworkVersion, kind: str, *, item_id=None, under=None, removing=False
) -> PartPage:
    """What the form of a part shows; NotFoundError when the part (or its parent) is not there."""
    part = PARTS[kind]
    if item_id is None:
        parent = version if part.parent_kind is None else find(version, part.parent_kind, under)[1]
        return PartPage(version, parent, None, version.revision)
    parent, item = find(version, kind, item_id)
    return PartPage(
        version,
        parent,
        item,
        part.revision(version, (parent, item)),
        cell_place(version, item_id) if kind == "cells" else None,
        removal(version, kind, item_id) if removing else None,
    )
