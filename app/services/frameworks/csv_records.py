"""The records of the framework CSV, and how its rows build a document (csv_format reads the
rows and writes them)."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import CellStatus, DaciRole, IndicatorKind
from app.services.frameworks.document import (
    INDICATOR_KINDS,
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    DecisionRightDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Report,
    TrackDoc,
    delegation_problem,
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
        self.paths: dict[int, str] = {}  # id of a doc object → its path in the document
        self.refused_cells: set[tuple[str, str]] = set()  # cells whose row was left out

    def error(self, row: Row, message: str, column: str = "") -> None:
        """A problem of the row, in the column it is about (none: the row as a whole)."""
        self.report.error("", message, line=row.line, column=column)

    def place(self, row: Row, path: str, column: str) -> None:
        """Where the document's `path` came from: the row's line and a column of it, so that
        a problem the framework checks find there is told by the file's line and column."""
        self.report.lines[path] = row.line
        self.report.columns[path] = column

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
            self.error(row, f'"{record}" is not one of {", ".join(RECORDS)}', "record")

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
        self.place(row, attribute, "text")

    def _track_record(self, row: Row) -> None:
        if row["record"] in ("track", "level") and row["text"]:
            # read on: the track or level is declared all the same, so later rows naming it
            # are not refused for this row's mistake
            message = f"a {row['record']} row takes no text (its name has a column); leave it empty"
            self.error(row, message, "text")
        if row["record"] == "track":
            self._track(row, required=True)
            return
        found = self._level(row)
        if found is None:
            return
        level = found[1]
        if row["record"] in LEVEL_FIELDS:
            setattr(level, LEVEL_FIELDS[row["record"]], row["text"])
            self.place(row, f"{self.paths[id(level)]}.{LEVEL_FIELDS[row['record']]}", "text")
        elif row["record"] == "decision_right":
            self._decision_right(row, level)

    def _area_record(self, row: Row) -> None:
        if row["record"] == "area":
            area = self._area(row, required=True)
            if area is not None:
                area.description = row["text"]
                self.place(row, f"{self.paths[id(area)]}.description", "text")
            return
        found = self._competency(row)
        if found is None:
            return
        competency = found[1]
        if row["record"] in ("competency", "competency_short_name"):
            attribute = "description" if row["record"] == "competency" else "short_name"
            setattr(competency, attribute, row["text"])
            self.place(row, f"{self.paths[id(competency)]}.{attribute}", "text")
            return
        if row["competency_description"] and not competency.description:
            competency.description = row["competency_description"]  # the older format
            path = f"{self.paths[id(competency)]}.description"
            self.place(row, path, "competency_description")
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
                f'"{given}" here but "{declared}" on line {first}, which declared it; '
                "change it there and on every row that repeats it",
                what,
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
            self.error(row, "must not be empty", "level_code")
            return None
        track = self._track(row, required=code not in self.levels)
        if code in self.levels:
            return self._known_level(row, track, *self.levels[code])
        if track is None:
            return None
        try:
            rank = int(row["level_rank"])
        except ValueError:
            self.error(row, f'"{row["level_rank"]}" is not a whole number', "level_rank")
            return None
        level = LevelDoc(code=code, title=row["level_title"] or code, rank=rank)
        t = self.doc.tracks.index(track)
        path = f"tracks[{t}].levels[{len(track.levels)}]"
        self._declare(row, level, False, path, "level_code")
        self.place(row, f"{path}.title", "level_title")
        self.place(row, f"{path}.rank", "level_rank")
        track.levels.append(level)
        self.levels[code] = (track, level)
        return track, level

    def _known_level(self, row: Row, track, declared_track: TrackDoc, level: LevelDoc):
        if track is not None and track is not declared_track:
            self.error(
                row,
                f"level {level.code} is on track {declared_track.name}, not {track.name}",
                "track",
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
                self.error(row, f"{key_column} or {column} must not be empty", key_column)
            return None
        key, made = self._key(row, key_column, column)
        found = known.get(key)
        if found is not None:
            return found if self._same(row, column, row[column], found.name, found) else None
        found = make(key=key, name=row[column] or key)
        known[key] = found
        self._declare(row, found, made, f"{column}s[{len(declared)}]", column)
        self.place(row, f"{column}s[{len(declared)}].key", column if made else key_column)
        declared.append(found)
        return found

    def _competency(self, row: Row) -> tuple[AreaDoc, CompetencyDoc] | None:
        if not row["competency_key"] and not row["competency"]:
            self.error(row, "competency_key or competency must not be empty", "competency_key")
            return None
        key, made = self._key(row, "competency_key", "competency")
        known = key in self.competencies
        area = self._area(row, required=not known)
        if known:
            declared_area, competency = self.competencies[key]
            # both checked, so that a row with both wrong says so in one round
            same_area = area is None or area is declared_area
            if not same_area:
                self.error(
                    row,
                    f"{competency.name} is in area {declared_area.name}, not {area.name}",
                    "area",
                )
            name = row["competency"]
            same = self._same(row, "competency", name, competency.name, competency) and same_area
            return (declared_area, competency) if same else None
        if area is None:
            return None
        competency = CompetencyDoc(key=key, name=row["competency"] or key, tracks=[])
        path = f"areas[{self.doc.areas.index(area)}].competencies[{len(area.competencies)}]"
        self._declare(row, competency, made, path, "competency")
        self.place(row, f"{path}.key", "competency" if made else "competency_key")
        area.competencies.append(competency)
        self.competencies[key] = (area, competency)
        return area, competency

    def _declare(self, row: Row, obj, made_from_name: bool, path: str, column: str) -> None:
        self.declared[id(obj)] = row.line
        self.paths[id(obj)] = path
        self.place(row, path, column)
        self.place(row, f"{path}.name", column)
        if made_from_name:
            self.doc.named_only.append(obj)

    # -- what a row adds -------------------------------------------------------------------------

    def _decision_right(self, row: Row, level: LevelDoc) -> None:
        """A decision right; every field is checked, so a row lists all of its problems."""
        found = len(self.report.errors)
        try:
            role = DaciRole(row["role"])
        except ValueError:
            roles = ", ".join(role.value for role in DaciRole)
            self.error(row, f'"{row["role"]}" is not one of {roles}', "role")
        try:
            delegation = int(row["delegation"])
        except ValueError:
            message = f'"{row["delegation"]}" is not a whole number from 1 to 7'
            self.error(row, message, "delegation")
        else:
            problem = delegation_problem(delegation)
            if problem:
                self.error(row, problem, "delegation")
        if not row["text"]:
            self.error(row, "a decision right needs the decision in text", "text")
        if len(self.report.errors) > found:
            return
        path = f"{self.paths[id(level)]}.decision_rights[{len(level.decision_rights)}]"
        self.place(row, path, "role")
        self.place(row, f"{path}.decision", "text")
        level.decision_rights.append(DecisionRightDoc(row["text"], role, delegation))

    def _cell_record(self, row: Row, found: tuple[TrackDoc, LevelDoc], competency) -> None:
        track, level = found
        self.track_use.setdefault(competency.key, set()).add(track.key)
        cell = competency.expectations.setdefault(level.code, CellDoc(CellStatus.EMPTY))
        path = f"{self.paths[id(competency)]}.expectations.{level.code}"
        if row["record"] == "indicator":
            self._indicator(row, cell, path)
            return
        first = self.cell_lines.setdefault((competency.key, level.code), row.line)
        if first != row.line:
            message = f"{competency.name} at {level.code} has a cell row on line {first} too"
            self.error(row, message, "record")
            return
        self.place(row, path, "status")
        self.place(row, f"{path}.status", "status")
        self.place(row, f"{path}.text", "text")
        try:
            cell.status = CellStatus(row["status"] or ("defined" if row["text"] else "empty"))
        except ValueError:
            self.error(
                row, f'"{row["status"]}" is not one of defined, empty, not_applicable', "status"
            )
            # read on as if the status were left out, so the checks after do not refuse the
            # cell's text again because of it
            cell.status = CellStatus.DEFINED if row["text"] else CellStatus.EMPTY
        cell.text = row["text"]

    def _indicator(self, row: Row, cell: CellDoc, path: str) -> None:
        """An indicator of the cell; both its kind and its text are checked."""
        try:
            kind = IndicatorKind(row["indicator_kind"])
        except ValueError:
            kind = None
            allowed = ", ".join(member.value for member in INDICATOR_KINDS)
            message = f'"{row["indicator_kind"]}" is not one of {allowed}'
            self.error(row, message, "indicator_kind")
        if not row["text"]:
            self.error(row, "an indicator needs text", "text")
        if kind is None or not row["text"]:
            return
        path = f"{path}.indicators[{len(cell.indicators)}]"
        self.place(row, path, "indicator_kind")
        self.place(row, f"{path}.text", "text")
        cell.indicators.append(IndicatorDoc(kind, row["text"]))
