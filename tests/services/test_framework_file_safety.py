"""Framework files that are hostile or odd: each is refused with a clear error naming its line,
quickly, and nothing about it reaches the database (YAML, Monzo and files of no known format)."""

from __future__ import annotations

import textwrap
import time

import pytest

from app.models import CellStatus, IndicatorKind
from app.services.frameworks import files, monzo_format, yaml_format
from app.services.frameworks.document import MAX_BYTES, MAX_RANK, InvalidFrameworkError
from tests.framework_samples import framework_yaml

# Seven levels of aliases, each ten times the one before: ten million values from 400 bytes.
ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 7)
)
DEEP = 5000


def yaml_errors(text: str) -> list[str]:
    doc, report = yaml_format.parse(text)
    assert doc is None, "expected errors"
    return [str(problem) for problem in report.errors]


def test_an_alias_bomb_is_refused_at_once_naming_the_anchor_and_its_line():
    started = time.perf_counter()
    found = yaml_errors(ALIAS_BOMB + "slug: *a6\n")
    assert time.perf_counter() - started < 1
    assert found == [
        "the anchor &a0 is not allowed in a framework file; remove it and write repeated "
        "values out in full (line 1)"
    ]


def test_an_alias_is_refused_with_its_line():
    text = framework_yaml().replace("name: Sample", "name: *sample", 1)
    assert "name: *sample" in text
    line = text.splitlines().index("name: *sample") + 1
    assert yaml_errors(text) == [
        f"the alias *sample is not allowed in a framework file; write the value out in full "
        f"(line {line})"
    ]


def test_a_repeated_key_is_refused_with_the_line_of_the_repeat():
    # The second slug would have won: a file could overwrite another framework this way.
    text = framework_yaml() + "slug: someone-else\n"
    last = len(text.splitlines())
    assert yaml_errors(text) == [
        f"slug: appears twice in the same mapping (first on line 2); keep one (line {last})"
    ]


def test_a_repeated_key_deep_in_the_file_is_refused_too():
    text = framework_yaml().replace("rank: 2\n", "rank: 2\n    rank: 9\n", 1)
    found = yaml_errors(text)
    assert len(found) == 1 and found[0].startswith("tracks[0].levels[1].rank: appears twice")


@pytest.mark.parametrize(
    ("key", "kind"),
    [("? {a: 1}\n: value\n", "a mapping"), ("[a, b]: value\n", "a list")],
    ids=["mapping", "list"],
)
def test_a_mapping_or_list_as_a_key_is_refused(key, kind):
    text = framework_yaml() + key
    line = len(framework_yaml().splitlines()) + 1
    assert f"a key must be plain text, not {kind} (line {line})" in yaml_errors(text)


def test_an_unknown_tag_is_refused_with_its_line():
    text = framework_yaml().replace("name: Sample", "name: !foo Sample", 1)
    assert yaml_errors(text) == [
        "the tag !foo is not supported; remove it (a framework file holds only text, numbers, "
        "lists and mappings) (line 3)"
    ]


@pytest.mark.parametrize(
    "nested",
    ["[" * DEEP + "]" * DEEP, "\n" + "- " * DEEP + "x", "{a: " * DEEP + "1" + "}" * DEEP],
    ids=["flow-lists", "block-lists", "flow-mappings"],
)
def test_nesting_five_thousand_deep_is_refused_without_a_recursion_error(nested):
    found = yaml_errors(framework_yaml() + "description: " + nested + "\n")
    assert len(found) == 1
    assert "nests deeper than 20 levels; a framework file needs about ten" in found[0]


def test_a_file_of_too_many_values_is_refused_before_it_is_all_read():
    text = "slug: [" + ",".join(["1"] * 60_000) + "]\n"
    assert yaml_errors(text) == [
        "the file holds more than 50,000 values; a framework file needs a few thousand (line 1)"
    ]


