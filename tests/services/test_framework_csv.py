"""The framework CSV: a lossless round trip, cells a spreadsheet will not run, rows it refuses
with their line, and older CSVs without keys matched to the framework by name."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CellStatus, FrameworkVersion, IndicatorKind
from app.policy import SYSTEM
from app.services.frameworks import csv_format, files, store, yaml_format
from app.services.frameworks.document import (
    FrameworkDoc,
    IndicatorDoc,
    InvalidFrameworkError,
    shown_errors,
)
from tests.framework_samples import CSV_PROBLEM_LINES, csv_problems, framework_yaml

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "frameworks").glob("*.yaml"))


def shipped(path: Path) -> FrameworkDoc:
    doc, report = yaml_format.parse(path.read_text(encoding="utf-8"))
    assert report.errors == []
    return doc


def errors_of(text: str, filename: str = "framework.csv") -> list[str]:
    doc, report = csv_format.parse(text, filename=filename)
    assert doc is None, "expected errors"
    return [str(problem) for problem in report.errors]


def legacy_csv(doc: FrameworkDoc) -> str:
    """The first CSV format, as Rungs wrote it before keys: cells and indicators only."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_format.LEGACY_COLUMNS)
    track_of = {level.code: track for track, level in doc.levels()}
    for area in doc.areas:
        for competency in area.competencies:
            for level in doc.cell_levels(competency):
                cell = competency.expectations[level.code]
                base = [track_of[level.code].name, level.code, level.title, level.rank]
                base += [area.name, competency.name, competency.description, cell.status.value]
                writer.writerow([*base, "", cell.text])
                for indicator in cell.indicators:
                    writer.writerow([*base, indicator.kind.value, indicator.text])
    return out.getvalue()


def test_the_documented_example_is_the_yaml_example_as_csv():
    docs = Path(__file__).resolve().parents[2] / "docs"
    yaml_text = (docs / "framework-format.md").read_text().split("```yaml\n")[1].split("```")[0]
    csv_text = (docs / "csv-format.md").read_text().split("```csv\n")[1].split("```")[0]
    doc, _ = yaml_format.parse(yaml_text)
    assert csv_format.dump(doc) == csv_text
    again, report = csv_format.parse(csv_text)
    assert report.errors == [] and again == doc


# --- the round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_framework_survives_yaml_csv_yaml_unchanged(path):
    doc = shipped(path)
    text = csv_format.dump(doc)
    again, report = csv_format.parse(text, filename="downloaded-v3.csv")
    assert report.errors == [] and report.warnings == []
    assert again == doc  # keys, level fields, decision rights, name and slug all kept
    assert csv_format.dump(again) == text
    assert yaml_format.dump(again) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_export_import_export_through_the_database_gives_the_same_csv(ctx, path):
    version = files.import_text(SYSTEM, path.read_text(encoding="utf-8"), "yaml")[0]
    exported = files.export(version.id, "csv")
    slug = f"framework_slug,{',' * 13}{version_slug(exported)}\n"
    copied = exported.replace(slug, f"framework_slug,{',' * 13}copy\n", 1)
    assert copied != exported
    again = files.import_text(SYSTEM, copied, "csv", filename="anything.csv")
    assert again.is_new and again.version.id != version.id
    assert files.export(again.version.id, "csv") == copied
    assert files.export(again.version.id, "yaml") == files.export(version.id, "yaml").replace(
        f"slug: {version_slug(exported)}\n", "slug: copy\n", 1
    )


def version_slug(text: str) -> str:
    return next(
        row["text"]
        for row in csv.DictReader(io.StringIO(text))
        if row["record"] == "framework_slug"
    )


def test_the_csv_is_one_row_per_record_with_the_text_last():
    doc, _ = yaml_format.parse(framework_yaml(tracks=2, levels=1, areas=1, per_area=1))
    rows = list(csv.DictReader(io.StringIO(csv_format.dump(doc))))
    assert list(rows[0]) == list(csv_format.COLUMNS) and csv_format.COLUMNS[-1] == "text"
    assert [row["record"] for row in rows] == [
        "framework_slug",
        "framework_name",
        "framework_description",
        "track",
        "level",
        "level_summary",
        "decision_right",
        "track",
        "level",
        "level_summary",
        "decision_right",
        "area",
        "competency",
        "cell",
        "indicator",
        "cell",
        "indicator",
    ]
    cell = rows[-2]
    assert (cell["track_key"], cell["level_code"], cell["competency_key"], cell["status"]) == (
        "track-1",
        "T1L1",
        "skill-0-0",
        "defined",
    )
    assert (cell["track"], cell["level_title"], cell["area"], cell["competency"]) == (
        "Track 1",
        "Level 1",
        "Area 0",
        "Skill 0.0",
    )
    right = rows[6]
    assert (right["role"], right["delegation"], right["text"]) == (
        "driver",
        "1",
        "What to build next",
    )


