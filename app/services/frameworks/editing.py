"""Editing a draft: tracks, levels, decision rights, areas, competencies and their cells.

Every verb takes a version loaded whole (store.version_for) and the revision its editor saw. It
refuses anything but a draft, answers a stale revision with ConflictError carrying the stored
values, checks its input, and keeps the draft valid: after the change the whole document must
pass document.check, so a draft can always be published. Structural edits bump the version's
revision; a cell has a revision of its own, so two people can write different cells at once.
Each verb records an audit event on the version. Like every service it only flushes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from app import policy
from app.extensions import db
from app.models import (
    CellStatus,
    Competency,
    CompetencyArea,
    DaciRole,
    DecisionRight,
    Expectation,
    Framework,
    FrameworkVersion,
    Indicator,
    IndicatorKind,
    Level,
    Track,
    VersionStatus,
)
from app.services import audit
from app.services.errors import ConflictError, NotFoundError, ValidationError
from app.services.frameworks import document, files, store
from app.services.frameworks.document import (
    CODE_PATTERN,
    DECISION_MAX,
    INDICATOR_MAX,
    INDICATORS_MAX,
    KEY_PATTERN,
    NAME_MAX,
    TEXT_MAX,
    AreaDoc,
    CompetencyDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    TrackDoc,
)
from app.services.frameworks.keys import slugify

KEY_MAX = 60
COMPETENCY_KEY_MAX = 80
SLUG_MAX = 80
CODE_MAX = 30
# The cell form has one list per kind; their order here is the order they are stored in.
INDICATOR_FIELDS = {
    IndicatorKind.CRITERION: "criteria",
    IndicatorKind.EXAMPLE: "examples",
    IndicatorKind.SIGNAL: "signals",
}
KINDS = ("tracks", "levels", "decisions", "areas", "competencies")


# --- what the forms send ------------------------------------------------------------------------


@dataclass
class NewFramework:
    slug: str
    name: str
    description: str
    track_key: str
    track_name: str
    level_code: str
    level_title: str
    area_name: str
    competency_name: str


@dataclass
class TrackInput:
    key: str
    name: str


@dataclass
class LevelInput:
    code: str
    title: str
    rank: int | None
    summary: str = ""
    scope: str = ""
    typical_experience: str = ""


@dataclass
class DecisionInput:
    decision: str
    role: DaciRole
    delegation: int


@dataclass
class AreaInput:
    key: str
    name: str
    description: str = ""


@dataclass
class CompetencyInput:
    key: str
    name: str
    description: str
    area_id: int
    track_ids: list[int]
    drop_written_cells: bool = False


@dataclass
class CellInput:
    status: CellStatus
    text: str = ""
    indicators: list[IndicatorDoc] = field(default_factory=list)


# --- reading a draft for its pages --------------------------------------------------------------


@dataclass
class Index:
    """Every part of a loaded version by id, with its parent (relationships never lazy-load)."""

    tracks: dict[int, Track] = field(default_factory=dict)
    levels: dict[int, tuple[Track, Level]] = field(default_factory=dict)
    decisions: dict[int, tuple[Level, DecisionRight]] = field(default_factory=dict)
    areas: dict[int, CompetencyArea] = field(default_factory=dict)
    competencies: dict[int, tuple[CompetencyArea, Competency]] = field(default_factory=dict)
    cells: dict[int, tuple[Competency, Expectation]] = field(default_factory=dict)


def index(version: FrameworkVersion) -> Index:
    found = Index()
    for track in version.tracks:
        found.tracks[track.id] = track
        for level in track.levels:
            found.levels[level.id] = (track, level)
            for right in level.decision_rights:
                found.decisions[right.id] = (level, right)
    for area in version.areas:
        found.areas[area.id] = area
        for competency in area.competencies:
            found.competencies[competency.id] = (area, competency)
            for cell in competency.expectations:
                found.cells[cell.id] = (competency, cell)
    return found


def find(version: FrameworkVersion, kind: str, item_id: int):
    """The track, level, decision right, area or competency (with its parent where it has one)."""
    item = getattr(index(version), kind).get(item_id)
    if item is None:
        raise NotFoundError("Not found.")
    return item


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


@dataclass
class CellPlace:
    """A cell with what its editor shows around it: the competency, the level, its neighbours."""

    area: CompetencyArea
    competency: Competency
    track: Track
    level: Level
    cell: Expectation
    below: tuple[Level, Expectation] | None  # the same competency one level down the track
    next: tuple[Level, Expectation] | None  # where "save, then the next" goes


def cell_place(version: FrameworkVersion, expectation_id: int) -> CellPlace:
    found = index(version)
    if expectation_id not in found.cells:
        raise NotFoundError("Not found.")
    competency, cell = found.cells[expectation_id]
    area, _ = found.competencies[competency.id]
    track, level = found.levels[cell.level_id]
    by_level = {c.level_id: c for c in competency.expectations}
    in_order = [
        (lv, by_level[lv.id]) for t in version.tracks for lv in t.levels if lv.id in by_level
    ]
    at = next(i for i, (lv, _) in enumerate(in_order) if lv.id == level.id)
    below = in_order[at - 1] if at and found.levels[in_order[at - 1][0].id][0] is track else None
    following = in_order[at + 1] if at + 1 < len(in_order) else None
    return CellPlace(area, competency, track, level, cell, below, following)


def other_draft(version: FrameworkVersion) -> FrameworkVersion | None:
    """Another draft of the same framework, if there is one (there is one draft at a time)."""
    return (
        db.session.execute(
            select(FrameworkVersion).where(
                FrameworkVersion.framework_id == version.framework_id,
                FrameworkVersion.status == VersionStatus.DRAFT,
                FrameworkVersion.id != version.id,
            )
        )
        .scalars()
        .first()
    )


def check(version: FrameworkVersion) -> document.Report:
    """The validation errors and warnings of a version as it is stored."""
    return document.check(store.to_document(version), document.Report())


@dataclass(frozen=True)
class Finding:
    """A problem the editor lists, with the cell it is about (to link to) when there is one."""

    message: str
    place: str = ""
    cell: Expectation | None = None
    is_empty_cell: bool = False  # "not written yet": listed together, they are many at first


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
        found.append(Finding(problem.message, place, cell, is_empty))
    return found


def import_upload(
    actor, data: bytes, *, filename: str, fmt: str = "", publish: bool = False, changelog: str = ""
):
    """Import an uploaded file (format from its name or content unless given): files.Imported,
    its version loaded whole."""
    fmt = fmt or files.detect_format(filename, data)
    imported = files.import_text(
        actor, files.decode(data), fmt, filename=filename, publish=publish, changelog=changelog
    )
    version = store.load_version(imported.version.id)
    return files.Imported(version, imported.report, is_new=imported.is_new)


# --- creating a framework -----------------------------------------------------------------------

NEW_FRAMEWORK_FIELDS = {
    "slug": "slug",
    "name": "name",
    "tracks[0].key": "track_key",
    "tracks[0].levels[0].code": "level_code",
    "areas[0].key": "area_name",
    "areas[0].competencies[0].key": "competency_name",
}


def create_framework(actor, data: NewFramework) -> FrameworkVersion:
    """A new framework as draft version 1: one track, one level, one area, one competency."""
    policy.authorize(actor, "frameworks.manage")
    slug = data.slug.strip()
    if not slug:
        raise ValidationError("Enter a slug.", field="slug")
    if len(slug) > SLUG_MAX:
        raise ValidationError(f"Use at most {SLUG_MAX} characters.", field="slug")
    taken = db.session.execute(select(Framework).where(Framework.slug == slug)).scalar_one_or_none()
    if taken is not None:
        raise ValidationError(
            f'"{slug}" is the slug of {taken.name} already; choose another one.', field="slug"
        )
    area_name = _line(data.area_name, "area_name", "the name of the first area")
    competency_name = _line(data.competency_name, "competency_name", "the first competency")
    doc = FrameworkDoc(
        slug=slug,
        name=_line(data.name, "name", "a name"),
        description=_prose(data.description, "description"),
        tracks=[
            TrackDoc(
                _key(data.track_key, data.track_name, "track_key", KEY_MAX),
                _line(data.track_name, "track_name", "the name of the first track"),
                [
                    LevelDoc(
                        code=_code(data.level_code, "level_code"),
                        title=_line(
                            data.level_title, "level_title", "the title of the first level"
                        ),
                        rank=1,
                    )
                ],
            )
        ],
        areas=[
            AreaDoc(
                slugify(area_name, "area"),
                area_name,
                competencies=[
                    CompetencyDoc(slugify(competency_name, "competency"), competency_name)
                ],
            )
        ],
    )
    report = document.check(doc, document.Report())
    if report.errors:
        problem = report.errors[0]
        raise ValidationError(problem.message, field=NEW_FRAMEWORK_FIELDS.get(problem.path))
    return store.load_version(store.create_version(actor, doc).id)


# --- tracks -------------------------------------------------------------------------------------


def add_track(
    actor, version: FrameworkVersion, data: TrackInput, first: LevelInput, *, expected_revision
) -> Track:
    """A track with its first level. Competencies that apply to every track apply to it too."""
    _begin(actor, version, expected_revision, version, _tracks_now)
    name = _line(data.name, "name", "a name")
    key = _key(data.key, name, "key", KEY_MAX)
    _unused(key, {t.key: t.name for t in version.tracks}, "key", "key")
    everywhere = [c for c in _all_competencies(version) if _applies_everywhere(version, c)]
    track = Track(
        version_id=version.id, key=key, name=name, position=len(version.tracks), levels=[]
    )
    version.tracks.append(track)
    level = _insert_level(version, track, _clean_level(version, first, prefix="level_"))
    for competency in everywhere:
        competency.tracks.append(track)
        competency.expectations.append(_empty_cell(level))
    _finish(
        actor,
        version,
        "framework.track_added",
        after={**_track_snapshot(track), "level": level.code},
    )
    return track


def update_track(
    actor, version: FrameworkVersion, track_id: int, data: TrackInput, *, expected_revision
) -> Track:
    track = index(version).tracks.get(track_id)
    _begin(actor, version, expected_revision, track, _track_snapshot)
    before = _track_snapshot(track)
    name = _line(data.name, "name", "a name")
    key = _key(data.key, name, "key", KEY_MAX)
    _unused(key, {t.key: t.name for t in version.tracks if t is not track}, "key", "key")
    track.key, track.name = key, name
    _finish(
        actor, version, "framework.track_updated", *audit.changes(before, _track_snapshot(track))
    )
    return track


def _remove_track(version: FrameworkVersion, track: Track, _confirmed: bool) -> dict[str, Any]:
    if len(version.tracks) == 1:
        raise ValidationError("A framework needs at least one track; add another one first.")
    codes = {level.id for level in track.levels}
    for competency in _all_competencies(version):
        _drop_cells(competency, codes)
        if track in competency.tracks:
            competency.tracks.remove(track)
    version.tracks.remove(track)
    _renumber(version.tracks)
    return {**_track_snapshot(track), "levels": [level.code for level in track.levels]}


def _track_snapshot(track: Track) -> dict[str, Any]:
    return {"key": track.key, "name": track.name}


# --- levels -------------------------------------------------------------------------------------


def add_level(
    actor, version: FrameworkVersion, track_id: int, data: LevelInput, *, expected_revision
) -> Level:
    """A level in its place by rank; every competency of the track gets an empty cell for it."""
    track = index(version).tracks.get(track_id)
    _begin(actor, version, expected_revision, track, _levels_now)
    level = _insert_level(version, track, _clean_level(version, data))
    for competency in _all_competencies(version):
        if track in competency.tracks:
            competency.expectations.append(_empty_cell(level))
    _finish(actor, version, "framework.level_added", after=_level_snapshot(level))
    return level


def update_level(
    actor, version: FrameworkVersion, level_id: int, data: LevelInput, *, expected_revision
) -> Level:
    found = index(version).levels.get(level_id)
    _begin(actor, version, expected_revision, found, lambda f: _level_snapshot(f[1]))
    track, level = found
    clean = _clean_level(version, data, exclude=level)
    at = track.levels.index(level)
    _rank_between(
        clean.rank,
        track.levels[at - 1] if at else None,
        track.levels[at + 1] if at + 1 < len(track.levels) else None,
    )
    before = _level_snapshot(level)
    for name in ("code", "title", "rank", "summary", "scope", "typical_experience"):
        setattr(level, name, getattr(clean, name))
    _finish(
        actor, version, "framework.level_updated", *audit.changes(before, _level_snapshot(level))
    )
    return level


def _clean_level(
    version: FrameworkVersion, data: LevelInput, *, exclude: Level | None = None, prefix: str = ""
) -> LevelDoc:
    code = _code(data.code, prefix + "code")
    others = {lv.code: lv.title for t in version.tracks for lv in t.levels if lv is not exclude}
    _unused(code, others, prefix + "code", "code")
    if data.rank is None:
        raise ValidationError("Enter a whole number.", field=prefix + "rank")
    return LevelDoc(
        code=code,
        title=_line(data.title, prefix + "title", "a title"),
        rank=data.rank,
        summary=_prose(data.summary, prefix + "summary"),
        scope=_prose(data.scope, prefix + "scope"),
        typical_experience=_line(
            data.typical_experience, prefix + "typical_experience", "", required=False
        ),
    )


def _insert_level(version: FrameworkVersion, track: Track, data: LevelDoc) -> Level:
    for other in track.levels:
        if other.rank == data.rank:
            raise ValidationError(
                f"{other.code} has rank {data.rank} in this track already; "
                "ranks rise along a track, so each level needs its own.",
                field="rank",
            )
    level = Level(
        version_id=version.id,
        code=data.code,
        title=data.title,
        rank=data.rank,
        position=0,
        summary=data.summary,
        scope=data.scope,
        typical_experience=data.typical_experience,
        decision_rights=[],
    )
    at = sum(1 for other in track.levels if other.rank < data.rank)
    track.levels.insert(at, level)
    _renumber(track.levels)
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


def _remove_level(version: FrameworkVersion, found, _confirmed: bool) -> dict[str, Any]:
    track, level = found
    if len(track.levels) == 1:
        raise ValidationError(
            f"{level.code} is the only level of {track.name}; a track needs at least one "
            "level. Remove the track instead."
        )
    for competency in _all_competencies(version):
        _drop_cells(competency, {level.id})
    track.levels.remove(level)
    _renumber(track.levels)
    return _level_snapshot(level)


def _level_snapshot(level: Level) -> dict[str, Any]:
    return {
        "code": level.code,
        "title": level.title,
        "rank": level.rank,
        "summary": level.summary,
        "scope": level.scope,
        "typical_experience": level.typical_experience,
    }


# --- decision rights ----------------------------------------------------------------------------


def add_decision(
    actor, version: FrameworkVersion, level_id: int, data: DecisionInput, *, expected_revision
) -> DecisionRight:
    found = index(version).levels.get(level_id)
    _begin(actor, version, expected_revision, found, lambda f: _level_snapshot(f[1]))
    level = found[1]
    right = DecisionRight(position=len(level.decision_rights), **_clean_decision(data))
    level.decision_rights.append(right)
    _finish(
        actor,
        version,
        "framework.decision_right_added",
        after={"level": level.code, **_decision_snapshot(right)},
    )
    return right


def update_decision(
    actor, version: FrameworkVersion, decision_id: int, data: DecisionInput, *, expected_revision
) -> DecisionRight:
    found = index(version).decisions.get(decision_id)
    _begin(actor, version, expected_revision, found, lambda f: _decision_snapshot(f[1]))
    level, right = found
    before = _decision_snapshot(right)
    for name, value in _clean_decision(data).items():
        setattr(right, name, value)
    old, new = audit.changes(before, _decision_snapshot(right))
    _finish(actor, version, "framework.decision_right_updated", old, {"level": level.code, **new})
    return right


def _clean_decision(data: DecisionInput) -> dict[str, Any]:
    decision = _prose(data.decision, "decision", DECISION_MAX)
    if not decision:
        raise ValidationError("Describe the decision.", field="decision")
    if data.delegation not in range(1, 8):
        raise ValidationError("Choose a delegation level from 1 (tell) to 7.", field="delegation")
    return {"decision": decision, "role": DaciRole(data.role), "delegation": data.delegation}


def _remove_decision(_version: FrameworkVersion, found, _confirmed: bool) -> dict[str, Any]:
    level, right = found
    level.decision_rights.remove(right)
    _renumber(level.decision_rights)
    return {"level": level.code, **_decision_snapshot(right)}


def _decision_snapshot(right: DecisionRight) -> dict[str, Any]:
    return {"decision": right.decision, "role": right.role.value, "delegation": right.delegation}


# --- areas --------------------------------------------------------------------------------------


def add_area(
    actor, version: FrameworkVersion, data: AreaInput, first: CompetencyInput, *, expected_revision
) -> CompetencyArea:
    """An area with its first competency, which applies to every track (cells start empty)."""
    _begin(actor, version, expected_revision, version, _areas_now)
    area = CompetencyArea(
        version_id=version.id,
        position=len(version.areas),
        competencies=[],
        **_clean_area(version, data),
    )
    version.areas.append(area)
    first.track_ids = [track.id for track in version.tracks]
    competency = _new_competency(version, area, first, prefix="competency_")
    _finish(
        actor,
        version,
        "framework.area_added",
        after={**_area_snapshot(area), "competency": competency.key},
    )
    return area


def update_area(
    actor, version: FrameworkVersion, area_id: int, data: AreaInput, *, expected_revision
) -> CompetencyArea:
    area = index(version).areas.get(area_id)
    _begin(actor, version, expected_revision, area, _area_snapshot)
    before = _area_snapshot(area)
    for name, value in _clean_area(version, data, exclude=area).items():
        setattr(area, name, value)
    _finish(actor, version, "framework.area_updated", *audit.changes(before, _area_snapshot(area)))
    return area


def _clean_area(
    version: FrameworkVersion, data: AreaInput, *, exclude: CompetencyArea | None = None
) -> dict[str, str]:
    name = _line(data.name, "name", "a name")
    key = _key(data.key, name, "key", KEY_MAX)
    _unused(key, {a.key: a.name for a in version.areas if a is not exclude}, "key", "key")
    return {"key": key, "name": name, "description": _prose(data.description, "description")}


def _remove_area(version: FrameworkVersion, area: CompetencyArea, confirmed: bool) -> dict:
    if len(version.areas) == 1:
        raise ValidationError("A framework needs at least one area; add another one first.")
    if area.competencies and not confirmed:
        names = ", ".join(c.name for c in area.competencies)
        raise ValidationError(
            f"{area.name} holds {_count(len(area.competencies), 'competency', 'competencies')} "
            f"({names}). Tick the box to remove them and their cells too.",
            field="confirm",
        )
    version.areas.remove(area)
    _renumber(version.areas)
    return {**_area_snapshot(area), "competencies": [c.key for c in area.competencies]}


def _area_snapshot(area: CompetencyArea) -> dict[str, Any]:
    return {"key": area.key, "name": area.name, "description": area.description}


# --- competencies -------------------------------------------------------------------------------


def add_competency(
    actor, version: FrameworkVersion, data: CompetencyInput, *, expected_revision
) -> Competency:
    """A competency at the end of its area, with an empty cell at every level of its tracks."""
    found = index(version)
    area = found.areas.get(data.area_id)
    _begin(actor, version, expected_revision, area, _competencies_now)
    competency = _new_competency(version, area, data)
    _finish(actor, version, "framework.competency_added", after=_competency_snapshot(competency))
    return competency


def update_competency(
    actor,
    version: FrameworkVersion,
    competency_id: int,
    data: CompetencyInput,
    *,
    expected_revision,
) -> Competency:
    """Rename, describe, move to another area, change tracks (cells follow the tracks)."""
    found = index(version)
    place = found.competencies.get(competency_id)
    _begin(actor, version, expected_revision, place, lambda f: _competency_snapshot(f[1]))
    area, competency = place
    before = _competency_snapshot(competency)
    tracks = _chosen_tracks(version, data.track_ids)
    target = found.areas.get(data.area_id)
    if target is None:
        raise ValidationError("Choose an area of this framework.", field="area_id")
    competency.name = _line(data.name, "name", "a name")
    competency.description = _prose(data.description, "description")
    _set_tracks(competency, tracks, allow_dropping=data.drop_written_cells)
    if target is not area:
        _move_to_area(competency, area, target)
    after = _competency_snapshot(competency)
    _finish(actor, version, "framework.competency_updated", *audit.changes(before, after))
    return competency


def _new_competency(
    version: FrameworkVersion, area: CompetencyArea, data: CompetencyInput, *, prefix: str = ""
) -> Competency:
    name = _line(data.name, prefix + "name", "a name")
    key = _key(data.key, name, prefix + "key", COMPETENCY_KEY_MAX)
    _unused(key, {c.key: c.name for c in _all_competencies(version)}, prefix + "key", "key")
    tracks = _chosen_tracks(version, data.track_ids)
    competency = Competency(
        version_id=version.id,
        key=key,
        name=name,
        description=_prose(data.description, prefix + "description"),
        position=len(area.competencies),
        tracks=tracks,
        expectations=[_empty_cell(level) for track in tracks for level in track.levels],
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
    _drop_cells(competency, set(gone))
    for track in tracks:
        if track not in competency.tracks:
            competency.expectations.extend(_empty_cell(level) for level in track.levels)
    competency.tracks = tracks


def _move_to_area(competency: Competency, source: CompetencyArea, target: CompetencyArea) -> None:
    if len(source.competencies) == 1:
        raise ValidationError(
            f"{competency.name} is the only competency of {source.name}, and an area needs "
            "at least one. Add another competency to it first, or remove the area.",
            field="area_id",
        )
    source.competencies.remove(competency)
    _renumber(source.competencies)
    target.competencies.append(competency)
    _renumber(target.competencies)


def _remove_competency(_version: FrameworkVersion, found, _confirmed: bool) -> dict[str, Any]:
    area, competency = found
    if len(area.competencies) == 1:
        raise ValidationError(
            f"{competency.name} is the only competency of {area.name}, and an area needs at "
            "least one. Remove the area instead, or add another competency first."
        )
    area.competencies.remove(competency)
    _renumber(area.competencies)
    return _competency_snapshot(competency)


def _competency_snapshot(competency: Competency) -> dict[str, Any]:
    return {
        "key": competency.key,
        "name": competency.name,
        "description": competency.description,
        "area_id": competency.area_id,
        "track_ids": [track.id for track in competency.tracks],
    }


# --- cells --------------------------------------------------------------------------------------


def update_cell(
    actor, version: FrameworkVersion, expectation_id: int, data: CellInput, *, expected_revision
) -> Expectation:
    """Write one cell. Its own revision guards it, so other cells stay open to others."""
    _editable(actor, version)
    found = index(version)
    if expectation_id not in found.cells:
        raise ConflictError(
            "This cell is no longer in the draft: someone removed its competency or its level "
            "while you were writing. Your text is below, so you can keep a copy."
        )
    competency, cell = found.cells[expectation_id]
    code = found.levels[cell.level_id][1].code
    if cell.revision != expected_revision:
        raise ConflictError(
            f"Someone else saved {competency.name} at {code} while you were editing it.",
            current=cell_snapshot(cell),
        )
    status, text, indicators = _clean_cell(data)
    before = cell_snapshot(cell)
    cell.status, cell.text = status, text
    if _grouped(indicators) != _grouped(cell.indicators):
        cell.indicators = [
            Indicator(position=i, kind=ind.kind, text=ind.text)
            for i, ind in enumerate(_in_kind_order(indicators))
        ]
    flag_modified(cell, "status")  # always an UPDATE, so indicator-only edits bump the revision
    db.session.flush()
    _check_document(version)
    old, new = audit.changes(before, cell_snapshot(cell))
    audit.record(
        actor,
        "framework.cell_updated",
        version,
        before=old,
        after={"competency": competency.key, "level": code, **new},
    )
    return cell


def cell_snapshot(cell: Expectation) -> dict[str, Any]:
    """A cell as the form shows it: status, text and one text per indicator kind."""
    snapshot: dict[str, Any] = {"status": cell.status.value, "text": cell.text}
    for kind, name in INDICATOR_FIELDS.items():
        snapshot[name] = "\n".join(i.text for i in cell.indicators if i.kind is kind)
    return snapshot


def _clean_cell(data: CellInput) -> tuple[CellStatus, str, list[IndicatorDoc]]:
    status = CellStatus(data.status)
    text = _prose(data.text, "text")
    indicators = [IndicatorDoc(i.kind, " ".join(i.text.split())) for i in data.indicators]
    indicators = [i for i in indicators if i.text]
    _check_indicators(indicators)
    if status is CellStatus.DEFINED and not text:
        raise ValidationError(
            "A defined expectation needs text: say what is expected at this level.", field="text"
        )
    if status is not CellStatus.DEFINED and (text or indicators):
        label = "empty" if status is CellStatus.EMPTY else "not applicable"
        raise ValidationError(
            f"A cell marked {label} has no text or indicators. Choose “Defined” to keep "
            "them, or clear them first.",
            field="status",
        )
    return status, text, indicators


def _check_indicators(indicators: list[IndicatorDoc]) -> None:
    for indicator in indicators:
        if len(indicator.text) > INDICATOR_MAX:
            raise ValidationError(
                f"Each line may have at most {INDICATOR_MAX:,} characters; one has "
                f"{len(indicator.text):,}. Shorten it or split it into two lines.",
                field=INDICATOR_FIELDS[indicator.kind],
            )
    if len(indicators) > INDICATORS_MAX:
        raise ValidationError(
            f"A cell may have at most {INDICATORS_MAX} indicators in all; this one has "
            f"{len(indicators)}. Keep the ones that tell levels apart.",
            field=INDICATOR_FIELDS[indicators[-1].kind],
        )


def _grouped(indicators) -> dict[IndicatorKind, list[str]]:
    return {kind: [i.text for i in indicators if i.kind is kind] for kind in INDICATOR_FIELDS}


def _in_kind_order(indicators: list[IndicatorDoc]) -> list[IndicatorDoc]:
    order = list(INDICATOR_FIELDS)
    return sorted(indicators, key=lambda i: order.index(i.kind))


def _empty_cell(level: Level) -> Expectation:
    return Expectation(level=level, status=CellStatus.EMPTY, text="", indicators=[])


def _drop_cells(competency: Competency, level_ids: set[int]) -> None:
    for cell in [c for c in competency.expectations if c.level_id in level_ids]:
        competency.expectations.remove(cell)


# --- moving and removing, whatever the kind -----------------------------------------------------


def move(
    actor, version: FrameworkVersion, kind: str, item_id: int, direction: str, *, expected_revision
) -> str:
    """Move one place up or down among its siblings; a level swaps rank with its neighbour."""
    item, siblings, name = _siblings(version, kind, item_id)
    _begin(actor, version, expected_revision, item, _no_snapshot)
    at = siblings.index(item)
    other = at - 1 if direction == "up" else at + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        raise ValidationError(f"{name} cannot move {direction}: it is at the end already.")
    neighbour = siblings[other]
    item.position, neighbour.position = neighbour.position, item.position
    if kind == "levels":
        item.rank, neighbour.rank = neighbour.rank, item.rank
    siblings.sort(key=lambda sibling: sibling.position)
    _finish(
        actor,
        version,
        f"framework.{_SINGULAR[kind]}_moved",
        after={"item": name, "direction": direction, "position": item.position},
    )
    return name


def _siblings(version: FrameworkVersion, kind: str, item_id: int):
    found = index(version)
    if kind == "tracks" and item_id in found.tracks:
        item = found.tracks[item_id]
        return item, version.tracks, item.name
    if kind == "levels" and item_id in found.levels:
        track, level = found.levels[item_id]
        return level, track.levels, level.code
    if kind == "areas" and item_id in found.areas:
        item = found.areas[item_id]
        return item, version.areas, item.name
    if kind == "competencies" and item_id in found.competencies:
        area, competency = found.competencies[item_id]
        return competency, area.competencies, competency.name
    if kind not in ("tracks", "levels", "areas", "competencies"):
        raise NotFoundError("Not found.")
    return None, [], ""


_REMOVERS = {
    "tracks": _remove_track,
    "levels": _remove_level,
    "decisions": _remove_decision,
    "areas": _remove_area,
    "competencies": _remove_competency,
}
_SINGULAR = {
    "tracks": "track",
    "levels": "level",
    "decisions": "decision_right",
    "areas": "area",
    "competencies": "competency",
}


def remove(
    actor,
    version: FrameworkVersion,
    kind: str,
    item_id: int,
    *,
    expected_revision,
    confirmed: bool = False,
) -> str:
    """Remove a part of the draft with what hangs off it (levels, cells, competencies).

    An area that holds competencies goes only with `confirmed`; the last track, the last area,
    the last level of a track and the last competency of an area stay (a draft stays valid).
    """
    if kind not in _REMOVERS:
        raise NotFoundError("Not found.")
    found = getattr(index(version), kind).get(item_id)
    _begin(actor, version, expected_revision, found, _no_snapshot)
    name = _name_of(kind, found)
    removed = _REMOVERS[kind](version, found, confirmed)
    _finish(actor, version, f"framework.{_SINGULAR[kind]}_removed", before=removed)
    return name


def _name_of(kind: str, found) -> str:
    """What people call a part of the draft, in messages."""
    if kind == "levels":
        return f"{found[1].code} — {found[1].title}"
    if kind == "decisions":
        text = found[1].decision
        return f"“{text if len(text) <= 60 else text[:59] + '…'}”"
    if kind == "competencies":
        return found[1].name
    return found.name


@dataclass
class Removal:
    """What the confirmation page says will go."""

    name: str
    consequences: list[str]
    needs_confirmation: bool = False


def removal(version: FrameworkVersion, kind: str, item_id: int) -> Removal:
    """What removing a part of the draft takes with it, for the confirmation page."""
    if kind not in _REMOVERS:
        raise NotFoundError("Not found.")
    found = find(version, kind, item_id)
    name = _name_of(kind, found)
    if kind == "tracks":
        level_ids = {level.id for level in found.levels}
        codes = ", ".join(level.code for level in found.levels)
        return Removal(
            name,
            [
                f"its {_count(len(level_ids), 'level', 'levels')}: {codes}",
                f"{_count(_cells_at(version, level_ids), 'cell', 'cells')} of the matrix",
            ],
        )
    if kind == "levels":
        rights = len(found[1].decision_rights)
        return Removal(
            name,
            [
                f"{_count(_cells_at(version, {found[1].id}), 'cell', 'cells')} of the matrix",
                _count(rights, "decision right", "decision rights"),
            ],
        )
    if kind == "areas":
        names = ", ".join(c.name for c in found.competencies)
        count = _count(len(found.competencies), "competency", "competencies")
        return Removal(name, [f"{count} and their cells: {names}"], needs_confirmation=True)
    if kind == "competencies":
        return Removal(name, [f"its {_count(len(found[1].expectations), 'cell', 'cells')}"])
    return Removal(name, [])


def _cells_at(version: FrameworkVersion, level_ids: set[int]) -> int:
    return sum(
        1
        for c in _all_competencies(version)
        for cell in c.expectations
        if cell.level_id in level_ids
    )


# --- shared steps -------------------------------------------------------------------------------


def locked_message(version: FrameworkVersion) -> str:
    """Why a published or archived version refuses every edit."""
    return f"Version {version.number} is {version.status.value}; start a new draft to change it."


def _editable(actor, version: FrameworkVersion) -> None:
    policy.authorize(actor, "frameworks.manage")
    if not version.is_draft:
        raise ValidationError(locked_message(version))


def _begin(actor, version: FrameworkVersion, expected_revision: int, target, snapshot) -> None:
    """Refuse a non-draft, a stale form (ConflictError with the stored values) or a bad id."""
    _editable(actor, version)
    if version.revision != expected_revision:
        if target is None:
            raise ConflictError(
                "Someone else removed this from the draft while you were editing it."
            )
        raise ConflictError(
            "Someone else changed this draft while you were editing it.",
            current=snapshot(target),
        )
    if target is None:
        raise NotFoundError("Not found.")


def _no_snapshot(_target) -> dict[str, Any]:
    return {}


# What a conflict shows when the form adds something: the siblings as they are now.
def _tracks_now(version: FrameworkVersion) -> dict[str, Any]:
    return {"tracks_now": ", ".join(t.name for t in version.tracks)}


def _levels_now(track: Track) -> dict[str, Any]:
    return {"levels_now": ", ".join(f"{lv.code} (rank {lv.rank})" for lv in track.levels)}


def _areas_now(version: FrameworkVersion) -> dict[str, Any]:
    return {"areas_now": ", ".join(a.name for a in version.areas)}


def _competencies_now(area: CompetencyArea) -> dict[str, Any]:
    return {"competencies_now": ", ".join(c.name for c in area.competencies)}


def _finish(actor, version: FrameworkVersion, action: str, before=None, after=None) -> None:
    db.session.flush()
    _check_document(version)
    flag_modified(version, "name")  # every structural edit bumps the version's revision
    db.session.flush()
    audit.record(actor, action, version, before=before, after=after)


def _check_document(version: FrameworkVersion) -> None:
    """The same rules as for files: an edit that breaks one is refused as a whole."""
    report = check(version)
    if report.errors:
        field_name = report.errors[0].path.rsplit(".", 1)[-1].split("[")[0]
        raise ValidationError(
            "; ".join(problem.message for problem in report.errors), field=field_name
        )


def _all_competencies(version: FrameworkVersion) -> list[Competency]:
    return [competency for area in version.areas for competency in area.competencies]


def _applies_everywhere(version: FrameworkVersion, competency: Competency) -> bool:
    return [t.id for t in competency.tracks] == [t.id for t in version.tracks]


def _renumber(items) -> None:
    for position, item in enumerate(items):
        item.position = position


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _line(value: str | None, field_name: str, what: str, *, required=True, limit=NAME_MAX) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ValidationError(f"Enter {what}.", field=field_name)
    if len(value) > limit:
        raise ValidationError(f"Use at most {limit} characters.", field=field_name)
    return value


def _prose(value: str | None, field_name: str, limit: int = TEXT_MAX) -> str:
    """Multi-line text: line endings made plain, blank space trimmed at both ends."""
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise ValidationError(
            f"Use at most {limit:,} characters (this has {len(value):,}).", field=field_name
        )
    return value


def _key(value: str | None, name: str, field_name: str, limit: int) -> str:
    """A key as typed, or made from the name when left empty."""
    key = (value or "").strip() or slugify(name, "")
    if not key:
        raise ValidationError("Enter a key.", field=field_name)
    if len(key) > limit:
        raise ValidationError(f"Use at most {limit} characters.", field=field_name)
    if not KEY_PATTERN.match(key):
        raise ValidationError(
            f'"{key}" is not a key: use lower-case letters, digits and single dashes, '
            'such as "product-strategy".',
            field=field_name,
        )
    return key


def _code(value: str | None, field_name: str) -> str:
    code = (value or "").strip()
    if not code:
        raise ValidationError("Enter a code, such as PM3.", field=field_name)
    if not CODE_PATTERN.match(code):
        raise ValidationError(
            f'"{code}" is not a level code: use 1 to {CODE_MAX} letters, digits, ".", "_" or '
            '"-", starting with a letter or digit.',
            field=field_name,
        )
    return code


def _unused(value: str, taken: dict[str, str], field_name: str, what: str) -> None:
    if value in taken:
        raise ValidationError(
            f'{taken[value]} uses the {what} "{value}" already; each needs its own.',
            field=field_name,
        )
