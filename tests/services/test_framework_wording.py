"""How a framework's cells read: the lint's warnings about measures, shared openings and levels
that differ only in scope, each with a case that warns and a near miss that does not."""

from __future__ import annotations

import pytest
import yaml

from app.services.frameworks import csv_format, document, monzo_format, wording, yaml_format
from app.services.frameworks.editing import findings
from tests.framework_samples import framework_data


def warnings_of(data: dict) -> list[str]:
    doc, report = yaml_format.parse(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert doc is not None and report.errors == [], report.errors
    return [problem.message for problem in report.warnings]


def cells(data: dict) -> dict[tuple[str, str], dict]:
    """(competency name, level code) → the cell, to write texts by hand."""
    return {
        (competency["name"], code): cell
        for area in data["areas"]
        for competency in area["competencies"]
        for code, cell in competency["expectations"].items()
    }


# --- a measure for every written cell -----------------------------------------------------------


def test_a_written_cell_without_a_measure_says_so_in_words():
    data = framework_data(levels=2, areas=1, per_area=2, measures=True)
    cell = cells(data)[("Skill 0.1", "L2")]
    cell["indicators"] = [i for i in cell["indicators"] if i["kind"] != "measure"]
    assert warnings_of(data) == ["Skill 0.1 at L2 has no measure: say how you will know it is met"]


def test_a_measure_anywhere_in_the_list_counts_and_unwritten_cells_need_none():
    data = framework_data(levels=3, areas=1, per_area=2, measures=True)
    by_place = cells(data)
    moved = by_place[("Skill 0.0", "L2")]["indicators"]
    moved.append(moved.pop(0))  # after the example: still a measure
    by_place[("Skill 0.1", "L3")].clear()
    by_place[("Skill 0.1", "L3")]["status"] = "not_applicable"
    by_place[("Skill 0.0", "L3")].clear()
    by_place[("Skill 0.0", "L3")]["status"] = "empty"
    assert warnings_of(data) == ["the expectation of Skill 0.0 at L3 is empty"]


def test_a_cell_with_several_measures_is_asked_to_keep_one():
    data = framework_data(levels=2, areas=1, per_area=2, measures=True)
    indicators = cells(data)[("Skill 0.1", "L1")]["indicators"]
    indicators.append({"kind": "measure", "text": "Another way to tell."})
    assert warnings_of(data) == [
        "Skill 0.1 at L1 has 2 measures: keep the one that best says how you will know it is met"
    ]


def test_each_wording_warning_says_which_check_found_it():
    data = ladder("Sets the roadmap for their team.", "Sets the roadmap for every team.")
    by_place = cells(data)
    by_place[("Skill 0.0", "L1")]["indicators"].pop(0)
    by_place[("Skill 0.0", "L2")]["indicators"].append({"kind": "measure", "text": "Again."})
    _doc, report = yaml_format.parse(yaml.safe_dump(data, sort_keys=False))
    assert [(w.kind, w.message.split(":")[0].split(",")[0]) for w in report.warnings] == [
        ("no_measure", "Skill 0.0 at L1 has no measure"),
        ("measures", "Skill 0.0 at L2 has 2 measures"),
        ("scope_only", "Skill 0.0 at L2 differs from L1"),
    ]
    # The kind is not part of what a problem says: equal problems stay equal, printed alike.
    first = report.warnings[0]
    plain = document.Problem(first.path, first.message, first.line)
    assert plain == first and str(plain) == str(first)


def test_the_editor_lists_cells_without_a_measure_by_the_warnings_kind(ctx):
    from app.policy import SYSTEM
    from app.services.frameworks import files, store

    version, _ = files.import_text(SYSTEM, yaml.safe_dump(framework_data(levels=1)), "yaml")
    version = store.load_version(version.id)
    path = "areas[0].competencies[0].expectations.L1.indicators"
    worded_otherwise = document.Problem(path, "Skill 0.0 at L1 needs a measure", kind="no_measure")
    same_words = document.Problem(path, f"Skill 0.0 at L1 {wording.NO_MEASURE}")
    found = findings(version, [worded_otherwise, same_words])
    assert [f.is_without_measure for f in found] == [True, False]


def test_the_measure_warning_points_at_the_cells_indicators_and_its_line():
    data = framework_data(levels=1, areas=1, per_area=1)
    text = yaml.safe_dump(data, sort_keys=False)
    _doc, report = yaml_format.parse(text)
    (warning,) = report.warnings
    assert warning.path == "areas[0].competencies[0].expectations.L1.indicators"
    assert text.splitlines()[warning.line - 1].strip() == "indicators:"


# --- openings a level's cells share -------------------------------------------------------------


def level_of(openings: list[str]) -> dict:
    """One level, a competency per opening, each cell with a measure."""
    data = framework_data(levels=1, areas=1, per_area=len(openings), measures=True)
    for n, opening in enumerate(openings):
        cells(data)[(f"Skill 0.{n}", "L1")]["text"] = f"{opening} thing number {n}."
    return data


def test_an_opening_most_cells_of_a_level_share_is_named_with_its_count():
    data = level_of(
        [
            "Shapes how the company",
            "shapes, how the product",  # case and punctuation do not matter
            "Shapes how THE roadmap",
            "Writes the strategy",
            "Coaches other people",
        ]
    )
    assert warnings_of(data) == [
        f'Skill 0.{n} at L1 opens with "{opening}"; 3 of the 5 written cells at L1 open this '
        "way: say what is new at this level in words of its own"
        for n, opening in ((0, "Shapes how the"), (1, "shapes, how the"), (2, "Shapes how THE"))
    ]


def test_two_cells_sharing_an_opening_or_three_of_many_are_not_a_pattern():
    assert warnings_of(level_of(["Shapes how the company", "Shapes how the team", "Writes"])) == []
    many = ["Shapes how the company"] * 3 + [f"Does thing {n} well" for n in range(10)]
    assert warnings_of(level_of(many)) == []  # 3 of 13: under a quarter
    quarter = ["Shapes how the company"] * 3 + [f"Does thing {n} well" for n in range(9)]
    assert len(warnings_of(level_of(quarter))) == 3  # 3 of 12: a quarter


def test_openings_are_counted_per_level():
    data = framework_data(levels=3, areas=1, per_area=3, measures=True)
    for (name, code), cell in cells(data).items():
        cell["text"] = f"Shapes how the {name} works at {code}." if code != "L2" else cell["text"]
    found = warnings_of(data)
    assert len(found) == 6 and not any(" at L2 " in w for w in found)


# --- a level that differs only in scope ---------------------------------------------------------


def ladder(*texts: str) -> dict:
    """One competency up a track of len(texts) levels, with measures."""
    data = framework_data(levels=len(texts), areas=1, per_area=1, measures=True)
    for n, text in enumerate(texts, 1):
        cells(data)[("Skill 0.0", f"L{n}")]["text"] = text
    return data


def test_a_level_that_only_widens_the_scope_is_named():
    data = ladder(
        "Sets the roadmap for their team and explains the trade-offs.",
        "Across the whole company, sets the roadmap and explains the trade-offs.",
        "Sets the roadmap for several product lines and explains the trade-offs.",
    )
    assert warnings_of(data) == [
        f"Skill 0.0 at {code} differs from {below}, the level below, only in scope words (team, "
        "product line, company…): say what the person does differently, not only how far it "
        "reaches"
        for code, below in (("L2", "L1"), ("L3", "L2"))
    ]


def test_a_level_that_adds_a_behaviour_is_not_only_scope():
    data = ladder(
        "Sets the roadmap for their team.",
        "Sets the roadmap across the company and retires bets that no longer pay.",
    )
    assert warnings_of(data) == []


def test_the_same_text_warns_once_as_the_same_as_the_level_below():
    data = ladder("Sets the roadmap for their team.", "Sets the roadmap for their team.")
    assert warnings_of(data) == ["is the same as at L1, the level below"]


def test_a_track_is_compared_along_itself_and_its_first_level_with_the_step_below_it():
    data = framework_data(levels=2, areas=1, per_area=1, tracks=2, measures=True)
    for (_, code), cell in cells(data).items():  # ranks: T0L1 1, T0L2 2, T1L1 3, T1L2 4
        cell["text"] = {
            "T0L1": "Sets the roadmap for their team.",
            "T0L2": "Sets the roadmap for the company.",
            "T1L1": "Sets the roadmap for their team.",
            "T1L2": "Sets the roadmap for the company.",
        }[code]
    found = warnings_of(data)
    assert [w.split(",")[0] for w in found] == [
        "Skill 0.0 at T0L2 differs from T0L1",
        "Skill 0.0 at T1L1 differs from T0L2",  # the first of its track: the level ranked below
        "Skill 0.0 at T1L2 differs from T1L1",  # not from T0L2: its own track comes first
    ]


def two_paths(lead: str, *, senior_status: str = "defined") -> dict:
    """L1 → L2 → L3 (ranks 1, 2, 3) and a management track whose first level LEAD shares rank 3
    with L3, as Lead PM shares Group PM's rank: both are steps up from Senior PM."""
    data = ladder(
        "Joins discovery interviews for their squad.",
        "Runs discovery for their team.",
        "Runs discovery for several teams and teaches the team to run it.",
    )
    data["tracks"][0]["levels"][2]["rank"] = 3
    data["tracks"].append(
        {
            "key": "management",
            "name": "Management",
            "levels": [{"code": "LEAD", "title": "Lead", "rank": 3}],
        }
    )
    expectations = data["areas"][0]["competencies"][0]["expectations"]
    expectations["LEAD"] = {
        "status": "defined",
        "text": lead,
        "indicators": [{"kind": "measure", "text": "What shows it at LEAD."}],
    }
    if senior_status != "defined":
        expectations["L2"] = {"status": senior_status}
    return data


def test_a_first_manager_level_is_read_against_the_level_ranked_below_it():
    assert warnings_of(two_paths("Runs discovery across the company.")) == [
        "Skill 0.0 at LEAD differs from L2, the level below, only in scope words (team, "
        "product line, company…): say what the person does differently, not only how far it "
        "reaches"
    ]  # L3 has the same rank, so it is beside LEAD, not below it
    assert warnings_of(two_paths("Runs discovery for their team.")) == [
        "is the same as at L2, the level below"
    ]
    # As along a track, an unwritten step below is no comparison: not L1, two steps down.
    skipped = two_paths("Joins discovery interviews company-wide.", senior_status="not_applicable")
    assert not [w for w in warnings_of(skipped) if "LEAD differs" in w]
    assert warnings_of(two_paths("Coaches the PMs on their team to run discovery.")) == []


@pytest.mark.parametrize(
    ("below", "above"),
    [
        ("Learns the domain.", "Learns the business."),
        ("Writes their own specs.", "Writes the specs."),
        ("Documents every function of the API.", "Documents the API."),
        ("Picks one metric that matters.", "Picks the metric that matters."),
    ],
)
def test_words_that_are_often_not_scope_are_not_taken_out(below, above):
    assert warnings_of(ladder(below, above)) == []


@pytest.mark.parametrize(
    ("below", "above"),
    [
        ("Sets goals for their team.", "Sets goals at company level."),
        ("Reviews specs for their team.", "Reviews specs for other teams."),
        ("Explains the roadmap to their team.", "Explains the roadmap across the company."),
        ("Tracks outcomes for each team.", "Tracks outcomes at organization level."),
        ("Tracks outcomes across several teams.", "Tracks outcomes at product level."),
    ],
)
def test_levels_and_other_teams_are_scope_too(below, above):
    assert [w.split(",")[0] for w in warnings_of(ladder(below, above))] == [
        "Skill 0.0 at L2 differs from L1"
    ]


def test_scope_words_are_one_list_and_phrases_keep_their_other_meanings():
    assert "company-wide" in wording.SCOPE_WORDS and "product line" in wording.SCOPE_WORDS
    assert wording.without_scope("Owns the product strategy") != wording.without_scope(
        "Owns the strategy"
    )  # "product" alone is not scope
    assert wording.without_scope("Leads their team's rituals.") == wording.without_scope(
        "leads rituals company-wide"
    )


def test_wording_waits_until_the_file_has_no_errors():
    data = framework_data(levels=1, areas=1, per_area=1)
    data["tracks"][0]["levels"][0]["rank"] = -1
    _doc, report = yaml_format.parse(yaml.safe_dump(data, sort_keys=False))
    assert report.errors and not any("measure" in w.message for w in report.warnings)


# --- measures through the file formats ----------------------------------------------------------


def test_measures_round_trip_through_yaml_and_csv_in_their_order():
    data = framework_data(levels=2, measures=True)
    moved = cells(data)[("Skill 1.1", "L2")]["indicators"]
    moved.append(moved.pop(0))  # a measure after the example stays after it
    doc, report = yaml_format.parse(yaml.safe_dump(data, sort_keys=False))
    assert report.errors == [] and report.warnings == []
    kinds = [i.kind.value for i in doc.areas[1].competencies[1].expectations["L2"].indicators]
    assert kinds == ["example", "measure"]
    text = yaml_format.dump(doc)
    assert "- kind: measure\n          text: What shows Skill 0.0 at L1." in text
    assert yaml_format.parse(text)[0] == doc
    table = csv_format.dump(doc)
    assert ",measure,,,What shows Skill 0.0 at L1.\n" in table
    again, report = csv_format.parse(table)
    assert report.errors == [] and again == doc
    assert yaml_format.dump(again) == text


def test_an_unknown_indicator_kind_lists_the_measure_first_as_the_docs_do():
    data = framework_data(levels=1, areas=1, per_area=1)
    cells(data)[("Skill 0.0", "L1")]["indicators"][0]["kind"] = "anecdote"
    _doc, report = yaml_format.parse(yaml.safe_dump(data, sort_keys=False))
    assert [e.message for e in report.errors] == [
        '"anecdote" is not one of measure, criterion, example, signal'
    ]


MONZO_ONE_CELL = """\
---
title: 'Sample'
levels: 1
topics:
  - name: 'skill-0-0'
    title: 'Skill 0.0'
    content:
      - level: 1
        criteria:
          - 'Does skill 0.0 at L1.'
---
"""


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (yaml_format.parse, yaml.safe_dump(framework_data(levels=1, areas=1, per_area=1))),
        (
            csv_format.parse,
            csv_format.dump(
                yaml_format.parse(yaml.safe_dump(framework_data(levels=1, areas=1, per_area=1)))[0]
            ),
        ),
        (monzo_format.parse, MONZO_ONE_CELL),
    ],
    ids=["yaml", "csv", "monzo"],
)
def test_check_is_the_same_for_every_source(parse, text):
    doc, report = parse(text)
    assert doc is not None and report.errors == []
    expected = [("no_measure", "Skill 0.0 at L1 has no measure: say how you will know it is met")]
    assert [(w.kind, w.message) for w in report.warnings] == expected
    again = document.check(doc, document.Report())  # what the editor runs on a stored draft
    assert [(w.kind, w.message) for w in again.warnings] == expected
