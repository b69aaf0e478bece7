"""What changed between two versions of a framework, matched by stable keys, with word-level diffs.

Tracks, areas and competencies are matched by key and levels by code, so a renamed competency is
"renamed" and one that moved to another area is "moved", never removed and added. Pure: it takes
two documents (`store.to_document(...)`) and touches no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.infra.text_diff import Segment, normalized, similarity, word_diff
from app.models import CellStatus
from app.services.frameworks.document import (
    CellDoc,
    CompetencyDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
)

__all__ = ["Segment", "VersionDiff", "diff_documents", "word_diff"]

# --- what a diff holds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field before and after; `segments` is the word diff of the two texts."""

    label: str
    old: str
    new: str
    segments: tuple[Segment, ...] = ()


def _change(label: str, old: Any, new: Any) -> Change | None:
    old, new = str(old), str(new)
    if normalized(old) == normalized(new):
        return None
    return Change(label, old, new, tuple(word_diff(old, new)))


def _changes(*changes: Change | None) -> list[Change]:
    return [change for change in changes if change is not None]


@dataclass(frozen=True)
class ItemChange:
    """A decision right or an indicator: added, removed or changed (paired by similar text)."""

    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None
    segments: tuple[Segment, ...] = ()  # the word diff of the text, when changed


def _of_kind(items: Iterable[ItemChange], kind: str) -> list[ItemChange]:
    return [item for item in items if item.kind == kind]


@dataclass(frozen=True)
class TrackRef:
    key: str
    name: str


@dataclass(frozen=True)
class TrackChange:
    key: str
    name: str
    old_name: str


@dataclass(frozen=True)
class LevelRef:
    """A level that was added or removed, with the cells it has (added levels only)."""

    track: str
    level: LevelDoc
    cells: tuple[tuple[str, CellDoc], ...] = ()  # (competency name, cell), defined cells only


@dataclass
class LevelChange:
    code: str
    title: str
    track: str
    title_change: Change | None = None
    changes: list[Change] = field(default_factory=list)
    rights: list[ItemChange] = field(default_factory=list)

    @property
    def is_renamed(self) -> bool:
        return self.title_change is not None

    @property
    def is_changed(self) -> bool:
        """Changed apart from its title."""
        return bool(self.changes or self.rights)

    @property
    def rights_added(self) -> list[ItemChange]:
        return _of_kind(self.rights, "added")

    @property
    def rights_removed(self) -> list[ItemChange]:
        return _of_kind(self.rights, "removed")

    @property
    def rights_changed(self) -> list[ItemChange]:
        return _of_kind(self.rights, "changed")


@dataclass(frozen=True)
class AreaRef:
    key: str
    name: str
    description: str = ""


@dataclass
class AreaChange:
    key: str
    name: str
    name_change: Change | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def is_renamed(self) -> bool:
        return self.name_change is not None


@dataclass(frozen=True)
class CompetencyRef:
    """A competency that was added or removed, with its defined cells (added ones only)."""

    key: str
    name: str
    area: str
    description: str = ""
    cells: tuple[tuple[str, CellDoc], ...] = ()  # (level code, cell)


@dataclass
class CompetencyChange:
    key: str
    name: str
    area: str
    name_change: Change | None = None
    area_change: Change | None = None
    changes: list[Change] = field(default_factory=list)  # description, tracks

    @property
    def is_renamed(self) -> bool:
        return self.name_change is not None

    @property
    def is_moved(self) -> bool:
        return self.area_change is not None

    @property
    def is_changed(self) -> bool:
        """Changed apart from its name and area."""
        return bool(self.changes)


@dataclass
class CellChange:
    level_code: str
    level_title: str
    status: Change | None = None
    text: Change | None = None
    indicators: list[ItemChange] = field(default_factory=list)
    old: CellDoc | None = None
    new: CellDoc | None = None


@dataclass
class CompetencyCells:
    """The changed cells of one competency, in level order."""

    key: str
    name: str
    area: str
    cells: list[CellChange] = field(default_factory=list)


