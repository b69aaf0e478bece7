"""Text that reaches a PDF is bounded: framework fields have limits in files and the editor (with
messages that say which field and by how much), and the data of every PDF is cut defensively,
whatever was stored."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml
from sqlalchemy import func, select, update

from app.core.errors import ValidationError
from app.extensions import db
from app.infra.pdf_text import PDF_TEXT_MAX, bounded, bounded_text
from app.models import CellStatus, Evidence, Expectation, Framework, IndicatorKind
from app.policy import SYSTEM
from app.services import packets
from app.services.frameworks import editing, files, pdf, store
from app.services.frameworks.document import (
    INDICATOR_MAX,
    INDICATORS_MAX,
    NAME_MAX,
    TEXT_MAX,
    IndicatorDoc,
    InvalidFrameworkError,
)
from app.services.frameworks.editing import CellInput
from tests import packet_helpers
from tests.framework_samples import framework_data, framework_yaml

CELL = "areas[0].competencies[0].expectations.L1"


def import_with(change) -> None:
    data = framework_data()
    change(data)
    files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml")


def cell_of(data: dict) -> dict:
    return data["areas"][0]["competencies"][0]["expectations"]["L1"]


def refused(change) -> list[str]:
    with pytest.raises(InvalidFrameworkError) as raised:
        import_with(change)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Framework)) == 0
    return [str(problem) for problem in raised.value.report.errors]


def test_a_file_with_a_field_over_its_limit_is_refused_naming_the_field(ctx):
    errors = refused(lambda data: cell_of(data).update(text="x" * (TEXT_MAX + 1)))
    assert errors == [
        f"{CELL}.text: is 5,001 characters long; an expectation may have at most 5,000. "
        "Shorten it. (line 42)"
    ]
    errors = refused(lambda data: data.update(description="d" * 6000, name="n" * (NAME_MAX + 1)))
    assert [error.split(":")[0] for error in errors] == ["name", "description"]
    errors = refused(
        lambda data: cell_of(data)["indicators"].append({"kind": "signal", "text": "s" * 1001})
    )
    assert errors[0].startswith(f"{CELL}.indicators[1].text: is 1,001 characters long")
    many = [{"kind": "example", "text": f"Example {n}"} for n in range(INDICATORS_MAX + 1)]
    errors = refused(lambda data: cell_of(data).update(indicators=many))
    assert errors[0].startswith(f"{CELL}.indicators: has 51 indicators; a cell may have at most 50")


def test_a_file_at_the_limits_is_imported(ctx):
    import_with(
        lambda data: cell_of(data).update(
            text="x" * TEXT_MAX,
            indicators=[  # distinct dicts: a repeated one is dumped as a YAML alias
                {"kind": "example", "text": f"{n:02d}" + "e" * (INDICATOR_MAX - 2)}
                for n in range(INDICATORS_MAX)
            ],
        )
    )
    assert db.session.scalar(select(func.count()).select_from(Framework)) == 1


def test_the_editor_refuses_over_long_text_at_its_field(ctx):
    version, _report = files.import_text(SYSTEM, framework_yaml(), "yaml")
    db.session.commit()
    version = store.load_version(version.id)
    competency = version.areas[0].competencies[0]
    cell = competency.expectations[0]

    def write(data: CellInput):
        editing.update(SYSTEM, version, "cells", cell.id, data, expected_revision=cell.revision)

    with pytest.raises(ValidationError) as raised:
        write(CellInput(CellStatus.DEFINED, "x" * (TEXT_MAX + 1)))
    assert raised.value.field == "text" and "at most 5,000 characters" in raised.value.message
    long_line = IndicatorDoc(IndicatorKind.SIGNAL, "s" * (INDICATOR_MAX + 1))
    with pytest.raises(ValidationError) as raised:
        write(CellInput(CellStatus.DEFINED, "Fine.", [long_line]))
    assert raised.value.field == "signals" and "at most 1,000 characters" in raised.value.message
    with pytest.raises(ValidationError) as raised:
        editing.update(
            SYSTEM,
            version,
            "competencies",
            competency.id,
            editing.CompetencyInput(
                key=competency.key,
                name=competency.name,
                description="d" * (TEXT_MAX + 1),
                area_id=version.areas[0].id,
                track_ids=[t.id for t in version.tracks],
            ),
            expected_revision=version.revision,
        )
    assert raised.value.field == "description"


def test_bounded_cuts_every_string_of_nested_data_and_says_so():
    @dataclass(frozen=True)
    class Item:
        title: str
        lines: tuple[str, ...]

    short = Item("short", ("fine",))
    assert bounded(short) == short
    cut = bounded(Item("t" * (PDF_TEXT_MAX + 5), ("b" * (PDF_TEXT_MAX + 1),)), PDF_TEXT_MAX)
    assert cut.title == "t" * PDF_TEXT_MAX + "… [5 more characters are not shown in this PDF]"
    assert cut.lines[0].startswith("b" * PDF_TEXT_MAX + "… [1 more character")
    assert bounded_text("abc", 2) == "ab… [1 more characters are not shown in this PDF]"


def test_a_stored_cell_over_any_limit_reaches_the_framework_pdf_cut(ctx):
    version, _report = files.import_text(SYSTEM, framework_yaml(), "yaml")
    version = store.load_version(version.id)
    db.session.execute(  # as if stored before the limits: 4 MB, like the cell that took 536 MB
        update(Expectation)
        .where(Expectation.id == version.areas[0].competencies[0].expectations[0].id)
        .values(text="y" * 4_000_000)
    )
    db.session.commit()
    html = pdf.version_html(store.load_version(version.id))
    assert "y" * PDF_TEXT_MAX + "…" in html and "y" * (PDF_TEXT_MAX + 1) not in html
    assert "3,980,000 more characters are not shown in this PDF" in html


def test_a_stored_evidence_body_over_its_limit_reaches_the_packet_cut(app, org):
    built = packet_helpers.realistic_case(app, org, items=1)
    with app.app_context():
        db.session.execute(
            update(Evidence)
            .where(Evidence.id == built.evidence_ids[0])
            .values(body="z" * (PDF_TEXT_MAX * 3))
        )
        db.session.commit()
        data = packets.assemble(built.case_id, "committee")
    body = data.appendix[0].body
    assert body.startswith("z" * PDF_TEXT_MAX + "…") and len(body) < PDF_TEXT_MAX + 100
