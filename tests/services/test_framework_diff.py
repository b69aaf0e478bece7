"""The diff between two framework versions: matched by keys, with word-level text changes."""

from __future__ import annotations

import copy

import pytest
import yaml

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import CellStatus, DaciRole, IndicatorKind, Role, User
from app.policy import SYSTEM
from app.services.frameworks import files, history, versions
from app.services.frameworks.diff import Segment, diff_documents, word_diff
from app.services.frameworks.document import FrameworkDoc
from tests.framework_samples import framework_data, framework_yaml


def document(data: dict) -> FrameworkDoc:
    doc, _report = files.validate(yaml.safe_dump(data, sort_keys=False), "yaml")
    return doc


def edited(data: dict, change) -> dict:
    new = copy.deepcopy(data)
    change(new)
    return new


def diff_of(change, **sample):
    data = framework_data(**sample)
    return diff_documents(document(data), document(edited(data, change)))


def competency(data: dict, area: int, index: int) -> dict:
    return data["areas"][area]["competencies"][index]


# --- word_diff ----------------------------------------------------------------------------------


def test_word_diff_marks_exactly_the_changed_words():
    assert word_diff(
        "Joins customer interviews and writes up what was learned within a day.",
        "Runs customer interviews and shares what was learned within two days.",
    ) == [
        Segment("removed", "Joins"),
        Segment("added", "Runs"),
        Segment("same", " customer interviews and "),
        Segment("removed", "writes up"),
        Segment("added", "shares"),
        Segment("same", " what was learned within "),
        Segment("removed", "a day"),
        Segment("added", "two days"),
        Segment("same", "."),
    ]


def test_word_diff_keeps_punctuation_apart_and_spaces_outside_the_marks():
    assert word_diff("Writes the spec.", "Writes the spec for the team.") == [
        Segment("same", "Writes the spec"),
        Segment("added", " for the team"),  # the old text has no space before its full stop
        Segment("same", "."),
    ]
    assert word_diff("Owns a launch end to end", "Owns a launch") == [
        Segment("same", "Owns a launch"),
        Segment("removed", " end to end"),
    ]
    assert word_diff("Owns a small launch", "Owns a large launch") == [
        Segment("same", "Owns a "),
        Segment("removed", "small"),
        Segment("added", "large"),
        Segment("same", " launch"),
    ]
    [_same, added, _stop] = word_diff("Writes the spec.", "Writes the spec for the team.")
    assert (added.lead, added.words) == (" ", "for the team")


def test_word_diff_folds_a_lone_short_word_between_two_changes():
    # Without folding: <del>clear</del><ins>short</ins> a <del>spec</del><ins>brief</ins>.
    assert word_diff("Writes clear a spec now", "Writes short a brief now") == [
        Segment("same", "Writes "),
        Segment("removed", "clear a spec"),
        Segment("added", "short a brief"),
        Segment("same", " now"),
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", "A new text."),
        ("An old text.", ""),
        ("Same words here", "Same words here"),
        ("one two three four five", "zero two four six"),
        ("Line one.\nLine two, with more.", "Line one.\n\nLine 2, with less."),
        ("With light guidance.", "With light guidance and growing independence."),
        ("Delete the first word", "the first word"),
        ("first word", "Insert first word"),
    ],
)
def test_word_diff_keeps_every_word_of_both_texts(old, new):
    segments = word_diff(old, new)
    old_side = "".join(s.text for s in segments if s.kind != "added")
    new_side = "".join(s.text for s in segments if s.kind != "removed")
    assert old_side.split() == old.split() and " ".join(old_side.split()) == " ".join(old.split())
    assert " ".join(new_side.split()) == " ".join(new.split())
    assert all(s.text == s.text.rstrip() for s in segments if s.kind != "same")


# --- whole documents ------------------------------------------------------------------------------


def test_identical_documents_make_an_empty_diff():
    data = framework_data(levels=4, areas=3, per_area=3, tracks=2)
    diff = diff_documents(document(data), document(copy.deepcopy(data)))
    assert diff.is_empty
    assert diff.summary == "No differences"
    assert diff.counts == []


def test_rewrapped_text_is_no_change():
    diff = diff_of(
        lambda d: competency(d, 0, 0)["expectations"]["L1"].update(text="Does  skill\n0.0 at L1.")
    )
    assert diff.is_empty