def test_a_file_over_the_size_limit_names_the_limit():
    big = framework_yaml() + "# " + "x" * MAX_BYTES + "\n"
    assert yaml_errors(big) == ["the file is 1.0 MB; Rungs reads framework files of up to 1 MB"]
    with pytest.raises(InvalidFrameworkError) as error:
        files.decode(big.encode())
    assert "Rungs reads framework files of up to 1 MB" in str(error.value.report.errors[0])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("rank: 2", "rank: 18446744073709551617"),
            f"tracks[0].levels[1].rank: 18446744073709551617 is not between 0 and {MAX_RANK}",
        ),
        (
            ("rank: 2", "rank: -9223372036854775809"),
            f"tracks[0].levels[1].rank: -9223372036854775809 is not between 0 and {MAX_RANK}",
        ),
        (
            ("delegation: 1", "delegation: 18446744073709551617"),
            "tracks[0].levels[0].decision_rights[0].delegation: 18446744073709551617 is not "
            "between 1 (tell) and 7 (delegate)",
        ),
        (
            ("rank: 2", "rank: " + "9" * 5000),
            f'tracks[0].levels[1].rank: "{"9" * 40}" is not a number Rungs can read',
        ),
        (("rank: 2", "rank: !!int two"), 'tracks[0].levels[1].rank: "two" is not a number'),
    ],
    ids=["rank-past-64-bits", "negative-rank", "delegation-past-64-bits", "5000-digits", "bad-int"],
)
def test_numbers_a_database_cannot_hold_are_refused(change, expected):
    text = framework_yaml()
    assert change[0] in text
    found = yaml_errors(text.replace(change[0], change[1], 1))
    assert found[0].startswith(expected), found


def test_a_raw_control_character_is_refused_with_its_line_and_column():
    text = framework_yaml().replace("name: Sample", "name: Sam\x00ple", 1)
    assert yaml_errors(text) == [
        "contains a control character (U+0000 at column 10); remove it (line 3)"
    ]


@pytest.mark.parametrize("escape", ["\\0", "\\x07", "\\u0085", "\\ud800", "\\x1b[31m"])
def test_an_escaped_control_character_is_refused_naming_its_path(escape):
    text = framework_yaml().replace("title: Level 1", f'title: "Level{escape} 1"', 1)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "title: " in row)
    found = yaml_errors(text)
    assert len(found) == 1 and found[0].startswith(
        "tracks[0].levels[0].title: contains a control character"
    ), found
    assert found[0].endswith(f"; remove it (line {line})")


def test_a_key_with_a_control_character_is_refused():
    text = framework_yaml() + '"slug\\0": x\n'
    assert any("contains a control character" in error for error in yaml_errors(text))


def test_dates_and_odd_scalars_stay_text():
    # An impossible date, a merge key and "=" used to fail while the file was read (a 500).
    text = framework_yaml().replace(
        "summary: Summary of level 1.", "summary: 2026-02-30\n    typical_experience: '='", 1
    )
    doc, report = yaml_format.parse(text)
    assert report.errors == []
    level = doc.tracks[0].levels[0]
    assert (level.summary, level.typical_experience) == ("2026-02-30", "=")
    assert "<<: is not a known key" in " ".join(yaml_errors(framework_yaml() + "<<: {a: 1}\n"))


def test_text_that_is_not_utf8_is_refused_with_where():
    data = framework_yaml().encode().replace(b"Sample", b"Sampl\xe9", 1)
    with pytest.raises(InvalidFrameworkError) as error:
        files.decode(data)
    message = str(error.value.report.errors[0])
    assert message.startswith("the file is not UTF-8 text (byte ")
    assert ", on line 3, is 0xE9): save it as UTF-8" in message


# --- Monzo ------------------------------------------------------------------------------------

MONZO = textwrap.dedent("""\
    ---
    path: '/web'
    title: 'Web Engineering'
    levels: 3
    topics:
      - name: 'communication'
        title: 'Communication'
        content:
          - level: 1
            criteria:
              - 'Listens actively'
              - 'Writes clear updates'
          - level: 2
            criteria: []
      - name: 'impact'
        title: 'Impact'
        content:
          - level: 2
            criteria:
              - 'Ships small changes weekly'
            exampleCriteria:
              - criteria: 'Owns a metric'
                examples:
                  - 'Cut checkout errors by half'
    ---

    # Web Engineering

    How web engineers grow at Monzo.

    Read it with your manager.
    """)


def monzo_errors(text: str) -> list[str]:
    doc, report = monzo_format.parse(text)
    assert doc is None, "expected errors"
    return [str(problem) for problem in report.errors]


