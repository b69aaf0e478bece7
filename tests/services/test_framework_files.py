"""Framework files: validation with paths and lines, warnings, and YAML/Monzo round trips
(CSV: test_framework_csv.py)."""

import textwrap
from pathlib import Path

import pytest
import yaml

from app.models import CellStatus
from app.services.frameworks import files, monzo_format, yaml_format
from app.services.frameworks.document import InvalidFrameworkError
from tests.framework_samples import (
    MONZO_PROBLEM_LINES,
    MONZO_PROBLEMS,
    framework_data,
    framework_yaml,
)

ROOT = Path(__file__).resolve().parents[2]


def errors_of(text: str) -> list[str]:
    doc, report = yaml_format.parse(text)
    assert doc is None, "expected errors"
    return [str(problem) for problem in report.errors]


def test_the_documented_example_is_valid_and_round_trips():
    example = (ROOT / "docs/framework-format.md").read_text().split("```yaml\n")[1].split("```")[0]
    doc, report = yaml_format.parse(example)
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        "areas[0].competencies[1].expectations.GPM: the expectation of Coaching product managers "
        "at GPM is empty (line 53)"
    ]
    text = yaml_format.dump(doc)
    assert yaml_format.dump(yaml_format.parse(text)[0]) == text


def test_a_level_code_used_twice_names_the_place_and_the_line():
    text = framework_yaml(levels=4).replace("code: L3", "code: L2")
    found = errors_of(text)
    assert 'tracks[0].levels[1].code: "L2" is used twice (line 16)' in found
    assert 'tracks[0].levels[2].code: "L2" is used twice (line 24)' in found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("rank: 2", "rank: 1"),
            "tracks[0].levels[1].rank: 1 must be higher than the rank of L1 "
            "(1), the level before it",
        ),
        (
            ("role: driver", "role: boss"),
            'tracks[0].levels[0].decision_rights[0].role: "boss" is '
            "not one of driver, approver, contributor, informed",
        ),
        (
            ("delegation: 1", "delegation: 9"),
            "tracks[0].levels[0].decision_rights[0].delegation: "
            "9 is not between 1 (tell) and 7 (delegate)",
        ),
        (("kind: example", "kind: anecdote"), '.indicators[0].kind: "anecdote" is not one of'),
        (("key: skill-0-1", "key: skill-0-0"), 'areas[0].competencies[1].key: "skill-0-0" is '),
        (("slug: sample", "slug: Sample Framework"), 'slug: "Sample Framework" must be'),
        (
            ("title: Level 1", "titel: Level 1"),
            "tracks[0].levels[0].titel: is not a known key here",
        ),
        (("title: Level 1", "titel: Level 1"), 'tracks[0].levels[0]: "title" is required'),
        (("rank: 3", "rank: three"), "tracks[0].levels[2].rank: must be a whole number, not text"),
        (
            ("status: defined\n        text: Does skill 0.0 at L1.", "status: defined"),
            "areas[0].competencies[0].expectations.L1.text: a defined expectation needs text",
        ),
        (("    L2:\n", "    L9:\n"), 'expectations.L9: "L9" is not a level of this framework'),
    ],
)
def test_errors_say_where_and_what(change, expected):
    text = framework_yaml()
    assert change[0] in text
    found = errors_of(text.replace(change[0], change[1], 1))
    assert any(expected in error for error in found), found
    assert all("(line " in error for error in found), found


def test_a_competency_key_used_twice_is_an_error():
    text = framework_yaml().replace("key: skill-0-1", "key: skill-0-0")
    assert 'areas[0].competencies[1].key: "skill-0-0" is used twice' in " ".join(errors_of(text))


def test_broken_yaml_and_empty_files():
    assert errors_of("format: x\nslug: [\n") == [
        "not valid YAML: expected the node content, but found '<stream end>' (line 3)"
    ]
    assert errors_of("") == ["the file is empty"]
    assert errors_of("- a list\n") == ["must be a mapping of keys to values, not a list (line 1)"]


