"""A competency's short name, the calibration grid's column header: set in the editor, kept by
new drafts, publishing, diffs and every file format, and made from the name when left empty."""

from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.policy import SYSTEM
from app.services.frameworks import (
    csv_format,
    editing,
    files,
    monzo_format,
    store,
    versions,
    yaml_format,
)
from app.services.frameworks.diff import diff_documents
from app.services.frameworks.document import InvalidFrameworkError
from app.services.promotions.calibration.grid import Column, _columns, abbreviate
from tests.framework_samples import framework_yaml
from tests.services.test_framework_files import MONZO

SHORT = "    short_name: Stakeholders\n"


def with_short_name(text: str, short: str = SHORT) -> str:
    """The sample file with a short name on its first competency."""
    return text.replace("    name: Skill 0.0\n", "    name: Skill 0.0\n" + short, 1)


def first_competency(doc):
    return doc.areas[0].competencies[0]


# --- files ------------------------------------------------------------------------------------


def test_yaml_and_csv_keep_the_short_name_both_ways():
    text = with_short_name(framework_yaml())
    doc, report = yaml_format.parse(text)
    assert report.errors == [] and first_competency(doc).short_name == "Stakeholders"
    assert yaml_format.dump(doc) == text
    written = csv_format.dump(doc)
    assert "competency_short_name,,,,,,area-0,Area 0,skill-0-0,Skill 0.0,,,,,Stakeholders\n" in (
        written
    )
    again, report = csv_format.parse(written)
    assert report.errors == [] and again == doc


def test_a_file_without_short_names_writes_none():
    doc, _ = yaml_format.parse(framework_yaml())
    assert "short_name" not in yaml_format.dump(doc)
    assert "competency_short_name" not in csv_format.dump(doc)


def test_a_short_name_over_16_characters_in_a_file_is_an_error_with_its_line():
    text = with_short_name(framework_yaml(), "    short_name: Stakeholder management\n")
    with pytest.raises(InvalidFrameworkError) as error:
        files.validate(text, "yaml")
    [problem] = error.value.report.errors
    assert problem.path == "areas[0].competencies[0].short_name"
    assert problem.message.startswith("is 22 characters long; a short name (a column header")
    assert "may have at most 16" in problem.message
    assert problem.line == text[: text.index("short_name: Stakeholder")].count("\n") + 1


def test_a_monzo_topic_may_bring_a_short_title():
    title = "    title: 'Communication'\n"
    text = MONZO.replace(title, title + "    shortTitle: 'Comms'\n")
    doc, report = monzo_format.parse(text)
    assert report.errors == []
    assert [c.short_name for c in doc.areas[0].competencies] == ["Comms", ""]


def test_a_monzo_short_title_too_long_is_named_by_its_key_on_its_line():
    title = "    title: 'Communication'\n"
    text = MONZO.replace(title, title + "    shortTitle: 'Communication skills'\n")
    doc, report = monzo_format.parse(text)
    assert doc is None
    [problem] = report.errors
    assert problem.path == "topics[0].shortTitle"  # the file's key, not the document's
    assert problem.message.startswith("is 20 characters long; a short name")
    assert problem.line == text[: text.index("shortTitle:")].count("\n") + 1


# --- versions and the editor ------------------------------------------------------------------


def test_a_new_draft_and_publishing_keep_the_short_name(ctx):
    text = with_short_name(framework_yaml())
    published, _ = files.import_text(SYSTEM, text, "yaml", publish=True)
    draft = versions.new_draft(SYSTEM, published)
    assert first_competency(store.to_document(store.load_version(draft.id))).short_name == (
        "Stakeholders"
    )
    versions.publish(SYSTEM, draft, changelog="Again.")
    assert first_competency(store.to_document(store.load_version(draft.id))).short_name == (
        "Stakeholders"
    )


def test_the_editor_sets_a_short_name_and_refuses_one_over_16_characters(ctx):
    imported, _ = files.import_text(SYSTEM, framework_yaml(), "yaml")
    version = store.load_version(imported.id)
    competency = version.areas[0].competencies[0]

    def saved(short_name: str, revision: int) -> None:
        data = editing.CompetencyInput(
            key=competency.key,
            name=competency.name,
            description="",
            area_id=competency.area_id,
            track_ids=[t.id for t in version.tracks],
            short_name=short_name,
        )
        editing.update(
            SYSTEM, version, "competencies", competency.id, data, expected_revision=revision
        )

    saved("  Skill   zero ", 1)
    version = store.load_version(version.id)
    assert first_competency(store.to_document(version)).short_name == "Skill zero"
    with pytest.raises(ValidationError) as error:
        saved("Stakeholder management", 2)
    assert error.value.field == "short_name"
    assert error.value.message.startswith("Use at most 16 characters (this has 22)")
    assert error.value.message.endswith("or leave it empty to have Rungs shorten the name.")


def test_a_changed_short_name_is_a_change_in_the_diff():
    old, _ = yaml_format.parse(framework_yaml())
    new, _ = yaml_format.parse(with_short_name(framework_yaml()))
    [change] = diff_documents(old, new).competencies_changed
    assert [(c.label, c.old, c.new) for c in change.changes] == [("Short name", "", "Stakeholders")]


# --- the grid header --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("Delivery", "Delivery"),
        ("Customer research", "Customer"),  # 17 characters: the first word
        ("Launch & GTM", "Launch & GTM"),  # fits as it is
        ("Stakeholder management", "Stakeholder"),
        ("Prioritisation & roadmapping", "Prioritisat…"),  # a long first word: an ellipsis
        ("Problem framing & opportunity sizing", "Problem"),
        ("", "Key"),
    ],
)
def test_a_header_is_made_from_the_name_without_cutting_a_word_with_a_dot(name, header):
    made = abbreviate(name, "Key")
    assert made == header and len(made) <= 12 and not made.endswith(".")


def test_the_head_s_short_name_heads_the_column_and_made_up_headers_stay_apart():
    assert Column("prio", "Prioritisation", "Strategy", "Priorities").short == "Priorities"

    class Expected:
        def __init__(self, key, name, short_name=""):
            self.key, self.name, self.area, self.short_name = key, name, "Area", short_name

    columns = _columns(
        {
            1: [
                Expected("strategy", "Product strategy"),
                Expected("sense", "Product sense"),
                Expected("vision", "Product vision", "Vision"),
            ]
        }
    )
    assert [c.short for c in columns] == ["Product str…", "Product sen…", "Vision"]