def test_each_monzo_criterion_becomes_its_own_criterion_indicator():
    doc, report = monzo_format.parse(MONZO)
    assert report.errors == []
    communication, impact = doc.areas[0].competencies
    cell = communication.expectations["L1"]
    assert cell.status is CellStatus.DEFINED
    assert cell.text == "Meets the criteria listed for level 1."
    assert [(i.kind, i.text) for i in cell.indicators] == [
        (IndicatorKind.CRITERION, "Listens actively"),
        (IndicatorKind.CRITERION, "Writes clear updates"),
    ]
    assert [(i.kind, i.text) for i in impact.expectations["L2"].indicators] == [
        (IndicatorKind.CRITERION, "Ships small changes weekly"),
        (IndicatorKind.CRITERION, "Owns a metric"),
        (IndicatorKind.EXAMPLE, "Cut checkout errors by half"),
    ]


def test_a_level_monzo_leaves_out_is_not_applicable_and_an_empty_one_is_not_written_yet():
    doc, report = monzo_format.parse(MONZO)
    communication, impact = doc.areas[0].competencies
    statuses = {
        (c.key, code): cell.status
        for c in (communication, impact)
        for code, cell in c.expectations.items()
    }
    assert statuses == {
        ("communication", "L1"): CellStatus.DEFINED,
        ("communication", "L2"): CellStatus.EMPTY,  # listed, with no criteria yet
        ("communication", "L3"): CellStatus.NOT_APPLICABLE,
        ("impact", "L1"): CellStatus.NOT_APPLICABLE,
        ("impact", "L2"): CellStatus.DEFINED,
        ("impact", "L3"): CellStatus.NOT_APPLICABLE,
    }
    assert [str(w) for w in report.warnings] == [
        "topics[0] (level 2): the expectation of Communication at L2 is empty (line 13)",
        # Monzo writes no measures: the written cells say so, each at its own lines
        "topics[0].content[0]: Communication at L1 has no measure: say how you will know it is "
        "met (line 9)",
        "topics[1].content[0]: Impact at L2 has no measure: say how you will know it is met "
        "(line 18)",
    ]


def test_the_prose_below_the_front_matter_becomes_the_description():
    doc, _ = monzo_format.parse(MONZO)
    assert doc.description == "How web engineers grow at Monzo.\n\nRead it with your manager."
    # and survives the Rungs format
    assert yaml_format.parse(yaml_format.dump(doc))[0].description == doc.description


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "topics:\n  - name: a\n    content: 7\n",
            "topics[0].content: must be a list, not a number (line 4)",
        ),
        (
            "topics:\n  - name: a\n    content: [5]\n",
            "topics[0].content[0]: must be a mapping with level and criteria, not a number",
        ),
        (
            "topics:\n  - name: a\n    content:\n      - level: two\n",
            "content[0].level: “two” is not a level number (in a): use a whole number from 1 "
            "to 30 (line 5)",
        ),
        (
            "topics:\n  - name: a\n    content:\n      - criteria: [x]\n",
            "topics[0].content[0].level: a level is missing (in a): use a whole number from 1 "
            "to 30 (line 5)",
        ),
        (
            "topics:\n  - name: a\n    content:\n      - level: 99999999999999999999999\n",
            "level: 99999999999999999999999 is not a level (in a): use a whole number from 1 to 30",
        ),
        (
            "levels: 1000000000\ntopics:\n  - name: a\n",
            "levels: 1000000000 is not a level: use a whole number from 1 to 30 (line 2)",
        ),
        (
            "topics:\n  - name: a\n    content:\n      - level: 1\n        criteria: 5\n",
            "topics[0].content[0].criteria: must be a list, not a number (line 6)",
        ),
        (
            "topics:\n  - name: a\n    content:\n      - level: 1\n        criteria: [[x]]\n",
            "topics[0].content[0].criteria[0]: must be text, not a list (line 6)",
        ),
        (
            "topics:\n  - name: a\n    content:\n      - level: 1\n        exampleCriteria: [x]\n",
            "exampleCriteria[0]: must be a mapping with criteria and examples, not text (line 6)",
        ),
        ("topics:\n  - name: [a]\n", "topics[0].name: must be text, not a list (line 3)"),
        (
            "topics:\n  - 7\n",
            "topics[0]: must be a mapping with name and content, not a number (line 3)",
        ),
        ("topics: 7\n", "topics: the front matter needs a list of topics (line 2)"),
        ("- 7\n", "the front matter must be a mapping, not a list (line 2)"),
        ("title: {a: 1}\ntopics:\n  - name: a\n", "title: must be text, not a mapping (line 2)"),
        (
            "topics:\n  - name: a\n    content:\n      - level: 1\n      - level: 1\n",
            "topics[0].content[1].level: level 1 is listed twice for a (line 6)",
        ),
        (
            "x: &x 1\ntopics: []\n",
            "the anchor &x is not allowed in a framework file; remove it and write repeated",
        ),
        (
            "topics: []\ntopics: []\n",
            "topics: appears twice in the same mapping (first on line 2); keep one (line 3)",
        ),
        (
            "topics: !foo []\n",
            "the tag !foo is not supported; remove it (a framework file holds only text",
        ),
    ],
)
def test_monzo_front_matter_of_the_wrong_shape_is_refused_with_its_line(front, expected):
    found = monzo_errors(f"---\n{front}---\n")
    assert any(expected in error for error in found), found
    assert all("(line " in error for error in found), found