def test_framework_name_and_description():
    diff = diff_of(lambda d: d.update(name="Product ladder", description="How we grow."))
    assert [(c.label, c.old, c.new) for c in diff.framework] == [
        ("Name", "Sample", "Product ladder"),
        ("Description", "", "How we grow."),
    ]
    assert diff.summary == "Framework name changed, framework description changed"


def test_levels_added_removed_and_renamed_by_code():
    def change(d):
        levels = d["tracks"][0]["levels"]
        levels[1]["title"] = "Product Manager"  # L2 renamed
        del levels[2]  # L3 removed
        levels.append({"code": "L4", "title": "Staff", "rank": 9, "summary": "Leads."})
        for area in d["areas"]:
            for c in area["competencies"]:
                c["expectations"].pop("L3")
                c["expectations"]["L4"] = {"status": "defined", "text": "Sets the bar."}

    diff = diff_of(change)
    assert [ref.level.code for ref in diff.levels_added] == ["L4"]
    assert diff.levels_added[0].track == "Track 0"
    assert [name for name, _cell in diff.levels_added[0].cells] == [
        "Skill 0.0",
        "Skill 0.1",
        "Skill 1.0",
        "Skill 1.1",
    ]
    assert [ref.level.code for ref in diff.levels_removed] == ["L3"]
    [renamed] = diff.levels_renamed
    assert (renamed.code, renamed.title_change.old, renamed.title_change.new) == (
        "L2",
        "Level 2",
        "Product Manager",
    )
    assert not renamed.is_changed
    assert diff.cells == []  # the cells of added or removed levels are not "changed cells"
    assert diff.summary == "1 level added, 1 level removed, 1 level renamed"


def test_level_fields_and_decision_rights():
    def change(d):
        level = d["tracks"][0]["levels"][0]
        level.update(rank=0, summary="Learns the craft of level 1.", scope="A feature.")
        level["decision_rights"] = [
            {"decision": "What to build next sprint", "role": "approver", "delegation": 2},
            {"decision": "Who joins interviews", "role": "driver", "delegation": 6},
        ]
        d["tracks"][0]["levels"][1]["decision_rights"] = []

    diff = diff_of(change)
    first, second = diff.levels_changed
    assert first.code == "L1" and not first.is_renamed
    assert [(c.label, c.old, c.new) for c in first.changes] == [
        ("Rank", "1", "0"),
        ("Summary", "Summary of level 1.", "Learns the craft of level 1."),
        ("Scope", "", "A feature."),
    ]
    summary = first.changes[1]
    assert summary.segments == (
        Segment("removed", "Summary"),
        Segment("added", "Learns the craft"),
        Segment("same", " of level 1."),
    )
    [changed] = first.rights_changed
    assert (changed.old.role, changed.new.role) == (DaciRole.DRIVER, DaciRole.APPROVER)
    assert (changed.old.delegation, changed.new.delegation) == (1, 2)
    assert changed.segments == (
        Segment("same", "What to build next"),
        Segment("added", " sprint"),
    )
    assert [item.new.decision for item in first.rights_added] == ["Who joins interviews"]
    assert first.rights_removed == []
    assert [item.old.decision for item in second.rights_removed] == ["What to build next"]
    assert diff.summary == "2 levels changed"


def test_a_decision_right_with_another_role_only_is_changed_not_replaced():
    diff = diff_of(
        lambda d: d["tracks"][0]["levels"][2]["decision_rights"][0].update(role="informed")
    )
    [level] = diff.levels_changed
    [item] = level.rights
    assert item.kind == "changed"
    assert item.segments == (Segment("same", "What to build next"),)


def test_competencies_added_removed_renamed_by_key():
    def change(d):
        competency(d, 0, 0)["name"] = "Customer research"
        del d["areas"][1]["competencies"][1]
        d["areas"][1]["competencies"].append(
            {
                "key": "coaching",
                "name": "Coaching",
                "expectations": {"L2": {"status": "defined", "text": "Coaches one PM."}},
            }
        )

    diff = diff_of(change)
    assert [(c.key, c.name, c.area) for c in diff.competencies_added] == [
        ("coaching", "Coaching", "Area 1")
    ]
    assert [code for code, _cell in diff.competencies_added[0].cells] == ["L2"]
    assert [(c.key, c.name) for c in diff.competencies_removed] == [("skill-1-1", "Skill 1.1")]
    [renamed] = diff.competencies_renamed
    assert (renamed.key, renamed.name_change.old, renamed.name_change.new) == (
        "skill-0-0",
        "Skill 0.0",
        "Customer research",
    )
    assert diff.competencies_moved == []
    assert diff.cells == []
    assert diff.summary == "1 competency added, 1 competency removed, 1 competency renamed"


