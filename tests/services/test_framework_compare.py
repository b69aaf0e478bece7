"""Word differences and level comparisons, without HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.core.errors import ValidationError
from app.models import CellStatus, DaciRole, Expectation, Indicator, IndicatorKind
from app.policy import SYSTEM
from app.services.frameworks import compare, ladder, store
from app.services.frameworks.compare import (
    compare_decision_rights,
    compare_levels,
    compare_paths,
    diff_words,
)
from tests.two_paths import import_measured_paths, import_two_paths


def marked(diff) -> tuple[str, str]:
    """Both sides as text, removed words in [-…-] and added ones in {+…+}."""
    before = "".join(f"[-{p.text}-]" if p.is_changed else p.text for p in diff.before)
    after = "".join(f"{{+{p.text}+}}" if p.is_changed else p.text for p in diff.after)
    return before, after


def test_changed_words_are_marked_and_spaces_stay_outside():
    diff = diff_words(
        "Joins customer interviews and writes up what was learned within a day.",
        "Runs customer interviews and writes up what was learned within a week.",
    )
    assert marked(diff) == (
        "[-Joins-] customer interviews and writes up what was learned within a [-day-].",
        "{+Runs+} customer interviews and writes up what was learned within a {+week+}.",
    )
    assert not diff.is_same and not diff.is_rewrite


def test_punctuation_is_its_own_token():
    assert marked(diff_words("Ships the feature.", "Ships the feature, on time.")) == (
        "Ships the feature.",
        "Ships the feature{+, on time+}.",
    )


def test_a_short_word_between_two_changes_joins_them():
    before, after = marked(diff_words("Learns the craft well", "Owns the outcome well"))
    assert (before, after) == ("[-Learns the craft-] well", "{+Owns the outcome+} well")


def test_same_text_and_whitespace_only_changes_are_the_same():
    assert diff_words("Leads   the team.", "Leads the\nteam.").is_same
    assert diff_words("", "").is_same


def test_a_rewritten_text_is_recognised():
    diff = diff_words(
        "Keeps a steady rhythm of customer contact for their area.",
        "Designs research for ambiguous questions and hard-to-reach segments.",
    )
    assert diff.is_rewrite and diff.similarity < 0.4


def right(decision: str, role: str = "driver", delegation: int = 4):
    return SimpleNamespace(decision=decision, role=DaciRole(role), delegation=delegation)


def test_decision_rights_pair_by_wording_then_by_similarity():
    before = [
        right("Order of work within a sprint", delegation=4),
        right("What goes into a sprint for their team", delegation=6),
        right("Which customers to interview", "contributor", 3),
    ]
    after = [
        right("What goes into a sprint for the teams in their area", delegation=7),
        right("Order of work within a sprint", delegation=4),
        right("Quarterly goals", delegation=4),
    ]
    result = compare_decision_rights(before, after)
    assert [r.change for r in result] == ["changed", "same", "added", "removed"]
    reworded = result[0]
    assert reworded.before is before[1] and reworded.delegation_trend == 1
    assert marked(reworded.decision)[1] == (
        "What goes into a sprint for {+the teams in+} their {+area+}"
    )
    assert result[3].before is before[2] and result[3].after is None


# --- one level against two: two paths ----------------------------------------------------------


@pytest.fixture
def two_paths(ctx, app):
    import_two_paths(app)
    return store.version_for(SYSTEM, "two-paths", 1)


def path_cells(paths) -> dict[str, tuple]:
    """Each competency's row: the text compared from, then each path's (tag-like) state."""

    def state(cell):
        if cell.after is None:
            return "not on this track"
        if cell.before is None:
            return "new: " + cell.after.text
        if cell.is_same:
            return "same"
        if cell.text is None:
            return cell.after.status.value
        return marked(cell.text)[1]

    return {
        row.competency.name: (row.before.text if row.before else None, *map(state, row.paths))
        for area in paths.areas
        for row in area.cells
    }


def test_one_level_is_compared_with_two_others_competency_by_competency(two_paths):
    paths = compare_paths(two_paths, "SPM", "GPM", "LPM")
    assert paths.before.code == "SPM"
    assert [level.code for level in paths.targets] == ["GPM", "LPM"]
    assert [area.area.name for area in paths.areas] == ["Craft", "Leading product managers"]
    assert path_cells(paths) == {
        "Customer research": (
            "Designs research for ambiguous questions in their area.",
            "Designs research for ambiguous questions {+across+} their {+product line+}.",
            "Designs research for ambiguous questions {+with each of+} their {+reports+}.",
        ),
        "Writing": ("Writes documents that lead to a decision.", "same", "not on this track"),
        "Role clarity & decision rights": (
            None,
            "not on this track",
            "new: Makes each report's role expectations and decision rights explicit.",
        ),
    }
    # Each path is the two-level comparison, unchanged: its own counts and decision rights.
    to_gpm, to_lpm = paths.paths
    assert (to_gpm.changed_count, len(to_gpm.cells)) == (1, 2)
    assert (to_lpm.changed_count, len(to_lpm.cells)) == (3, 3)
    assert [r.change for r in to_lpm.decision_rights] == ["changed", "added", "removed"]
    assert to_lpm.decision_rights[0].delegation_trend == 1


def test_attributes_line_up_and_an_empty_one_on_a_path_stays_empty(two_paths):
    paths = compare_paths(two_paths, "SPM", "GPM", "LPM")
    rows = {a.label: (a.before, *[(p.after, p.is_same) for p in a.paths]) for a in paths.attributes}
    assert rows["Scope"] == ("One product area.", ("One product line.", False), ("", False))
    assert rows["Summary"][2] == ("Manages two to five product managers for the first time.", False)
    assert "Typical experience" not in rows  # written at none of the three levels


@pytest.mark.parametrize(
    ("c", "message"),
    [
        ("ZZ", 'There is no level "ZZ" in this version. Choose one of PM, SPM, GPM, PPM, LPM.'),
        ("SPM", "Choose two different levels: both are SPM."),
        ("GPM", "Choose two different levels to compare with: both are GPM."),
        ("", "Choose the second level to compare with (PM, SPM, GPM, PPM, LPM)."),
    ],
)
def test_a_bad_second_level_is_refused_on_its_own_field(two_paths, c, message):
    with pytest.raises(ValidationError) as refused:
        compare_paths(two_paths, "SPM", "GPM", c)
    assert (refused.value.field, refused.value.message) == ("c", message)


def test_a_bad_first_pair_is_refused_before_the_second_level(two_paths):
    with pytest.raises(ValidationError) as refused:
        compare_paths(two_paths, "SPM", "SPM", "ZZ")
    assert refused.value.field == "b"


@pytest.mark.parametrize(
    ("code", "steps"),
    [
        ("PM", ["SPM"]),  # LPM is two ranks up: not offered beside the next level
        ("SPM", ["GPM", "LPM"]),
        ("GPM", ["PPM"]),
        # The top of its track: PPM is another job, not the way up from a first-line manager.
        ("LPM", []),
        ("PPM", []),
    ],
)
def test_where_next_is_the_next_level_and_beside_it_the_first_level_above_on_other_tracks(
    two_paths, code, steps
):
    page = ladder.level_page(SYSTEM, "two-paths", 1, code)
    assert [step.level.code for step in page.next_steps] == steps


# --- measures ----------------------------------------------------------------------------------


@pytest.fixture
def measured(ctx, app):
    import_measured_paths(app)
    return store.version_for(SYSTEM, "measured-paths", 1)


def test_a_change_to_the_measure_alone_is_a_measure_change_with_its_words_marked(measured):
    writing = next(
        c for c in compare_levels(measured, "SPM", "GPM").cells if c.competency.key == "writing"
    )
    assert not writing.is_same and writing.is_measure_change
    assert [marked(m.text) for m in writing.measure_diffs] == [
        (
            "A decision is recorded within a [-week-] of each document.",
            "A decision is recorded within a {+day+} of each document.",
        )
    ]


def test_a_changed_text_is_not_a_measure_change_but_its_measure_is_marked_too(measured):
    research = next(
        c for c in compare_levels(measured, "SPM", "GPM").cells if c.competency.key == "research"
    )
    assert not research.is_measure_change and not research.text.is_same
    assert [marked(m.text)[1] for m in research.measure_diffs] == [
        "Decisions in their {+product line+} cite research a reviewer can trace."
    ]


def test_a_cell_with_one_side_unwritten_has_no_measure_pairs(measured):
    to_ppm = compare_levels(measured, "GPM", "PPM")
    research = next(c for c in to_ppm.cells if c.competency.key == "research")
    assert research.before_measures and research.after_measures == []
    assert research.measure_diffs == () and not research.is_measure_change


@pytest.mark.parametrize(
    ("status", "measures"),
    [(CellStatus.DEFINED, ["Decisions cite research."]), (CellStatus.EMPTY, [])],
)
def test_an_expectation_has_the_texts_of_its_measures_only_when_written(status, measures):
    indicators = [
        Indicator(position=0, kind=IndicatorKind.EXAMPLE, text="Ran a study."),
        Indicator(position=1, kind=IndicatorKind.MEASURE, text="Decisions cite research."),
    ]
    assert Expectation(status=status, text="", indicators=indicators).measures == measures


@pytest.mark.parametrize(
    ("text", "gist"),
    [
        ("Owns the P&L. Sets the plan.", "Owns the P&L."),
        ("Has a Plan B. Then more.", "Has a Plan B."),
        ("Leads teams, e.g. Payments. Then more.", "Leads teams, e.g. Payments."),
        ("One sentence only", "One sentence only"),
    ],
)
def test_a_gist_is_the_first_sentence(text, gist):
    assert compare.first_sentence(text) == gist
