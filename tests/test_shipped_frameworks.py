"""The frameworks we ship in frameworks/: valid, canonical, and up to the content bar."""

from pathlib import Path

import pytest

from app.models import CellStatus, IndicatorKind
from app.services.frameworks import yaml_format

SHIPPED = sorted((Path(__file__).resolve().parents[1] / "frameworks").glob("*.yaml"))


def load(path: Path):
    doc, report = yaml_format.parse(path.read_text(encoding="utf-8"))
    assert report.errors == [], [str(e) for e in report.errors]
    return doc, report


def test_both_ladders_ship():
    assert [path.name for path in SHIPPED] == ["product-leadership.yaml", "product-management.yaml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_valid_without_warnings_and_written_canonically(path):
    doc, report = load(path)
    assert report.warnings == []
    text = path.read_text(encoding="utf-8")
    assert yaml_format.dump(doc) == text, "run `flask frameworks export` to rewrite it"
    # export → import → export gives the same text
    assert yaml_format.dump(yaml_format.parse(yaml_format.dump(doc))[0]) == text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_cell_is_defined_with_an_example_and_every_level_described(path):
    doc, _ = load(path)
    for _track, level in doc.levels():
        assert level.summary and level.scope and level.typical_experience, level.code
        assert level.decision_rights, level.code
    for *_, competency in doc.competencies():
        for level in doc.cell_levels(competency):
            cell = competency.expectations[level.code]
            assert cell.status is CellStatus.DEFINED, (competency.key, level.code)
            assert any(i.kind is IndicatorKind.EXAMPLE for i in cell.indicators), (
                competency.key,
                level.code,
            )


def test_the_ic_ladder_has_the_breadth_we_promise():
    doc, _ = load(next(p for p in SHIPPED if p.name == "product-management.yaml"))
    codes = [level.code for _, level in doc.levels()]
    assert codes[:4] == ["APM", "PM", "SPM", "GPM"] and len(codes) >= 4
    assert len(doc.areas) >= 4 and len(doc.competencies()) >= 10


def test_the_leadership_ladder_is_built_on_coach_clarity_culture():
    doc, _ = load(next(p for p in SHIPPED if p.name == "product-leadership.yaml"))
    assert [area.name for area in doc.areas][:3] == ["Coach", "Clarity", "Culture"]
    assert any("strategy" in area.key for area in doc.areas)
    assert [level.code for _, level in doc.levels()] == ["DIR", "VPP", "CPO"]