def test_a_competency_on_one_track_of_two_stays_on_that_track():
    doc, _ = yaml_format.parse(framework_yaml(tracks=2))
    competency = doc.areas[0].competencies[0]
    competency.tracks = ["track-1"]
    competency.expectations = {
        code: cell for code, cell in competency.expectations.items() if code.startswith("T1")
    }
    again, report = csv_format.parse(csv_format.dump(doc))
    assert report.errors == [] and again == doc
    assert again.areas[0].competencies[1].tracks is None  # every track, new ones included


# --- cells a spreadsheet would run as formulas --------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "'=kept as typed"]


def test_formulas_are_exported_inert_and_read_back_as_they_were():
    doc, _ = yaml_format.parse(framework_yaml(levels=2))
    competency = doc.areas[0].competencies[0]
    competency.name = "=cmd|' /C calc'!A0"
    competency.description = "- a list\n- of points"
    cells = list(competency.expectations.values())
    for cell, formula in zip(cells * 3, FORMULAS, strict=False):
        cell.indicators.append(IndicatorDoc(IndicatorKind.SIGNAL, formula))
    doc.tracks[0].levels[0].title = "+ the first level"
    text = csv_format.dump(doc)
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    assert "''=kept as typed" in text and "'+ the first level" in text
    again, report = csv_format.parse(text)
    assert report.errors == [] and again == doc
    assert csv_format.dump(again) == text


@pytest.mark.parametrize(
    ("written", "read"),
    [("'=1+1", "=1+1"), ("'-", "-"), ("''@x", "'@x"), ("'hello", "'hello"), ("'", "'")],
)
def test_the_apostrophe_is_taken_off_only_before_a_formula_sign(written, read):
    doc, _ = yaml_format.parse(framework_yaml(levels=1, per_area=1, areas=1))
    text = csv_format.dump(doc).replace("Does skill 0.0 at L1.", written)
    again, report = csv_format.parse(text)
    assert report.errors == []
    assert again.areas[0].competencies[0].expectations["L1"].text == read


# --- rows refused with their line ---------------------------------------------------------------

LEGACY_HEADER = ",".join(csv_format.LEGACY_COLUMNS) + "\n"
GOOD_ROW = "IC,PM1,PM,1,Craft,Research,,defined,,Does research.\n"


def test_a_row_with_more_fields_than_the_header_is_refused():
    # An unquoted comma in the text: the old reader kept "Does research" and dropped the rest.
    text = LEGACY_HEADER + GOOD_ROW + "IC,PM2,PM 2,2,Craft,Research,,defined,,Leads, then writes.\n"
    assert errors_of(text) == [
        "has 11 fields but the header has 10; text with a comma, a quote or a line "
        "break must be in double quotes (line 3)"
    ]
    short = LEGACY_HEADER + "IC,PM1,PM,1,Craft\n" + GOOD_ROW
    assert errors_of(short)[0].startswith("has 5 fields but the header has 10")
    assert errors_of(short)[0].endswith("(line 2)")


def test_a_quoted_comma_and_line_break_are_text():
    text = LEGACY_HEADER + GOOD_ROW.replace("Does research.", '"Leads, then\nwrites."')
    doc, report = csv_format.parse(text)
    assert report.errors == []
    assert doc.areas[0].competencies[0].expectations["PM1"].text == "Leads, then\nwrites."