def test_warnings_do_not_refuse_the_file():
    text = framework_yaml(levels=2)
    text = text.replace("text: Does skill 0.0 at L2.", "text: Does skill 0.0 at L1.")
    text = text.replace(
        """      L2:
        status: defined
        text: Does skill 0.1 at L2.
        indicators:
        - kind: example
          text: An example at L2.""",
        """      L2:
        status: empty""",
    )
    doc, report = yaml_format.parse(text)
    assert doc is not None and report.errors == []
    warnings = [str(w) for w in report.warnings]
    assert any(
        "expectations.L2.text: is the same as at L1, the level below" in w for w in warnings
    ), warnings
    assert any("the expectation of Skill 0.1 at L2 is empty" in w for w in warnings), warnings


def test_a_competency_no_track_uses_is_a_warning():
    data = framework_data(measures=True)
    data["areas"][0]["competencies"][0].update(tracks=[], expectations={})
    _doc, report = yaml_format.parse(yaml.safe_dump(data, sort_keys=False))
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        "areas[0].competencies[0].tracks: no track uses Skill 0.0 (line 40)"
    ]


def test_canonical_export_is_stable_and_keeps_everything():
    doc, _ = yaml_format.parse(framework_yaml(tracks=2))
    text = yaml_format.dump(doc)
    again, report = yaml_format.parse(text)
    assert report.errors == [] and again == doc
    assert yaml_format.dump(again) == text


def test_multi_line_text_is_written_as_a_block():
    doc, _ = yaml_format.parse(framework_yaml())
    doc.areas[0].competencies[0].expectations["L1"].text = "First line.\nSecond line."
    text = yaml_format.dump(doc)
    assert "text: |-\n          First line.\n          Second line." in text
    assert yaml_format.parse(text)[0] == doc


MONZO = textwrap.dedent("""\
    ---
    path: '/web'
    title: 'Web Engineering'
    sidebarTitle: 'Web'
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
            criteria:
              - 'Runs a meeting with a clear outcome'
            exampleCriteria:
              - criteria: 'Shares context in writing'
                examples:
                  - 'Wrote the decision record for the payments migration'
      - name: 'impact'
        title: 'Impact'
        content:
          - level: 1
            criteria:
              - 'Ships small changes weekly'
    ---

    # Web Engineering
    """)


def test_monzo_front_matter_becomes_a_framework():
    doc, report = monzo_format.parse(MONZO)
    assert report.errors == []
    assert doc.slug == "web" and doc.name == "Web Engineering"
    assert [(level.code, level.title, level.rank) for _, level in doc.levels()] == [
        ("L1", "Level 1", 1),
        ("L2", "Level 2", 2),
        ("L3", "Level 3", 3),
    ]
    communication = doc.areas[0].competencies[0]
    assert communication.key == "communication"
    assert communication.expectations["L1"].text == "Meets the criteria listed for level 1."
    assert [(i.kind.value, i.text) for i in communication.expectations["L1"].indicators] == [
        ("criterion", "Listens actively"),
        ("criterion", "Writes clear updates"),
    ]
    assert [(i.kind.value, i.text) for i in communication.expectations["L2"].indicators] == [
        ("criterion", "Runs a meeting with a clear outcome"),
        ("criterion", "Shares context in writing"),
        ("example", "Wrote the decision record for the payments migration"),
    ]
    # Monzo leaves out the levels a topic expects nothing at: not applicable, no warning.
    assert doc.areas[0].competencies[1].expectations["L2"].status is CellStatus.NOT_APPLICABLE
    # Monzo writes no measures: each written cell says it has none, and nothing else warns.
    assert [w.message for w in report.warnings] == [
        f"{c.name} at {code} has no measure: say how you will know it is met"
        for *_, c in doc.competencies()
        for code, cell in c.expectations.items()
        if cell.status is CellStatus.DEFINED
    ]
    # A Monzo file exports as a normal Rungs file.
    text = yaml_format.dump(doc)
    assert yaml_format.dump(yaml_format.parse(text)[0]) == text


def test_monzo_without_front_matter():
    doc, report = monzo_format.parse("# Just markdown\n")
    assert doc is None and "has no YAML front matter" in str(report.errors[0])


def test_validate_raises_with_the_whole_report():
    with pytest.raises(InvalidFrameworkError) as error:
        files.validate(framework_yaml().replace("rank: 2", "rank: 1"), "yaml")
    assert error.value.message == "1 error found; nothing was imported."
    assert len(error.value.report.errors) == 1