def test_a_competency_in_another_area_is_moved_not_removed_and_added():
    def change(d):
        moving = d["areas"][0]["competencies"].pop(1)
        d["areas"][1]["competencies"].insert(0, moving)

    diff = diff_of(change)
    assert diff.competencies_added == [] and diff.competencies_removed == []
    [moved] = diff.competencies_moved
    assert (moved.key, moved.area_change.old, moved.area_change.new) == (
        "skill-0-1",
        "Area 0",
        "Area 1",
    )
    assert diff.summary == "1 competency moved"


def test_competency_description_and_tracks():
    def change(d):
        competency(d, 0, 0)["description"] = "What this skill is really about."
        competency(d, 0, 1)["tracks"] = ["track-0"]
        competency(d, 0, 1)["expectations"] = {
            code: cell
            for code, cell in competency(d, 0, 1)["expectations"].items()
            if code.startswith("T0")
        }

    diff = diff_of(change, tracks=2)
    first, second = diff.competencies_changed
    assert [(c.label, c.new) for c in first.changes] == [
        ("Description", "What this skill is really about.")
    ]
    assert [(c.label, c.old, c.new) for c in second.changes] == [
        ("Tracks", "All tracks", "Track 0")
    ]
    assert diff.cells == []  # the dropped track's cells go with the track change
    assert diff.summary == "2 competencies changed"


def test_adding_a_track_does_not_change_competencies_that_apply_to_all():
    def change(d):
        d["tracks"].append(
            {
                "key": "management",
                "name": "Management",
                "levels": [{"code": "M1", "title": "Lead", "rank": 10}],
            }
        )

    diff = diff_of(change)
    assert [t.name for t in diff.tracks_added] == ["Management"]
    assert [ref.level.code for ref in diff.levels_added] == ["M1"]
    assert diff.competencies_changed == []
    assert diff.summary == "1 track added, 1 level added"


def test_cell_text_change_carries_word_segments():
    diff = diff_of(
        lambda d: competency(d, 1, 0)["expectations"]["L2"].update(
            text="Does skill 1.0 well at L2, for the whole team."
        )
    )
    [group] = diff.cells
    assert (group.key, group.name, group.area) == ("skill-1-0", "Skill 1.0", "Area 1")
    [cell] = group.cells
    assert (cell.level_code, cell.level_title, cell.status) == ("L2", "Level 2", None)
    assert cell.text.old == "Does skill 1.0 at L2."
    assert cell.text.segments == (
        Segment("same", "Does skill 1.0 "),
        Segment("added", "well"),
        Segment("same", " at L2"),
        Segment("added", ", for the whole team"),
        Segment("same", "."),
    )
    assert cell.indicators == []
    assert diff.summary == "1 cell changed"


def test_cell_status_change():
    def change(d):
        competency(d, 0, 0)["expectations"]["L3"] = {"status": "not_applicable"}
        competency(d, 0, 1)["expectations"].pop("L1")  # no entry: empty

    diff = diff_of(change)
    first, second = diff.cells
    [na] = first.cells
    assert (na.level_code, na.status.old, na.status.new) == ("L3", "Defined", "Not applicable")
    assert na.text.new == "" and na.new.status is CellStatus.NOT_APPLICABLE
    [emptied] = second.cells
    assert (emptied.level_code, emptied.status.new) == ("L1", "Empty")
    assert [item.kind for item in emptied.indicators] == ["removed"]
    assert diff.summary == "2 cells changed"


def test_indicators_added_removed_and_changed():
    def change(d):
        d["areas"][0]["competencies"][0]["expectations"]["L1"]["indicators"] = [
            {"kind": "criterion", "text": "An example at L1, checked."},  # changed: kind and text
            {"kind": "signal", "text": "Asks good questions."},  # added
        ]
        d["areas"][0]["competencies"][0]["expectations"]["L2"]["indicators"] = [
            {"kind": "example", "text": "Something else entirely, not like before."}
        ]

    diff = diff_of(change)
    [group] = diff.cells
    l1, l2 = group.cells
    assert l1.text is None and l1.status is None
    changed, added = l1.indicators
    assert changed.kind == "changed"
    assert (changed.old.kind, changed.new.kind) == (IndicatorKind.EXAMPLE, IndicatorKind.CRITERION)
    assert changed.segments == (
        Segment("same", "An example at L1"),
        Segment("added", ", checked"),
        Segment("same", "."),
    )
    assert (added.kind, added.new.text) == ("added", "Asks good questions.")
    # Too different to be a rewording: one removed, one added.
    assert [item.kind for item in l2.indicators] == ["added", "removed"]
    assert diff.summary == "2 cells changed"