def test_a_field_past_the_csv_limit_is_an_error_with_its_line():
    huge = "x" * (csv.field_size_limit() + 1)
    text = LEGACY_HEADER + GOOD_ROW + f'IC,PM2,PM 2,2,Craft,Research,,defined,,"{huge}"\n'
    assert errors_of(text) == [
        f"a field is longer than {csv.field_size_limit():,} characters, the most a CSV "
        "field may hold; shorten it (or check for a missing closing quote) (line 3)"
    ]


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\ud800"])
def test_control_characters_are_refused_with_their_line(character):
    text = LEGACY_HEADER + GOOD_ROW + GOOD_ROW.replace("Does", f"Do{character}es")
    [error] = errors_of(text)
    assert error.startswith("contains a control character (U+")
    assert error.endswith("at character 40); remove it (line 3)")


def test_errors_name_the_line():
    text = (
        LEGACY_HEADER
        + "IC,PM1,PM,one,Craft,Research,,defined,,Does research.\n"
        + "IC,PM2,PM 2,2,Craft,Research,,maybe,,Does more.\n"
        + "IC,PM2,PM 2,2,Craft,Research,,defined,story,An example.\n"
    )
    assert errors_of(text) == [
        'line 2, column level_rank: "one" is not a whole number',
        'line 3, column status: "maybe" is not one of defined, empty, not_applicable',
        'line 4, column indicator_kind: "story" is not one of measure, criterion, example, signal',
    ]
    assert errors_of("a,b\n1,2\n") == [
        f"the header must be {','.join(csv_format.COLUMNS)} (or the older "
        f"{','.join(csv_format.LEGACY_COLUMNS)}, without keys) (line 1)"
    ]
    assert errors_of("") == ["the file is empty"]
    assert errors_of(LEGACY_HEADER) == ["the file has a header but no rows"]


def test_a_row_may_not_contradict_what_an_earlier_row_declared():
    doc, _ = yaml_format.parse(framework_yaml(levels=2, per_area=1, areas=1))
    lines = csv_format.dump(doc).splitlines(keepends=True)
    cell = next(i for i, line in enumerate(lines) if line.startswith("cell,"))
    lines[cell] = lines[cell].replace("Skill 0.0", "Skill zero")
    competency_line = next(i for i, line in enumerate(lines) if line.startswith("competency,"))
    assert errors_of("".join(lines)) == [
        f'line {cell + 1}, column competency: "Skill zero" here but "Skill 0.0" on line '
        f"{competency_line + 1}, which declared it; change it there and on every row that "
        "repeats it"
    ]
    twice = csv_format.dump(doc).splitlines(keepends=True)
    twice.insert(cell + 1, twice[cell])
    assert errors_of("".join(twice)) == [
        f"line {cell + 2}, column record: Skill 0.0 at L1 has a cell row on line {cell + 1} too"
    ]


def keyed_csv(*records: dict, newline: str = "\n") -> str:
    """A keyed CSV of the records (each a dict of its columns), written as a spreadsheet would."""
    out = io.StringIO()
    writer = csv.DictWriter(out, csv_format.COLUMNS, lineterminator=newline)
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


PM_LEVEL = {"track_key": "ic", "track": "IC", "level_code": "PM", "level_title": "PM"}
RESEARCH = {"area_key": "craft", "area": "Craft", "competency_key": "research"}
QA_FILE = (  # the file a QA walk-through imported, lines 1 (the header) to 8
    {"record": "framework_slug", "text": "qa-bad-import"},
    {"record": "framework_name", "text": "QA bad import"},
    {"record": "track", "track_key": "ic", "track": "IC"},
    {"record": "level", **PM_LEVEL, "level_rank": "1"},
    {"record": "level", **PM_LEVEL, "level_code": "SPM", "level_rank": "2"},
    {"record": "decision_right", **PM_LEVEL, "role": "boss", "delegation": "9", "text": "All"},
    {"record": "cell", **PM_LEVEL, **RESEARCH, "competency": "Research", "text": "Does it."},
)