@dataclass
class VersionDiff:
    framework: list[Change] = field(default_factory=list)
    tracks_added: list[TrackRef] = field(default_factory=list)
    tracks_removed: list[TrackRef] = field(default_factory=list)
    tracks_renamed: list[TrackChange] = field(default_factory=list)
    levels_added: list[LevelRef] = field(default_factory=list)
    levels_removed: list[LevelRef] = field(default_factory=list)
    levels_changed: list[LevelChange] = field(default_factory=list)
    areas_added: list[AreaRef] = field(default_factory=list)
    areas_removed: list[AreaRef] = field(default_factory=list)
    areas_changed: list[AreaChange] = field(default_factory=list)
    area_order: list[str] | None = None  # the new order of area names, when it changed
    competencies_added: list[CompetencyRef] = field(default_factory=list)
    competencies_removed: list[CompetencyRef] = field(default_factory=list)
    competencies_changed: list[CompetencyChange] = field(default_factory=list)
    cells: list[CompetencyCells] = field(default_factory=list)

    @property
    def levels_renamed(self) -> list[LevelChange]:
        return [level for level in self.levels_changed if level.is_renamed]

    @property
    def areas_renamed(self) -> list[AreaChange]:
        return [area for area in self.areas_changed if area.is_renamed]

    @property
    def competencies_renamed(self) -> list[CompetencyChange]:
        return [c for c in self.competencies_changed if c.is_renamed]

    @property
    def competencies_moved(self) -> list[CompetencyChange]:
        return [c for c in self.competencies_changed if c.is_moved]

    @property
    def cell_count(self) -> int:
        return sum(len(group.cells) for group in self.cells)

    @property
    def has_structure_changes(self) -> bool:
        return bool(self.tracks_added or self.tracks_removed or self.tracks_renamed)

    @property
    def has_level_changes(self) -> bool:
        return bool(
            self.has_structure_changes
            or self.levels_added
            or self.levels_removed
            or self.levels_changed
        )

    @property
    def has_area_changes(self) -> bool:
        return bool(self.areas_added or self.areas_removed or self.areas_changed or self.area_order)

    @property
    def has_competency_changes(self) -> bool:
        return bool(
            self.competencies_added or self.competencies_removed or self.competencies_changed
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.framework
            or self.has_level_changes
            or self.has_area_changes
            or self.has_competency_changes
            or self.cells
        )

    @property
    def counts(self) -> list[str]:
        """What changed, counted: ["3 cells changed", "1 competency added", …]."""
        framework = [f"framework {change.label.lower()} changed" for change in self.framework]
        items = [
            (len(self.tracks_added), "track", "added"),
            (len(self.tracks_removed), "track", "removed"),
            (len(self.tracks_renamed), "track", "renamed"),
            (len(self.levels_added), "level", "added"),
            (len(self.levels_removed), "level", "removed"),
            (len(self.levels_renamed), "level", "renamed"),
            (sum(level.is_changed for level in self.levels_changed), "level", "changed"),
            (len(self.areas_added), "area", "added"),
            (len(self.areas_removed), "area", "removed"),
            (len(self.areas_renamed), "area", "renamed"),
            (sum(bool(area.changes) for area in self.areas_changed), "area", "changed"),
            (len(self.competencies_added), "competency", "added"),
            (len(self.competencies_removed), "competency", "removed"),
            (len(self.competencies_renamed), "competency", "renamed"),
            (len(self.competencies_moved), "competency", "moved"),
            (sum(c.is_changed for c in self.competencies_changed), "competency", "changed"),
            (self.cell_count, "cell", "changed"),
        ]
        counted = [
            f"{n} {_PLURALS[noun] if n != 1 else noun} {verb}" for n, noun, verb in items if n
        ]
        return framework + counted + (["areas reordered"] if self.area_order else [])

    @property
    def summary(self) -> str:
        """One line: "3 cells changed, 1 competency added, 1 level renamed" or "No differences"."""
        counts = self.counts
        if not counts:
            return "No differences"
        text = ", ".join(counts)
        return text[0].upper() + text[1:]


_PLURALS = {
    "track": "tracks",
    "level": "levels",
    "area": "areas",
    "competency": "competencies",
    "cell": "cells",
}

# --- building the diff ----------------------------------------------------------------------------

STATUS_LABELS = {
    CellStatus.DEFINED: "Defined",
    CellStatus.EMPTY: "Empty",
    CellStatus.NOT_APPLICABLE: "Not applicable",
}


