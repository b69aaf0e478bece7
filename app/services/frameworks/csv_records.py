"""The records of the framework CSV, and how its rows build a document (csv_format reads the
rows and writes them)."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import CellStatus, DaciRole, IndicatorKind
from app.services.frameworks.document import (
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    DecisionRightDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Report,
    TrackDoc,
)
from app.services.frameworks.keys import slugify

FRAMEWORK_FIELDS = {
    "framework_slug": "slug",
    "framework_name": "name",
    "framework_description": "description",
}
LEVEL_FIELDS = {
    "level_summary": "summary",
    "level_scope": "scope",
    "level_typical_experience": "typical_experience",
}
RECORDS = (
    *FRAMEWORK_FIELDS,
    "track",
    "level",
    *LEVEL_FIELDS,
    "decision_right",
    "area",
    "competency",
    "competency_short_name",
    "cell",
    "indicator",
)


@dataclass
class Row:
    """One row of the file: its values by column, and the line it starts on."""

    line: int
    values: dict[str, str]
    is_unreadable: bool = False  # a control character: reported once, and the row left out

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


class Builder:
    """Rows become a document; a row may name a track, level, area or competency that no earlier
    row declared (a hand-made file), which declares it, but may not contradict a declaration."""

    def __init__(self, doc: FrameworkDoc, report: Report):
        self.doc, self.report = doc, report
        self.tracks: dict[str, TrackDoc] = {}
        self.levels: dict[str, tuple[TrackDoc, LevelDoc]] = {}
        self.areas: dict[str, AreaDoc] = {}
        self.competencies: dict[str, tuple[AreaDoc, CompetencyDoc]] = {}
        self.track_use: dict[str, set[str]] = {}  # competency key → track keys of its cells
        self.cell_lines: dict[tuple[str, str], int] = {}
        self.declared: dict[int, int] = {}  # id of a doc object → its line
        self.refused_cells: set[tuple[str, str]] = set()  # cells whose row was left out

    def error(self, row: Row, message: str) -> None:
        self.report.error("", message, line=row.line)

    def add(self, row: Row) -> None:
        record = row["record"]
        cell = (self._key(row, "competency_key", "competency")[0], row["level_code"])
        if record == "indicator" and cell in self.refused_cells:
            return  # the cell's row was refused: its indicators would only repeat that
        if not row.is_unreadable:
            self._add(row, record)
        if record == "cell" and cell not in self.cell_lines:
            self.refused_cells.add(cell)

    def _add(self, row: Row, record: str) -> None:
        if record in FRAMEWORK_FIELDS:
            self._framework(row)
        elif record in ("track", "level", *LEVEL_FIELDS, "decision_right"):
            self._track_record(row)
        elif record in ("area", "competency", "competency_short_name", "cell", "indicator"):
            self._area_record(row)
        else:
            self.error(row, f'record "{record}" is not one of {", ".join(RECORDS)}')

    def finish(self) -> None:
        """Each competency applies to the tracks its cells are on (all of them: every track)."""
        order = [track.key for track in self.doc.tracks]
        for _area, competency in self.competencies.values():
            used = self.track_use.get(competency.key, set())
            keys = [key for key in order if key in used]
            competency.tracks = None if keys == order else keys
        missing = [name for name in ("slug", "name") if name not in self.report.lines]
        if missing:
            rows = " and ".join(f"framework_{name}" for name in missing)
            made = " and ".join(f'{name} "{getattr(self.doc, name)}"' for name in missing)
            self.report.warn(
                missing[0], f"the file has no {rows} row; the {made} came from the file's name"
            )

    def _framework(self, row: Row) -> None:
        attribute = FRAMEWORK_FIELDS[row["record"]]
        setattr(self.doc, attribute, row["text"])
        self.report.lines[attribute] = row.line

    def _track_record(self, row: Row) -> None:
        if row["record"] in ("track", "level") and row["text"]:
            self.error(
                row, f"a {row['record']} row takes no text (its name has a column); leave it empty"
            )
            return
        if row["record"] == "track":
            self._track(row, required=True)
            return
        found = self._level(row)
        if found is None:
            return
        level = found[1]
        if row["record"] in LEVEL_FIELDS:
            setattr(level, LEVEL_FIELDS[row["record"]], row["text"])
        elif row["record"] == "decision_right":
            self._decision_right(row, level)

    def _area_record(self, row: Row) -> None:
        if row["record"] == "area":
            area = self._area(row, required=True)
            if area is not None:
                area.description = row["text"]
            return
        found = self._competency(row)
        if found is None:
            return
        competency = found[1]
        if row["record"] == "competency":
            competency.description = row["text"]
            return
        if row["record"] == "competency_short_name":
            competency.short_name = row["text"]
            return
        if row["competency_description"] and not competency.description:
            competency.description = row["competency_description"]  # the older format
        level = self._level(row)
        if level is not None:
            self._cell_record(row, level, competency)

    # -- the parts, declared by the first row that names them ----------------------------------

    def _same(self, row: Row, what: str, given: str, declared: str, obj) -> bool:
        """A name a row repeats must be the declared one (else an edit would be lost)."""
        if given and given != declared:
            first = self.declared.get(id(obj))
            self.error(
                row,
                f'{what} is "{given}" but it is "{declared}" on line {first}; '
                "change it there and on every row that repeats it",
            )
            return False
        return True

    def _key(self, row: Row, key_column: str, name_column: str) -> tuple[str, bool]:
        """The row's key, or one made from its name (True when made)."""
        if row[key_column]:
            return row[key_column], False
        return slugify(row[name_column], name_column), True

    def _track(self, row: Row, *, required: bool) -> TrackDoc | None:
        return self._named(row, "track", TrackDoc, self.tracks, self.doc.tracks, required)

    def _level(self, row: Row) -> tuple[TrackDoc, LevelDoc] | None:
        code = row["level_code"]
        if not code:
            self.error(row, "level_code must not be empty")
            return None
        track = self._track(row, required=code not in self.levels)
        if code in self.levels:
            return self._known_level(row, track, *self.levels[code])
        if track is None:
            return None
        try:
            rank = int(row["level_rank"])
        except ValueError:
            self.error(row, f'level_rank "{row["level_rank"]}" is not a whole number')
            return None
        level = LevelDoc(code=code, title=row["level_title"] or code, rank=rank)
        t = self.doc.tracks.index(track)
        self._declare(row, level, False, f"tracks[{t}].levels[{len(track.levels)}]")
        track.levels.append(level)
        self.levels[code] = (track, level)
        return track, level

    def _known_level(self, row: Row, track, declared_track: TrackDoc, level: LevelDoc):
        if track is not None and track is not declared_track:
            self.error(
                row, f"level {level.code} is on track {declared_track.name}, not {track.name}"
            )
            return None
        same = self._same(row, "level_title", row["level_title"], level.title, level)
        same = self._same(row, "level_rank", row["level_rank"], str(level.rank), level) and same
        return (declared_track, level) if same else None

    def _area(self, row: Row, *, required: bool) -> AreaDoc | None:
        return self._named(row, "area", AreaDoc, self.areas, self.doc.areas, required)

    def _named(self, row: Row, column: str, make, known: dict, declared: list, required: bool):
        """The track or area the row names by `<column>_key` or `<column>`: the one declared
        before (its name must agree), or a new one declared by this row."""
        key_column = f"{column}_key"
        if not row[key_column] and not row[column]:
            if required:
                self.error(row, f"{key_column} or {column} must not be empty")
            return None
        key, made = self._key(row, key_column, column)
        found = known.get(key)
        if found is not None:
            return found if self._same(row, column, row[column], found.name, found) else None
        found = make(key=key, name=row[column] or key)
        known[key] = found
        self._declare(row, found, made, f"{column}s[{len(declared)}]")
        declared.append(found)
        return found

    def _competency(self, row: Row) -> tuple[AreaDoc, CompetencyDoc] | None:
        if not row["competency_key"] and not row["competency"]:
            self.error(row, "competency_key or competency must not be empty")
            return None
        key, made = self._key(row, "competency_key", "competency")
        known = key in self.competencies
        area = self._area(row, required=not known)
        if known:
            declared_area, competency = self.competencies[key]
            if area is not None and area is not declared_area:
                self.error(
                    row, f"{competency.name} is in area {declared_area.name}, not {area.name}"
                )
                return None
            if not self._same(row, "competency", row["competency"], competency.name, competency):
                return None
            return declared_area, competency
        if area is None:
            return None
        competency = CompetencyDoc(key=key, name=row["competency"] or key, tracks=[])
        a = self.doc.areas.index(area)
        self._declare(row, competency, made, f"areas[{a}].competencies[{len(area.competencies)}]")
        area.competencies.append(competency)
        self.competencies[key] = (area, competency)
        return area, competency

    def _declare(self, row: Row, obj, made_from_name: bool, path: str) -> None:
        self.declared[id(obj)] = row.line
        self.report.lines[path] = row.line
        if made_from_name:
            self.doc.named_only.append(obj)

    # -- what a row adds -------------------------------------------------------------------------

    def _decision_right(self, row: Row, level: LevelDoc) -> None:
        try:
            role = DaciRole(row["role"])
        except ValueError:
            roles = ", ".join(role.value for role in DaciRole)
            self.error(row, f'role "{row["role"]}" is not one of {roles}')
            return
        try:
            delegation = int(row["delegation"])
        except ValueError:
            self.error(row, f'delegation "{row["delegation"]}" is not a whole number from 1 to 7')
            return
        if not row["text"]:
            self.error(row, "a decision right needs the decision in text")
            return
        level.decision_rights.append(DecisionRightDoc(row["text"], role, delegation))

    def _cell_record(self, row: Row, found: tuple[TrackDoc, LevelDoc], competency) -> None:
        track, level = found
        self.track_use.setdefault(competency.key, set()).add(track.key)
        cell = competency.expectations.setdefault(level.code, CellDoc(CellStatus.EMPTY))
        if row["record"] == "indicator":
            self._indicator(row, cell)
            return
        first = self.cell_lines.setdefault((competency.key, level.code), row.line)
        if first != row.line:
            self.error(row, f"{competency.name} at {level.code} has a cell row on line {first} too")
            return
        try:
            cell.status = CellStatus(row["status"] or ("defined" if row["text"] else "empty"))
        except ValueError:
            self.error(
                row, f'status "{row["status"]}" is not one of defined, empty, not_applicable'
            )
            # read on as if the status were left out, so the checks after do not refuse the
            # cell's text again because of it
            cell.status = CellStatus.DEFINED if row["text"] else CellStatus.EMPTY
        cell.text = row["text"]

    def _indicator(self, row: Row, cell: CellDoc) -> None:
        try:
            kind = IndicatorKind(row["indicator_kind"])
        except ValueError:
            self.error(
                row,
                f'indicator_kind "{row["indicator_kind"]}" is not one of '
                "criterion, example, signal",
            )
            return
        if not row["text"]:
            self.error(row, "an indicator needs text")
            return
        cell.indicators.append(IndicatorDoc(kind, row["text"]))