def test_every_problem_of_a_row_is_listed_in_one_round_with_the_row_s_line():
    # The role was reported and the delegation only once the role was fixed, on the line of
    # the level (6) instead of the row's (7).
    assert errors_of(keyed_csv(*QA_FILE)) == [
        'line 7, column role: "boss" is not one of driver, approver, contributor, informed',
        "line 7, column delegation: 9 is not between 1 (tell) and 7 (delegate)",
    ]
    right = {**QA_FILE[5], "role": "driver"}
    assert errors_of(keyed_csv(*QA_FILE[:5], right, QA_FILE[6])) == [
        "line 7, column delegation: 9 is not between 1 (tell) and 7 (delegate)"
    ]
    bare = {**QA_FILE[5], "delegation": "often", "text": ""}
    assert errors_of(keyed_csv(*QA_FILE[:5], bare, QA_FILE[6])) == [
        'line 7, column role: "boss" is not one of driver, approver, contributor, informed',
        'line 7, column delegation: "often" is not a whole number from 1 to 7',
        "line 7, column text: a decision right needs the decision in text",
    ]
    indicator = {"record": "indicator", **PM_LEVEL, **RESEARCH, "indicator_kind": "hunch"}
    assert errors_of(keyed_csv(*QA_FILE[:5], QA_FILE[6], indicator)) == [
        'line 8, column indicator_kind: "hunch" is not one of measure, criterion, example, signal',
        "line 8, column text: an indicator needs text",
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_lines_after_a_quoted_line_break_are_the_file_s_lines(newline):
    # Problems the framework checks find (a short name too long, a defined cell without text)
    # are told by the row and column they came from, not by the row that declared their part.
    records = (
        *QA_FILE[:5],
        {"record": "area", **RESEARCH, "competency_key": "", "text": f"Two{newline}lines"},
        {"record": "competency", **RESEARCH, "competency": "Research", "text": "Learns"},
        {"record": "competency_short_name", **RESEARCH, "text": "Research operations"},
        {"record": "cell", **PM_LEVEL, **RESEARCH, "status": "defined", "text": ""},
        {"record": "cell", **PM_LEVEL, "level_code": "SPM", **RESEARCH, "status": "maybe"},
    )
    text = keyed_csv(*records, newline=newline)
    lines = list(csv.reader(io.StringIO(text, newline="")))
    assert len(lines) == len(records) + 1  # the area's text is one field on lines 7 and 8
    assert errors_of(text) == [
        "line 10, column text: is 19 characters long; a short name (a column header of the "
        "calibration grid) may have at most 16. Shorten it.",
        "line 11, column text: a defined expectation needs text",
        'line 12, column status: "maybe" is not one of defined, empty, not_applicable',
    ]


def test_a_csv_lists_every_problem_in_one_round():
    # A framework rule (the slug), a row's width, a control character, a status and an
    # indicator kind: one answer, in the order of the file, each with its line.
    with pytest.raises(InvalidFrameworkError) as error:
        files.validate(csv_problems(), "csv")
    report = error.value.report
    assert error.value.message == "5 errors found; nothing was imported."
    assert [p.line for p in report.errors] == CSV_PROBLEM_LINES
    assert [str(p) for p in report.errors] == [
        'line 2, column text: "Not A Slug" must be lower-case letters, digits and single dashes',
        "has 16 fields but the header has 15; text with a comma, a quote or a line break "
        "must be in double quotes (line 10)",
        "contains a control character (U+0000 at character 84); remove it (line 14)",
        'line 16, column status: "maybe" is not one of defined, empty, not_applicable',
        'line 17, column indicator_kind: "story" is not one of measure, criterion, example, signal',
    ]


def test_every_wrong_row_is_counted_and_the_first_fifty_are_shown():
    rows = "".join(
        f"IC,PM{n},PM {n},{n},Craft,Research,,maybe,,Does research.\n" for n in range(1, 61)
    )
    with pytest.raises(InvalidFrameworkError) as error:
        files.validate(LEGACY_HEADER + rows, "csv")
    assert error.value.message == "60 errors found; nothing was imported."
    shown, more = shown_errors(error.value.report)
    assert [p.line for p in shown] == list(range(2, 52)) and more == 10


# --- the older CSV without keys -----------------------------------------------------------------


def test_an_older_csv_still_reads_with_keys_made_from_names():
    doc = shipped(SHIPPED[1])
    again, report = csv_format.parse(legacy_csv(doc), filename="ladder-v2.csv")
    assert report.errors == []
    assert (again.slug, again.name) == ("ladder-v2", "Ladder v2")
    assert str(report.warnings[0]) == (
        'the file has no framework_slug and framework_name row; the slug "ladder-v2" '
        'and name "Ladder v2" came from the file\'s name'
    )
    research = again.areas[0].competencies[0]
    assert research.expectations["APM"].status is CellStatus.DEFINED
    assert len(again.named_only) == len(doc.tracks) + len(doc.areas) + len(doc.competencies())


def test_an_older_csv_is_matched_to_the_framework_by_name_and_keeps_its_keys(ctx):
    path = next(p for p in SHIPPED if p.name == "product-management.yaml")
    published = files.import_text(SYSTEM, path.read_text(encoding="utf-8"), "yaml", publish=True)
    doc = shipped(path)
    keys = [c.key for *_, c in doc.competencies()]
    renamed = doc.competencies()[-1][3]
    old_name, renamed.name = renamed.name, "Something new"
    text = legacy_csv(doc)

    imported = files.import_text(SYSTEM, text, "csv", filename="product-management.csv")
    assert imported.is_new and imported.version.number == 2
    stored = store.to_document(store.load_version(imported.version.id))
    assert [c.key for *_, c in stored.competencies()][:-1] == keys[:-1]
    assert [t.key for t in stored.tracks] == [t.key for t in doc.tracks]
    assert [a.key for a in stored.areas] == [a.key for a in doc.areas]
    warnings = [str(w) for w in imported.report.warnings]
    matched = next(w for w in warnings if w.startswith(f"{len(keys) - 1} competencies"))
    assert f"matched version {published.version.number} by name and keep its keys" in matched
    assert f'{doc.competencies()[0][3].name} ("{keys[0]}")' in matched
    assert old_name not in matched
    assert any(
        w.startswith("line ")  # the line and column of the row that named it first
        and ", column competency: " in w
        and 'competency "Something new" has no key in the file and no competency of that name '
        'is in version 1; it gets the new key "something-new"'
        in w
        for w in warnings
    ), warnings
    tracks = f"{len(doc.tracks)} track{'s' if len(doc.tracks) > 1 else ''}"
    assert any(w.startswith(f"{tracks} without a key in the file matched") for w in warnings)
    assert db.session.scalar(select(func.count()).select_from(FrameworkVersion)) == 2


def test_a_new_framework_from_an_older_csv_has_nothing_to_match(ctx):
    doc = shipped(SHIPPED[0])
    imported = files.import_text(SYSTEM, legacy_csv(doc), "csv", filename="brand-new.csv")
    assert imported.is_new
    assert not any("matched" in str(w) for w in imported.report.warnings)


def test_validate_reports_the_matches_without_storing(ctx):
    files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True)
    doc, _ = yaml_format.parse(framework_yaml())
    _doc, report = files.validate(legacy_csv(doc), "csv", filename="sample.csv")
    assert any(
        "4 competencies without a key in the file matched" in str(w) for w in report.warnings
    )
    assert db.session.scalar(select(func.count()).select_from(FrameworkVersion)) == 1
    with pytest.raises(InvalidFrameworkError):
        files.validate(LEGACY_HEADER + GOOD_ROW + "x,y\n", "csv")


