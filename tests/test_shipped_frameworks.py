"""The frameworks we ship in frameworks/: valid, canonical, and up to the content bar."""

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest

from app.infra.text_diff import similarity
from app.models import CellStatus, DaciRole, IndicatorKind
from app.services.frameworks import yaml_format
from app.services.frameworks.compare import SIMILAR_DECISION
from app.services.frameworks.document import DecisionRightDoc

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


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_cell_has_one_measure_and_every_level_learns_from_failure(path):
    # The measure is the cell's "how you will know"; the pages show it first, the file keeps it
    # first. Examples illustrate the bar: each level's summary says their figures are not quotas,
    # and each level has an example of learning from failure.
    doc, _ = load(path)
    for *_, competency in doc.competencies():
        for level in doc.cell_levels(competency):
            kinds = [i.kind for i in competency.expectations[level.code].indicators]
            assert kinds.count(IndicatorKind.MEASURE) == 1, (competency.key, level.code)
            assert kinds[0] is IndicatorKind.MEASURE, (competency.key, level.code)
    failure = next(c for *_, c in doc.competencies() if c.key == "learning-from-failure")
    for _track, level in doc.levels():
        assert "not quotas" in level.summary, level.code
        cell = failure.expectations[level.code]
        assert any(i.kind is IndicatorKind.EXAMPLE for i in cell.indicators), level.code


def test_a_senior_pm_can_aim_for_group_pm_or_their_first_management_role():
    doc, _ = load(next(p for p in SHIPPED if p.name == "product-management.yaml"))
    tracks = {track.key: track for track in doc.tracks}
    assert [level.code for level in tracks["management"].levels] == ["LPM"]
    lead = tracks["management"].levels[0]
    group = next(level for level in tracks["ic"].levels if level.code == "GPM")
    assert lead.rank == group.rank  # two paths of the same seniority from Senior PM
    managing = [c for *_, c in doc.competencies() if c.tracks == ["management"]]
    keys = {c.key for c in managing}
    assert keys == {"role-clarity-and-decision-rights", "hiring-and-onboarding"}


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


@dataclass(frozen=True)
class Held:
    """A decision right as one level of a shipped ladder holds it; ranks share one scale."""

    ladder: str
    level: str
    rank: int
    right: DecisionRightDoc

    @property
    def decision(self) -> str:
        """The wording compared across levels: case and spacing do not count."""
        return " ".join(self.right.decision.casefold().split())

    def __str__(self) -> str:
        return f"{self.ladder} {self.level} (rank {self.rank}) as {self.right.held}"


def held_decisions() -> list[Held]:
    held = []
    for path in SHIPPED:
        doc, _ = load(path)
        for _track, level in doc.levels():
            held += [Held(doc.name, level.code, level.rank, r) for r in level.decision_rights]
    return held


def test_whoever_decides_is_the_approver():
    # DACI as the ladders use it: at delegation 5-7 the person decides (Approver); at 4 they drive
    # a joint decision, and at 1-3 their manager decides (Driver or Contributor).
    wrong = [
        f"{held.right.decision!r}: {held}"
        for held in held_decisions()
        if (held.right.role is DaciRole.APPROVER) != (held.right.delegation >= 5)
    ]
    assert wrong == []


def test_the_same_decision_never_loses_delegation_as_rank_rises():
    # The same decision is worded the same, or alike enough for the compare page to pair it
    # ("…for their product area" and "…for their product line"): a reworded contradiction counts.
    held = held_decisions()
    wrong = []
    for low, high in combinations(sorted(held, key=lambda h: h.rank), 2):
        same = low.decision == high.decision
        if not same and similarity(low.decision, high.decision) < SIMILAR_DECISION:
            continue
        if low.rank == high.rank:
            if same and (low.right.role, low.right.delegation) != (
                high.right.role,
                high.right.delegation,
            ):
                wrong.append(f"{low.right.decision!r}: held by {low}, but by {high}")
        elif high.right.delegation < low.right.delegation:
            wrong.append(
                f"{low.right.decision!r} held by {low}, but {high.right.decision!r} lower "
                f"by {high} above it"
            )
    assert wrong == []
    # the ladders word a decision they share the same way, or this check would compare nothing
    ladders = {}
    for h in held:
        ladders.setdefault(h.decision, set()).add(h.ladder)
    assert any(len(names) > 1 for names in ladders.values()), "no decision is in both ladders"