def test_a_control_character_in_the_monzo_prose_is_refused():
    assert monzo_errors(MONZO + "Bell\x07\n") == [
        "contains a control character (U+0007 at column 5); remove it (line 32)"
    ]


# --- files Rungs cannot read ----------------------------------------------------------------

TABLES = "# Levels\n\n| Level | Title |\n|---|---|\n| 1 | Engineer |\n"
SCRIPT = "export const levels = [{ level: 1, title: 'Engineer' }];\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@pytest.mark.parametrize(
    ("filename", "data", "start"),
    [
        ("levels.js", SCRIPT.encode(), '"levels.js" is not in a format Rungs can import.'),
        ("chart.png", PNG, '"chart.png" is not in a format Rungs can import.'),
        ("notes.txt", TABLES.encode(), '"notes.txt" is not in a format Rungs can import.'),
        ("ladder", b"\x00\x01binary", '"ladder" is not in a format Rungs can import.'),
    ],
)
def test_a_file_of_no_known_format_is_refused_naming_the_formats(filename, data, start):
    with pytest.raises(InvalidFrameworkError) as error:
        files.detect_format(filename, data)
    message = str(error.value.report.errors[0])
    assert message.startswith(start)
    assert (
        "Rungs reads a Rungs YAML file (.yaml or .yml), a Monzo progression-framework page"
        in message
    )
    assert "docs/framework-format.md, docs/monzo-format.md and docs/csv-format.md" in message
    assert "YAML:" not in message


def test_a_spreadsheet_gets_a_hint_to_save_it_as_csv():
    with pytest.raises(InvalidFrameworkError) as error:
        files.detect_format("ladder.xlsx", b"PK\x03\x04")
    assert str(error.value.report.errors[0]).endswith(
        "Save the spreadsheet as CSV (UTF-8) and import that."
    )


def test_a_markdown_page_of_tables_is_not_a_yaml_error_but_names_the_formats():
    assert files.detect_format("levels.md", TABLES.encode()) == "monzo"
    doc, report = files.parse(TABLES, "monzo", filename="levels.md")
    assert doc is None and len(report.errors) == 1
    message = str(report.errors[0])
    assert message.startswith("this Markdown file has no YAML front matter")
    assert "so it is not a Monzo progression-framework page. Rungs reads a Rungs YAML" in message


@pytest.mark.parametrize(
    ("filename", "text", "fmt"),
    [
        ("ladder.YML", "", "yaml"),
        ("engineering.markdown", "", "monzo"),
        ("ladder.CSV", "", "csv"),
        ("download", "format: rungs-framework/1\nslug: x\n", "yaml"),
        ("ladder.json", '{\n  "format": "rungs-framework/1"\n}\n', "yaml"),
        ("web.txt", "---\ntopics: []\n---\n", "monzo"),
        ("<stdin>", "track,level_code,level_title\n", "csv"),
        ("export", "record,track_key,track,level_code\n", "csv"),
    ],
)
def test_formats_come_from_the_name_or_else_the_first_lines(filename, text, fmt):
    assert files.detect_format(filename, text.encode()) == fmt
