"""What a walk through the editor in a browser found: warnings folded away on the publish page,
cells without a measure that the grid did not show, and "save, then the next" jumping tracks."""

from __future__ import annotations

import re

import pytest
import yaml

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files
from tests.factories import sign_in
from tests.framework_samples import framework_data
from tests.web.test_framework_editor import EDITOR, cell_form, ids, text

CHECKS = f"{EDITOR}/edit?show=warnings#warnings"


@pytest.fixture
def head(client, org):
    sign_in(client, org.head)
    return client


def import_data(app, data: dict) -> int:
    with app.app_context():
        version, _ = files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml")
        db.session.commit()
        return version.id


def without_measures(data: dict, cells: list[tuple[str, str]]) -> dict:
    """`data` with the measure taken out of each (competency key, level code) cell."""
    for area in data["areas"]:
        for competency in area["competencies"]:
            for code, cell in competency["expectations"].items():
                if (competency["key"], code) in cells:
                    cell["indicators"] = [i for i in cell["indicators"] if i["kind"] != "measure"]
    return data


def words(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


# --- the publish page ---------------------------------------------------------------------------


def test_the_publish_page_shows_its_warnings_open_and_alike(app, head):
    data = without_measures(framework_data(levels=2, measures=True), [("skill-0-0", "L1")])
    expectations = data["areas"][0]["competencies"][1]["expectations"]
    expectations["L1"]["text"] = "Runs research for their team."
    expectations["L2"]["text"] = "Runs research across the company."
    version_id = import_data(app, data)
    target = ids(app, version_id)["cell:skill-0-0:L1"]

    page = text(head.get(f"{EDITOR}/publish"))

    # Not folded away: a heading, then the list, before the changelog.
    assert '<details class="warnings"' not in page
    heading = re.search(r"<h2[^>]*>([^<]*)</h2>", page[page.index("publish-warnings") :])[1]
    assert heading == "2 warnings: publishing is possible, but look first"
    warnings = page[page.index("publish-warnings") : page.index('name="changelog"')]
    # Every warning is one item of one list, the cells without a measure too.
    items = re.findall(r"<ul class=\"findings\">(.*)</ul>", warnings, re.S)
    assert len(items) == 1
    lines = [words(li) for li in re.split(r"\n  <li>", items[0]) if words(li)]
    assert lines[0].startswith("Skill 0.1 at L2 differs from L1, the level below")
    assert lines[1] == (
        "Without a measure (1 cell): say how you will know each expectation is met. Skill 0.0 at L1"
    )
    assert f'<li><a href="{EDITOR}/cells/{target}">Skill 0.0 at L1</a></li>' in warnings


def test_a_long_list_of_warnings_stops_at_ten_and_links_to_the_checks(app, head):
    data = framework_data(levels=3, areas=2, per_area=2)  # 12 cells, none with a measure
    import_data(app, data)

    page = text(head.get(f"{EDITOR}/publish"))

    assert "12 warnings: publishing is possible, but look first" in page
    warnings = page[page.index("publish-warnings") : page.index('name="changelog"')]
    assert "Without a measure (12 cells)" in words(warnings)
    assert len(re.findall(r'<li><a href="[^"]*/cells/\d+">', warnings)) == 10
    more = re.search(r'<li class="more"><a href="([^"]+)">(.*?)</a></li>', warnings)
    assert more[1] == CHECKS
    assert words(more[2]) == "and 2 more cells without a measure, in the draft's checks"
    # The editor's checks, where it leads, list every one of them, open.
    checks = text(head.get(CHECKS))
    listed = checks[checks.index('id="warnings"') :]
    assert '<details class="warnings" open>' in listed
    assert len(re.findall(r'<li><a href="[^"]*/cells/\d+">', listed)) == 12


def test_a_short_list_of_warnings_is_shown_whole(app, head):
    import_data(app, framework_data(levels=2, areas=1, per_area=2))  # 4 cells, no measure
    warnings = text(head.get(f"{EDITOR}/publish"))
    assert len(re.findall(r'<li><a href="[^"]*/cells/\d+">', warnings)) == 4
    assert 'class="more"' not in warnings


# --- the grid of cells --------------------------------------------------------------------------


def grid_cell(page: str, expectation_id: int) -> str:
    start = page.index(f'id="cell-{expectation_id}"')
    return words(page[start : page.index("</td>", start)].split(">", 1)[1])


def test_the_grid_says_which_cells_have_no_measure_and_counts_the_others(app, head):
    data = without_measures(framework_data(levels=2, measures=True), [("skill-0-0", "L1")])
    data["areas"][0]["competencies"][0]["expectations"]["L2"]["indicators"].append(
        {"kind": "criterion", "text": "A criterion."}
    )
    data["areas"][0]["competencies"][1]["expectations"]["L1"]["indicators"] = [
        {"kind": "measure", "text": "What shows it."}
    ]
    found = ids(app, import_data(app, data))

    page = text(head.get(f"{EDITOR}/edit"))

    assert page.count('<span class="cell-flag">No measure</span>') == 1
    unmeasured = grid_cell(page, found["cell:skill-0-0:L1"])
    assert unmeasured.endswith("Does skill 0.0 at L1. No measure 1 indicator")
    # The measure is not counted among the indicators, as the cell's form lists it apart.
    assert grid_cell(page, found["cell:skill-0-0:L2"]).endswith("Measure, 2 indicators")
    assert grid_cell(page, found["cell:skill-0-1:L1"]).endswith("Does skill 0.1 at L1. Measure")


# --- the cell's form ----------------------------------------------------------------------------


def test_the_measure_is_given_four_lines(app, head):
    found = ids(app, import_data(app, framework_data(levels=2, measures=True)))
    page = text(head.get(f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}"))
    measure = re.search(r"<textarea[^>]*name=\"measures\"[^>]*>", page)[0]
    assert 'rows="4"' in measure


def next_button(page: str) -> str | None:
    found = re.search(r'<button type="submit" name="save_next"[^>]*>([^<]*)</button>', page)
    return found and words(found[1])


def test_save_then_the_next_stays_on_the_track_then_starts_the_next_row(app, head):
    data = framework_data(tracks=2, levels=2, areas=3, per_area=1, measures=True)
    skill_1_0 = data["areas"][1]["competencies"][0]  # on track 1 only
    skill_1_0["tracks"] = ["track-1"]
    skill_1_0["expectations"] = {
        code: cell for code, cell in skill_1_0["expectations"].items() if code.startswith("T1")
    }
    found = ids(app, import_data(app, data))

    def page_of(key):
        path = f"{EDITOR}/cells/{found[key]}"
        return path, text(head.get(path))

    # Up the track first.
    path, page = page_of("cell:skill-0-0:T0L1")
    assert next_button(page) == "Save, then T0L2"
    response = head.post_form(path, cell_form(page, text="Better.", save_next="1"))
    assert response.headers["Location"] == f"{EDITOR}/cells/{found['cell:skill-0-0:T0L2']}"

    # At the top of track 0, never on to T1L1 (another track), nor along the top level: the
    # next competency on track 0 at its first level. Skill 1.0 is on track 1 only: Skill 2.0.
    path, page = page_of("cell:skill-0-0:T0L2")
    assert next_button(page) == "Save, then Skill 2.0 at T0L1"
    response = head.post_form(path, cell_form(page, text="Better.", save_next="1"))
    assert response.headers["Location"] == f"{EDITOR}/cells/{found['cell:skill-2-0:T0L1']}"

    # At the top of track 1, the start of the next row on track 1, not its top level.
    path, page = page_of("cell:skill-0-0:T1L2")
    assert next_button(page) == "Save, then Skill 1.0 at T1L1"
    response = head.post_form(path, cell_form(page, text="Better.", save_next="1"))
    assert response.headers["Location"] == f"{EDITOR}/cells/{found['cell:skill-1-0:T1L1']}"

    # Past the top of the track's last competency, nowhere left to go: no button.
    path, page = page_of("cell:skill-2-0:T1L2")
    assert next_button(page) is None
    response = head.post_form(path, cell_form(page, text="Better.", save_next="1"))
    assert response.headers["Location"] == f"{EDITOR}/edit#cell-{found['cell:skill-2-0:T1L2']}"


def reference_below(page: str) -> str | None:
    """The heading and text of the cell editor's "the level below", if it shows one."""
    found = re.search(r"<h3>(At [^<]*the level below)</h3>\s*<p[^>]*>([^<]*)</p>", page)
    return found and words(f"{found[1]}: {found[2]}")


def test_a_tracks_first_level_is_read_against_the_level_ranked_below_it(app, head):
    # Track 0 ranks 1-3; track 1 starts at rank 3, beside T0L3: the level below it is T0L2.
    data = framework_data(tracks=2, levels=3, areas=1, per_area=2, measures=True)
    data["tracks"][1]["levels"][0]["rank"] = 3
    only_track_1 = data["areas"][0]["competencies"][1]
    only_track_1["tracks"] = ["track-1"]
    only_track_1["expectations"] = {
        code: cell for code, cell in only_track_1["expectations"].items() if code.startswith("T1")
    }
    data["areas"][0]["competencies"][0]["expectations"]["T0L1"] = {"status": "empty"}
    found = ids(app, import_data(app, data))

    def below(key):
        return reference_below(text(head.get(f"{EDITOR}/cells/{found[key]}")))

    # The first level of a track: the highest-ranked lower level of another track, named.
    assert below("cell:skill-0-0:T1L1") == (
        "At T0L2 (Track 0), the level below: Does skill 0.0 at T0L2."
    )
    # Further up a track, the level before it on the same track, as before.
    assert below("cell:skill-0-0:T1L2") == "At T1L1, the level below: Does skill 0.0 at T1L1."
    assert below("cell:skill-0-0:T0L2") == "At T0L1, the level below: Not written yet."
    # The first level of the first track, and a competency on one track only: nothing below.
    assert below("cell:skill-0-0:T0L1") is None
    assert below("cell:skill-0-1:T1L1") is None