def test_areas_added_removed_renamed_and_reordered():
    def change(d):
        d["areas"][0]["name"] = "Discovery"
        d["areas"][1]["description"] = "Shipping things."
        d["areas"].reverse()
        removed = d["areas"].pop()  # area-0 goes, with its competencies
        removed_keys = [c["key"] for c in removed["competencies"]]
        assert removed_keys == ["skill-0-0", "skill-0-1"]
        d["areas"].append(
            {
                "key": "strategy",
                "name": "Strategy",
                "competencies": [{"key": "vision", "name": "Vision", "expectations": {}}],
            }
        )

    diff = diff_of(change, areas=3)
    assert [(a.key, a.name) for a in diff.areas_added] == [("strategy", "Strategy")]
    assert [a.key for a in diff.areas_removed] == ["area-0"]
    [described] = diff.areas_changed
    assert described.key == "area-1" and not described.is_renamed
    assert [(c.label, c.new) for c in described.changes] == [("Description", "Shipping things.")]
    assert diff.area_order == ["Area 2", "Area 1", "Strategy"]
    assert diff.summary == (
        "1 area added, 1 area removed, 1 area changed, 1 competency added, "
        "2 competencies removed, areas reordered"
    )


def test_an_area_rename_is_not_a_reorder():
    diff = diff_of(lambda d: d["areas"][1].update(name="Delivery"))
    [renamed] = diff.areas_renamed
    assert (renamed.name_change.old, renamed.name_change.new) == ("Area 1", "Delivery")
    assert diff.area_order is None
    assert diff.summary == "1 area renamed"


def test_summary_counts_in_page_order():
    def change(d):
        d["tracks"][0]["levels"][0]["title"] = "Associate"
        competency(d, 0, 0)["name"] = "Research"
        for code in ("L1", "L2", "L3"):
            competency(d, 1, 1)["expectations"][code]["text"] = f"Does it better at {code}."
        d["areas"][1]["competencies"].append({"key": "new-one", "name": "New", "expectations": {}})

    assert diff_of(change).summary == (
        "1 level renamed, 1 competency added, 1 competency renamed, 3 cells changed"
    )


# --- through the database -----------------------------------------------------------------------


def test_a_stored_version_diffs_empty_against_its_own_file(ctx):
    text = framework_yaml(levels=3, areas=2, per_area=2, tracks=2)
    one, _ = files.import_text(SYSTEM, text, "yaml", publish=True)
    two = versions.new_draft(SYSTEM, one)
    comparison = history.compare_versions(SYSTEM, "sample", one.number, two.number)
    assert comparison.diff.is_empty
    assert comparison.numbers == [2, 1]


def test_comparing_with_a_hidden_draft_is_not_found(ctx):
    data = framework_data()
    files.import_text(SYSTEM, yaml.safe_dump(data), "yaml", publish=True)
    draft, _ = files.import_text(
        SYSTEM, yaml.safe_dump(edited(data, lambda d: d.update(name="Changed"))), "yaml"
    )
    pm = User(email="pm@example.com", name="Pat Pm", role=Role.PM)
    head = User(email="head@example.com", name="Hana Head", role=Role.HEAD)
    db.session.add_all([pm, head])
    db.session.flush()
    with pytest.raises(NotFoundError):
        history.compare_versions(pm, "sample", 1, draft.number)
    assert [e.version.number for e in history.version_history(pm, "sample").entries] == [1]
    comparison = history.compare_versions(head, "sample", 1, draft.number)
    assert comparison.diff.summary == "Framework name changed"


def test_history_names_who_published(ctx):
    head = User(email="head@example.com", name="Hana Head", role=Role.HEAD)
    db.session.add(head)
    db.session.flush()
    first, _ = files.import_text(head, framework_yaml(), "yaml")
    versions.publish(head, first, changelog="First ladder.")
    second = versions.new_draft(head, first)
    entries = history.version_history(head, "sample").entries
    assert [(e.version.number, e.based_on, e.previous) for e in entries] == [
        (2, 1, 1),
        (1, None, None),
    ]
    assert entries[1].published_by == "Hana Head" and entries[1].created_by == "Hana Head"
    assert entries[0].published_by is None and second.is_draft
