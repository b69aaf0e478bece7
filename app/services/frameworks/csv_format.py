"""The long-format CSV: one row per record, in a spreadsheet anyone can filter and sort.

The `record` column says what a row is (framework_slug, framework_name, framework_description,
track, level, level_summary, level_scope, level_typical_experience, decision_right, area,
competency, cell, indicator) and the `text` column holds its text; the other columns say which
track, level, area and competency the row belongs to. The file keeps everything a framework
holds, keys included, so export → import → export gives the same file (docs/csv-format.md).

The older ten-column CSV without keys (track, level_code, … text) is still read: keys are made
from names, and files.validate then matches them by name against the framework's current
version so evidence tagged with the old keys keeps its competency.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from app.infra.text import inert_csv_cell, restore_csv_cell, unwanted_character
from app.models import CellStatus
from app.services.frameworks.csv_records import (
    FRAMEWORK_FIELDS,
    LEVEL_FIELDS,
    Builder,
    Row,
)
from app.services.frameworks.document import (
    CellDoc,
    FrameworkDoc,
    LevelDoc,
    Report,
    TrackDoc,
    check,
)
from app.services.frameworks.keys import slugify

COLUMNS = (
    "record",
    "track_key",
    "track",
    "level_code",
    "level_title",
    "level_rank",
    "area_key",
    "area",
    "competency_key",
    "competency",
    "status",
    "indicator_kind",
    "role",
    "delegation",
    "text",
)
# The first CSV format: cells and indicators only, no keys.
LEGACY_COLUMNS = (
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
    """Read a framework CSV: the document, or None with every problem found in the report.

    Every row is read past the problems of the rows before it (a row that is wrong is left
    out, with its line), and once all rows are read the rules every framework follows are
    checked too, so one round lists everything. Only a file that cannot be read on (no
    header, or a quote that never closes) stops early, and then the framework rules are not
    checked: the rows after it are missing, not wrong.
    """
    report = Report(columns={})  # problems are told by line and column, never by path
    rows, complete = _read(text, report)
    if not rows:
        if complete and not report.errors:
            report.error("", "the file has a header but no rows")
        return None, report
    builder = Builder(_named_after(filename), report)
    for row in rows:
        builder.add(row)
    if complete:
        builder.finish()
        check(builder.doc, report)
    report.errors.sort(key=lambda problem: problem.line or 0)
    return (None if report.errors else builder.doc), report


def _named_after(filename: str) -> FrameworkDoc:
    stem = PurePath(filename).stem
    return FrameworkDoc(
        slug=slugify(stem, "framework"),
        name=stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Framework",
    )


# --- reading rows -------------------------------------------------------------------------------


def _read(text: str, report: Report) -> tuple[list[Row], bool]:
    """The rows as dicts by column, each with the line it starts on, and whether the whole file
    could be read; errors go to the report, and a row with an error is left out."""
    unclean = _unclean_lines(text, report)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    last_line = 0
    try:
        header = next(reader, None)
        last_line = reader.line_num
        columns = _columns(header, report)
        if columns is None:
            return [], False
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            is_unreadable = not unclean.isdisjoint(range(line, last_line + 1))
            row = _row(line, columns, fields, None if is_unreadable else report)
            if row is not None:
                row.is_unreadable = is_unreadable
                rows.append(row)
    except csv.Error as error:
        report.error("", _csv_problem(error), line=last_line + 1)
        return rows, False
    return rows, True


def _unclean_lines(text: str, report: Report) -> set[int]:
    """The lines holding a control character (NUL and the like), each an error naming it."""
    unclean = set()
    # the lines as the csv reader counts them (it reads the same StringIO), so that the
    # numbers agree with reader.line_num whatever the line ends
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        problem = unwanted_character(line)
        if problem is not None:
            report.error("", f"contains a control character ({problem}); remove it", line=number)
            unclean.add(number)
    return unclean


def _csv_problem(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"a field is longer than {limit:,} characters, the most a CSV field may hold; "
            "shorten it (or check for a missing closing quote)"
        )
    return f"not valid CSV ({error})"


def _columns(header: list[str] | None, report: Report) -> list[str] | None:
    names = [name.strip().lower() for name in header or []]
    if not names or names == [""]:
        report.error("", "the file is empty")
        return None
    if set(names) == set(COLUMNS) and len(names) == len(COLUMNS):
        return names
    if names == list(LEGACY_COLUMNS):
        return names
    report.error(
        "",
        f"the header must be {','.join(COLUMNS)} (or the older "
        f"{','.join(LEGACY_COLUMNS)}, without keys)",
        line=1,
    )
    return None


def _row(line: int, columns: list[str], fields: list[str], report: Report | None) -> Row | None:
    """The row of the fields; None for a blank line or a row of the wrong width (an error in
    the report, unless there is none because the row's line was reported already)."""
    if not fields or not any(value.strip() for value in fields):
        return None  # a blank line
    if len(fields) != len(columns):
        if report is None:
            return None
        report.error(
            "",
            f"has {len(fields)} fields but the header has {len(columns)}; "
            "text with a comma, a quote or a line break must be in double quotes",
            line=line,
        )
        return None
    values = {
        name: restore_csv_cell(value.strip()) for name, value in zip(columns, fields, strict=True)
    }
    if not values.get("record"):  # the older format, or a hand-made row: a cell or indicator
        values["record"] = "indicator" if values["indicator_kind"] else "cell"
    return Row(line, values)


# --- writing ------------------------------------------------------------------------------------


def dump(doc: FrameworkDoc) -> str:
    """The canonical CSV of a framework; every cell is kept inert for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in _records(doc):
        writer.writerow([inert_csv_cell(record.get(column, "")) for column in COLUMNS])
    return out.getvalue()


def _records(doc: FrameworkDoc):
    for record, attribute in FRAMEWORK_FIELDS.items():
        yield {"record": record, "text": getattr(doc, attribute)}
    for track in doc.tracks:
        yield from _track_records(track)
    levels = {level.code: (track, level) for track, level in doc.levels()}
    for area in doc.areas:
        area_part = {"area_key": area.key, "area": area.name}
        yield {"record": "area", **area_part, "text": area.description}
        for competency in area.competencies:
            part = {**area_part, "competency_key": competency.key, "competency": competency.name}
            yield {"record": "competency", **part, "text": competency.description}
            if competency.short_name:
                yield {"record": "competency_short_name", **part, "text": competency.short_name}
            for level in doc.cell_levels(competency):
                cell = competency.expectations.get(level.code) or CellDoc(CellStatus.EMPTY)
                where = {**_level_part(*levels[level.code]), **part}
                yield {"record": "cell", **where, "status": cell.status.value, "text": cell.text}
                for indicator in cell.indicators:
                    kind = indicator.kind.value
                    yield {
                        "record": "indicator",
                        **where,
                        "indicator_kind": kind,
                        "text": indicator.text,
                    }


def _track_records(track: TrackDoc):
    yield {"record": "track", "track_key": track.key, "track": track.name}
    for level in track.levels:
        part = _level_part(track, level)
        yield {"record": "level", **part}
        for record, attribute in LEVEL_FIELDS.items():
            if getattr(level, attribute):
                yield {"record": record, **part, "text": getattr(level, attribute)}
        for right in level.decision_rights:
            yield {
                "record": "decision_right",
                **part,
                "role": right.role.value,
                "delegation": right.delegation,
                "text": right.decision,
            }


def _level_part(track: TrackDoc, level: LevelDoc) -> dict:
    return {
        "track_key": track.key,
        "track": track.name,
        "level_code": level.code,
        "level_title": level.title,
        "level_rank": level.rank,
    }