def diff_documents(old: FrameworkDoc, new: FrameworkDoc) -> VersionDiff:
    """Everything that changed from `old` to `new`, matched by keys and level codes."""
    diff = VersionDiff(
        framework=_changes(
            _change("Name", old.name, new.name),
            _change("Description", old.description, new.description),
        )
    )
    _diff_tracks(old, new, diff)
    _diff_levels(old, new, diff)
    _diff_areas(old, new, diff)
    _diff_competencies(old, new, diff)
    _diff_cells(old, new, diff)
    return diff


def _diff_tracks(old: FrameworkDoc, new: FrameworkDoc, diff: VersionDiff) -> None:
    before = {track.key: track for track in old.tracks}
    after = {track.key: track for track in new.tracks}
    diff.tracks_added = [TrackRef(t.key, t.name) for t in new.tracks if t.key not in before]
    diff.tracks_removed = [TrackRef(t.key, t.name) for t in old.tracks if t.key not in after]
    diff.tracks_renamed = [
        TrackChange(t.key, t.name, before[t.key].name)
        for t in new.tracks
        if t.key in before and normalized(before[t.key].name) != normalized(t.name)
    ]


def _diff_levels(old: FrameworkDoc, new: FrameworkDoc, diff: VersionDiff) -> None:
    before = {level.code: (track, level) for track, level in old.levels()}
    after = {level.code: (track, level) for track, level in new.levels()}
    diff.levels_added = [
        LevelRef(track.name, level, _level_cells(new, level.code))
        for track, level in new.levels()
        if level.code not in before
    ]
    diff.levels_removed = [
        LevelRef(track.name, level) for track, level in old.levels() if level.code not in after
    ]
    for track, level in new.levels():
        if level.code in before:
            change = _level_change(*before[level.code], track, level)
            if change.is_renamed or change.is_changed:
                diff.levels_changed.append(change)


def _level_cells(doc: FrameworkDoc, code: str) -> tuple[tuple[str, CellDoc], ...]:
    return tuple(
        (competency.name, cell)
        for *_, competency in doc.competencies()
        if (cell := competency.expectations.get(code)) and cell.status is CellStatus.DEFINED
    )


def _level_change(old_track, old: LevelDoc, track, new: LevelDoc) -> LevelChange:
    return LevelChange(
        code=new.code,
        title=new.title,
        track=track.name,
        title_change=_change("Title", old.title, new.title),
        changes=_changes(
            _change("Track", old_track.name, track.name) if old_track.key != track.key else None,
            _change("Rank", old.rank, new.rank),
            _change("Summary", old.summary, new.summary),
            _change("Scope", old.scope, new.scope),
            _change("Typical experience", old.typical_experience, new.typical_experience),
        ),
        rights=_pair_items(old.decision_rights, new.decision_rights, lambda right: right.decision),
    )


def _pair_items(
    old: Sequence[Any], new: Sequence[Any], text_of: Callable[[Any], str]
) -> list[ItemChange]:
    """Pair list items that have no key: by equal text first, then by similar text.

    An item whose text is the same but whose other fields differ (a decision right's role, an
    indicator's kind) is "changed"; so is one whose text is at least half the same words.
    """
    unpaired = list(range(len(old)))
    pairs: dict[int, int] = {}  # new index → old index
    for j, item in enumerate(new):
        i = next(
            (i for i in unpaired if normalized(text_of(old[i])) == normalized(text_of(item))), None
        )
        if i is not None:
            pairs[j] = i
            unpaired.remove(i)
    for j, item in enumerate(new):
        if j in pairs or not unpaired:
            continue
        i = _most_similar([text_of(old[i]) for i in unpaired], text_of(item))
        if i is not None:
            pairs[j] = unpaired.pop(i)
    changes: list[ItemChange] = []
    for j, item in enumerate(new):
        if j not in pairs:
            changes.append(ItemChange("added", new=item))
        elif _item_key(old[pairs[j]]) != _item_key(item):
            before = old[pairs[j]]
            segments = tuple(word_diff(text_of(before), text_of(item)))
            changes.append(ItemChange("changed", before, item, segments))
    changes.extend(ItemChange("removed", old=old[i]) for i in unpaired)
    return changes


def _most_similar(texts: list[str], text: str) -> int | None:
    """The index of the text most like `text`, if they share at least half their words."""
    scores = [similarity(candidate, text) for candidate in texts]
    best = max(scores, default=0.0)
    return scores.index(best) if best >= 0.5 else None


def _item_key(item: Any) -> tuple:
    return tuple(normalized(v) if isinstance(v, str) else v for v in vars(item).values())