def test_file_formats_are_guessed_from_the_name():
    assert files.detect_format("ladder.CSV", b"") == "csv"
    assert files.detect_format("engineering.md", b"") == "monzo"
    assert files.detect_format("pm.yaml", b"") == "yaml"


# --- every problem of a file at once --------------------------------------------------------


def test_a_structural_problem_and_a_rule_broken_elsewhere_are_both_listed():
    text = (
        framework_yaml(levels=3)
        .replace("    rank: 1\n", "    rank: 1\n    colour: blue\n", 1)
        .replace("code: L3", "code: L2")
    )
    found = errors_of(text)
    assert found == [
        "tracks[0].levels[0].colour: is not a known key here (known: code, title, rank, "
        "summary, scope, typical_experience, decision_rights) (line 11)",
        'tracks[0].levels[1].code: "L2" is used twice (line 17)',
        'tracks[0].levels[2].code: "L2" is used twice (line 25)',
    ]


def test_a_key_written_twice_does_not_hide_a_delegation_out_of_range():
    text = (
        framework_yaml(levels=3)
        .replace("name: Sample\n", "name: Sample\nname: Sample again\n", 1)
        .replace("delegation: 3", "delegation: 9")
    )
    found = errors_of(text)
    assert found == [
        "name: appears twice in the same mapping (first on line 3); keep one (line 4)",
        "tracks[0].levels[2].decision_rights[0].delegation: 9 is not between 1 (tell) and "
        "7 (delegate) (line 32)",
    ]


def test_a_problem_is_not_reported_again_through_the_stand_in_value_read_past_it():
    # A rank that is not a number reads as 0: no second error says 0 is too low. A level
    # without a code: the cells keyed by its code are not called unknown levels.
    text = (
        framework_yaml(levels=3)
        .replace("rank: 2", "rank: high")
        .replace("  - code: L3\n    title", "  - title")
    )
    found = errors_of(text)
    assert found == [
        "tracks[0].levels[1].rank: must be a whole number, not text (line 18)",
        'tracks[0].levels[2]: "code" is required (line 24)',
    ]


def test_a_yaml_syntax_error_stops_at_that_line():
    text = framework_yaml(levels=3).replace("code: L3", "code: L2").replace("rank: 2", "rank: [2")
    found = errors_of(text)
    assert len(found) == 1 and found[0].startswith("not valid YAML")


def test_a_monzo_page_lists_every_problem_in_one_round():
    # Problems of the front matter and a rule every framework follows (two topics of one name),
    # in the order of the file, each with its line and the topic's place in the file.
    doc, report = monzo_format.parse(MONZO_PROBLEMS)
    assert doc is None
    assert [str(problem) for problem in report.errors] == [
        'topics[0].name: "communication" is used twice (line 5)',
        "topics[0].content[0].level: 0 is not a level (in Communication): use a whole number "
        "from 1 to 30 (line 8)",
        "topics[0].content[1].criteria: must be a list, not text (line 12)",
        'topics[1].name: "communication" is used twice (line 13)',
        "topics[2].name: is required (line 19)",
    ]
    with pytest.raises(InvalidFrameworkError) as error:
        files.validate(MONZO_PROBLEMS, "monzo")
    assert error.value.message == "5 errors found; nothing was imported."
    assert [p.line for p in error.value.report.errors] == MONZO_PROBLEM_LINES


def test_a_monzo_example_too_long_is_named_by_its_keys_on_its_line():
    example = "'Wrote the decision record for the payments migration'"
    text = MONZO.replace(example, "'" + "x" * 1001 + "'")
    line = text[: text.index("x" * 1001)].count("\n") + 1
    doc, report = monzo_format.parse(text)
    assert doc is None
    assert [str(problem) for problem in report.errors] == [
        "topics[0].content[1].exampleCriteria[0].examples[0]: is 1,001 characters long; an "
        f"indicator may have at most 1,000. Shorten it. (line {line})"
    ]


def test_a_monzo_level_that_is_not_one_is_not_reported_again_as_a_track_without_levels():
    text = MONZO.replace("levels: 3\n", "").replace("level: 1", "level: one")
    text = text.replace("level: 2", "level: 0")
    doc, report = monzo_format.parse(text)
    assert doc is None
    assert [p.line for p in report.errors] == [9, 13, 23]
    assert all("is not a level" in p.message for p in report.errors)
