"""The long-format CSV: one row per cell or per indicator.

Columns: track, level_code, level_title, level_rank, area, competency, competency_description,
status, indicator_kind, text. A row without indicator_kind is a cell (status and descriptor
text); a row with one adds an indicator to that cell. Keys are made from the names, and the
format has no room for level summaries or decision rights, so CSV is for spreadsheets, not for
keeping a framework (use YAML for that).
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from app.models import CellStatus, IndicatorKind
from app.services.frameworks.document import (
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Report,
    TrackDoc,
    check,
)
from app.services.frameworks.keys import slugify

COLUMNS = (
    "track",
    "level_code",
    "level_title",
    "level_rank",
    "area",
    "competency",
    "competency_description",
    "status",
    "indicator_kind",
    "text",
)


def parse(text: str, *, filename: str = "framework.csv") -> tuple[FrameworkDoc | None, Report]:
    report = Report()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if header[: len(COLUMNS)] != list(COLUMNS):
        report.error("", f"line 1: the header must be {','.join(COLUMNS)}")
        return None, report
    reader.fieldnames = header
    stem = PurePath(filename).stem
    builder = _Builder(
        FrameworkDoc(
            slug=slugify(stem, "framework"),
            name=stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Framework",
        ),
        report,
    )
    for row in reader:
        if any((value or "").strip() for value in row.values() if isinstance(value, str)):
            builder.add(reader.line_num, {k: (row.get(k) or "").strip() for k in COLUMNS})
    if not builder.doc.tracks and not report.errors:
        report.error("", "the file has a header but no rows")
    if report.errors:
        return None, report
    check(builder.doc, report)
    return (None if report.errors else builder.doc), report


class _Builder:
    def __init__(self, doc: FrameworkDoc, report: Report):
        self.doc, self.report = doc, report
        self.tracks: dict[str, TrackDoc] = {}
        self.levels: dict[str, LevelDoc] = {}
        self.areas: dict[str, AreaDoc] = {}
        self.competencies: dict[str, CompetencyDoc] = {}

    def add(self, line: int, row: dict[str, str]) -> None:
        missing = [key for key in ("track", "level_code", "area", "competency") if not row[key]]
        if missing:
            self.report.error("", f"line {line}: {', '.join(missing)} must not be empty")
            return
        track = self._track(row)
        level = self._level(line, row, track)
        competency = self._competency(row, track)
        if level is None:
            return
        cell = competency.expectations.setdefault(level.code, CellDoc(CellStatus.EMPTY))
        if row["indicator_kind"]:
            self._indicator(line, row, cell)
        else:
            self._cell(line, row, cell)

    def _track(self, row) -> TrackDoc:
        key = slugify(row["track"], "track")
        if key not in self.tracks:
            self.tracks[key] = TrackDoc(key=key, name=row["track"])
            self.doc.tracks.append(self.tracks[key])
        return self.tracks[key]

    def _level(self, line: int, row, track: TrackDoc) -> LevelDoc | None:
        code = row["level_code"]
        if code not in self.levels:
            try:
                rank = int(row["level_rank"])
            except ValueError:
                self.report.error(
                    "", f'line {line}: level_rank "{row["level_rank"]}" is not a whole number'
                )
                return None
            self.levels[code] = LevelDoc(code=code, title=row["level_title"] or code, rank=rank)
            track.levels.append(self.levels[code])
            self.report.lines[f"level {code}"] = line
        return self.levels[code]

    def _competency(self, row, track: TrackDoc) -> CompetencyDoc:
        area_key = slugify(row["area"], "area")
        if area_key not in self.areas:
            self.areas[area_key] = AreaDoc(key=area_key, name=row["area"])
            self.doc.areas.append(self.areas[area_key])
        key = slugify(row["competency"], "competency")
        if key not in self.competencies:
            self.competencies[key] = CompetencyDoc(
                key=key,
                name=row["competency"],
                description=row["competency_description"],
                tracks=[],
            )
            self.areas[area_key].competencies.append(self.competencies[key])
        competency = self.competencies[key]
        if track.key not in competency.tracks:
            competency.tracks.append(track.key)
        return competency

    def _cell(self, line: int, row, cell: CellDoc) -> None:
        try:
            cell.status = CellStatus(row["status"] or ("defined" if row["text"] else "empty"))
        except ValueError:
            self.report.error(
                "",
                f'line {line}: status "{row["status"]}" is not one of '
                "defined, empty, not_applicable",
            )
        cell.text = row["text"]

    def _indicator(self, line: int, row, cell: CellDoc) -> None:
        try:
            kind = IndicatorKind(row["indicator_kind"])
        except ValueError:
            self.report.error(
                "",
                f'line {line}: indicator_kind "{row["indicator_kind"]}" is '
                "not one of criterion, example, signal",
            )
            return
        if not row["text"]:
            self.report.error("", f"line {line}: an indicator needs text")
            return
        cell.indicators.append(IndicatorDoc(kind, row["text"]))


def dump(doc: FrameworkDoc) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    tracks = {track.key: track for track in doc.tracks}
    track_of = {level.code: track for track, level in doc.levels()}
    for area in doc.areas:
        for competency in area.competencies:
            for level in doc.cell_levels(competency):
                cell = competency.expectations.get(level.code) or CellDoc(CellStatus.EMPTY)
                track = tracks[track_of[level.code].key]
                base = [
                    track.name,
                    level.code,
                    level.title,
                    level.rank,
                    area.name,
                    competency.name,
                    competency.description,
                ]
                writer.writerow([*base, cell.status.value, "", cell.text])
                for indicator in cell.indicators:
                    writer.writerow(
                        [*base, cell.status.value, indicator.kind.value, indicator.text]
                    )
    return out.getvalue()