def test_a_hand_made_csv_of_cells_declares_what_it_names():
    out = io.StringIO()
    writer = csv.DictWriter(out, csv_format.COLUMNS, lineterminator="\n")
    writer.writeheader()
    where = {"track": "IC", "area": "Craft", "competency_key": "research", "competency": "Research"}
    writer.writerow({"record": "framework_slug", "text": "hand"})
    writer.writerow({"record": "framework_name", "text": "Made by hand"})
    for code, rank in (("P1", 1), ("P2", 2)):
        level = {**where, "level_code": code, "level_title": f"PM {rank}", "level_rank": rank}
        writer.writerow({**level, "text": f"Does research at {code}."})
        measure = f"Research at {code} changes a decision."
        writer.writerow({**level, "record": "", "indicator_kind": "measure", "text": measure})
        writer.writerow({**level, "record": "", "indicator_kind": "example", "text": "An example."})
    doc, report = csv_format.parse(out.getvalue())
    assert report.errors == [] and report.warnings == []
    assert (doc.slug, doc.name, [t.key for t in doc.tracks]) == ("hand", "Made by hand", ["ic"])
    research = doc.areas[0].competencies[0]
    assert (doc.areas[0].key, research.key, research.tracks) == ("craft", "research", None)
    assert [(i.kind.value, i.text) for i in research.expectations["P2"].indicators] == [
        ("measure", "Research at P2 changes a decision."),
        ("example", "An example."),
    ]
    assert sorted(type(item).__name__ for item in doc.named_only) == ["AreaDoc", "TrackDoc"]