def _diff_areas(old: FrameworkDoc, new: FrameworkDoc, diff: VersionDiff) -> None:
    before = {area.key: area for area in old.areas}
    after = {area.key for area in new.areas}
    diff.areas_added = [
        AreaRef(a.key, a.name, a.description) for a in new.areas if a.key not in before
    ]
    diff.areas_removed = [
        AreaRef(a.key, a.name, a.description) for a in old.areas if a.key not in after
    ]
    for area in new.areas:
        if area.key not in before:
            continue
        change = AreaChange(
            area.key,
            area.name,
            _change("Name", before[area.key].name, area.name),
            _changes(_change("Description", before[area.key].description, area.description)),
        )
        if change.name_change or change.changes:
            diff.areas_changed.append(change)
    old_order = [area.key for area in old.areas if area.key in after]
    new_order = [area.key for area in new.areas if area.key in before]
    if old_order != new_order:
        diff.area_order = [area.name for area in new.areas]


def _diff_competencies(old: FrameworkDoc, new: FrameworkDoc, diff: VersionDiff) -> None:
    before = {c.key: (area, c) for *_, area, c in old.competencies()}
    after = {c.key for *_, c in new.competencies()}
    for *_, area, competency in new.competencies():
        if competency.key not in before:
            diff.competencies_added.append(_competency_ref(new, area.name, competency))
            continue
        old_area, old_competency = before[competency.key]
        change = CompetencyChange(
            competency.key,
            competency.name,
            area.name,
            name_change=_change("Name", old_competency.name, competency.name),
            area_change=_change("Area", old_area.name, area.name)
            if old_area.key != area.key
            else None,
            changes=_changes(
                _change("Short name", old_competency.short_name, competency.short_name),
                _change("Description", old_competency.description, competency.description),
                _change(
                    "Tracks", _tracks_label(old, old_competency), _tracks_label(new, competency)
                ),
            ),
        )
        if change.is_renamed or change.is_moved or change.is_changed:
            diff.competencies_changed.append(change)
    diff.competencies_removed = [
        CompetencyRef(c.key, c.name, area.name, c.description)
        for *_, area, c in old.competencies()
        if c.key not in after
    ]


def _competency_ref(doc: FrameworkDoc, area: str, competency: CompetencyDoc) -> CompetencyRef:
    cells = tuple(
        (level.code, cell)
        for level in doc.cell_levels(competency)
        if (cell := competency.expectations.get(level.code)) and cell.status is CellStatus.DEFINED
    )
    return CompetencyRef(competency.key, competency.name, area, competency.description, cells)


def _tracks_label(doc: FrameworkDoc, competency: CompetencyDoc) -> str:
    """The tracks it applies to; "All tracks" covers every track, so adding one is no change."""
    keys = set(doc.track_keys_of(competency))
    if keys == {track.key for track in doc.tracks}:
        return "All tracks"
    names = [track.name for track in doc.tracks if track.key in keys]
    return ", ".join(names) if names else "No track"


def _diff_cells(old: FrameworkDoc, new: FrameworkDoc, diff: VersionDiff) -> None:
    before = {c.key: c for *_, c in old.competencies()}
    for *_, area, competency in new.competencies():
        old_competency = before.get(competency.key)
        if old_competency is None:
            continue
        old_codes = {level.code for level in old.cell_levels(old_competency)}
        group = CompetencyCells(competency.key, competency.name, area.name)
        for level in new.cell_levels(competency):
            if level.code in old_codes:
                change = _cell_change(
                    level, _cell(old_competency, level.code), _cell(competency, level.code)
                )
                if change is not None:
                    group.cells.append(change)
        if group.cells:
            diff.cells.append(group)


def _cell(competency: CompetencyDoc, code: str) -> CellDoc:
    return competency.expectations.get(code) or CellDoc(CellStatus.EMPTY)


def _cell_change(level: LevelDoc, old: CellDoc, new: CellDoc) -> CellChange | None:
    change = CellChange(
        level.code,
        level.title,
        status=_change("Status", STATUS_LABELS[old.status], STATUS_LABELS[new.status]),
        text=_change("Expectation", old.text, new.text),
        indicators=_pair_items(old.indicators, new.indicators, _indicator_text),
        old=old,
        new=new,
    )
    if change.status or change.text or change.indicators:
        return change
    return None


def _indicator_text(indicator: IndicatorDoc) -> str:
    return indicator.text
