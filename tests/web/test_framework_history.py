"""The version history of a framework and the diff page, through HTTP."""

from __future__ import annotations

import copy
import html
import re

import pytest
import yaml

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files, store, versions
from tests.factories import sign_in
from tests.framework_samples import framework_data
from tests.queries import count_queries


def store_version(app, data: dict, *, changelog: str | None = None) -> int:
    """Import `data` as the next version of its framework; publish it when a changelog is given."""
    with app.app_context():
        version, _ = files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml")
        if changelog is not None:
            versions.publish(SYSTEM, version, changelog=changelog)
        db.session.commit()
        return version.number


def edited(data: dict, change) -> dict:
    new = copy.deepcopy(data)
    change(new)
    return new


def reword_cell(d: dict) -> None:
    d["areas"][1]["competencies"][0]["expectations"]["L2"]["text"] = (
        "Does skill 1.0 well at L2, for the whole team."
    )
    d["areas"][0]["competencies"][1]["name"] = "Customer research"


@pytest.fixture
def three_versions(app):
    """v1 archived, v2 published (a reworded cell, a renamed competency), v3 a draft."""
    data = framework_data()
    store_version(app, data, changelog="The first ladder.")
    second = edited(data, reword_cell)
    store_version(app, second, changelog="Clearer wording at L2.")
    store_version(app, edited(second, lambda d: d.update(name="Sample, draft")))
    return data


@pytest.fixture
def head(client, org):
    sign_in(client, org.head)
    return client


@pytest.fixture
def pm(client, org):
    sign_in(client, org.pm_a1)
    return client


def text_of(response) -> str:
    """The page's text as read aloud: tags dropped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def headings(response, level: int) -> list[str]:
    page = response.get_data(as_text=True)
    found = re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", h)).split()) for h in found]


# --- history -------------------------------------------------------------------------------------


def test_history_lists_visible_versions_newest_first(pm, three_versions):
    response = pm.get("/frameworks/sample/history")
    assert response.status_code == 200
    assert headings(response, 3) == ["Version 2", "Version 1"]  # the draft stays hidden
    text = text_of(response)
    assert "Clearer wording at L2." in text and "The first ladder." in text
    assert "Sample, draft" not in text
    page = response.get_data(as_text=True)
    assert 'href="/frameworks/sample/v2/"' in page and 'href="/frameworks/sample/v3/"' not in page
    assert 'href="/frameworks/sample/diff?from=1&amp;to=2"' in page
    assert re.search(r'<option value="2" selected>Version 2</option>', page)  # to: the newest
    assert re.search(r'<option value="1" selected>Version 1</option>', page)  # from: before it


def test_the_head_sees_the_draft_and_what_it_is_based_on(app, head, three_versions):
    with app.app_context():
        published = store.find_version("sample", 2)
        versions.archive(SYSTEM, store.find_version("sample", 3))
        versions.new_draft(SYSTEM, published)
        db.session.commit()
    response = head.get("/frameworks/sample/history")
    assert headings(response, 3) == ["Version 4", "Version 3", "Version 2", "Version 1"]
    text = text_of(response)
    assert "Version 4 Draft based on version 2 Not published yet." in text
    assert "Version 3 Archived" in text and "Version 2 Published" in text
    assert "What changed since version 3" in text


def test_history_of_an_unknown_framework_is_not_found(pm):
    assert pm.get("/frameworks/nothing-here/history").status_code == 404


def test_history_needs_sign_in(client, three_versions):
    response = client.get("/frameworks/sample/history")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- diff ----------------------------------------------------------------------------------------


def test_diff_marks_the_changed_words(pm, three_versions):
    response = pm.get("/frameworks/sample/diff?from=1&to=2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 competency renamed, 1 cell changed." in text_of(response)
    assert (
        '<ins><span class="visually-hidden">[added: </span>well'
        '<span class="visually-hidden">]</span></ins> at L2'
    ) in page
    assert '<ins><span class="visually-hidden">[added: </span>, for the whole team' in page
    assert "Does skill 1.0 at L2." in text_of(response)  # the old text, beside the new
    assert "Renamed [was: Skill 0.1 ] → [now: Customer research ]" in text_of(response).replace(
        "→", " → "
    ).replace("  ", " ")
    assert headings(response, 2) == ["Competencies", "Expectations"]
    assert 'href="/frameworks/sample/v1/"' in page and 'href="/frameworks/sample/v2/"' in page


def test_diff_backwards_shows_the_words_as_removed(pm, three_versions):
    page = pm.get("/frameworks/sample/diff?from=2&to=1").get_data(as_text=True)
    assert '<del><span class="visually-hidden">[removed: </span>well' in page


def test_identical_versions_have_no_differences(pm, app, three_versions):
    with app.app_context():  # v2 archived, so a file the same as v2 becomes version 4
        versions.publish(SYSTEM, store.find_version("sample", 3), changelog="A new name.")
        db.session.commit()
    again = store_version(app, edited(three_versions, reword_cell), changelog="Republished.")
    assert again == 4
    response = pm.get("/frameworks/sample/diff?from=2&to=4")
    assert response.status_code == 200
    assert "No differences: version 2 and version 4 say the same thing." in text_of(response)
    assert pm.get("/frameworks/sample/diff?from=2&to=2").status_code == 200


@pytest.mark.parametrize(
    "query",
    ["from=1&to=3", "from=3&to=1", "from=1&to=9"],
    ids=["hidden-draft-new", "hidden-draft-old", "no-such-version"],
)
def test_unknown_or_hidden_versions_are_not_found(pm, three_versions, query):
    response = pm.get(f"/frameworks/sample/diff?{query}")
    assert response.status_code == 404
    assert "Sample, draft" not in response.get_data(as_text=True)


def test_the_head_may_diff_the_draft(head, three_versions):
    response = head.get("/frameworks/sample/diff?from=2&to=3")
    assert response.status_code == 200
    assert "Framework name changed." in text_of(response)


def test_unknown_framework_is_not_found(pm):
    assert pm.get("/frameworks/nothing/diff?from=1&to=2").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", '"from" is missing'),
        ("from=1", '"to" is missing'),
        ("from=one&to=2", '"one" is not a version number'),
        ("from=1&to=-2", '"-2" is not a version number'),
        ("from=1&to=2.5", '"2.5" is not a version number'),
        ("from=1&to=%C2%B2", '"²" is not a version number'),
        ("from=0&to=1", '"0" is not a version number'),
    ],
)
def test_missing_or_invalid_numbers_are_a_clear_400(pm, three_versions, query, message):
    response = pm.get(f"/frameworks/sample/diff?{query}")
    assert response.status_code == 400
    assert f"Choose two versions to compare: {message}." in text_of(response)


def test_v_prefixed_numbers_are_accepted(pm, three_versions):
    assert pm.get("/frameworks/sample/diff?from=v1&to=v2").status_code == 200


def everything_changed(d: dict) -> None:
    """One change of every kind the diff page shows."""
    d["name"], d["description"] = "Product ladder", "How we grow."
    d["tracks"][0]["name"] = "Individual contributor"
    levels = d["tracks"][0]["levels"]
    levels[0]["title"], levels[0]["summary"] = "Associate", "Learns the craft of level 1."
    levels[0]["decision_rights"] = [
        {"decision": "What to build next sprint", "role": "approver", "delegation": 2},
        {"decision": "Who joins customer interviews", "role": "driver", "delegation": 6},
    ]
    levels[1]["decision_rights"] = []
    levels[1]["typical_experience"] = "two to five years"
    del levels[2]
    levels.append({"code": "L9", "title": "Principal", "rank": 9, "scope": "The company."})
    d["tracks"].append(
        {
            "key": "mgmt",
            "name": "Management",
            "levels": [{"code": "M1", "title": "Lead", "rank": 20}],
        }
    )
    for area in d["areas"]:
        for c in area["competencies"]:
            c["expectations"].pop("L3")
            c["expectations"]["L9"] = {"status": "defined", "text": "Sets the bar."}
    first = d["areas"][0]["competencies"]
    first[0]["expectations"]["L1"] = {
        "status": "defined",
        "text": "Does skill 0.0 at L1, with care.",
        "indicators": [
            {"kind": "criterion", "text": "An example at L1, checked."},
            {"kind": "signal", "text": "Asks good questions."},
        ],
    }
    first[0]["expectations"]["L2"] = {"status": "not_applicable"}
    first[0]["description"] = "What this skill is really about."
    first[0]["tracks"] = ["track-0"]
    moved = first.pop(1)
    d["areas"][1]["competencies"].append(moved)
    d["areas"][1]["name"], d["areas"][1]["description"] = "Delivery", "Shipping."
    del d["areas"][1]["competencies"][0]
    d["areas"].reverse()
    d["areas"].append(
        {
            "key": "strategy",
            "name": "Strategy",
            "competencies": [
                {
                    "key": "vision",
                    "name": "Vision",
                    "expectations": {"L9": {"status": "defined", "text": "Writes the vision."}},
                }
            ],
        }
    )


def test_every_kind_of_change_is_shown(pm, app):
    data = framework_data()
    store_version(app, data, changelog="First.")
    store_version(app, edited(data, everything_changed), changelog="Everything.")
    response = pm.get("/frameworks/sample/diff?from=1&to=2")
    assert response.status_code == 200
    assert headings(response, 2) == [
        "Framework",
        "Tracks and levels",
        "Competency areas",
        "Competencies",
        "Expectations",
    ]
    text = text_of(response)
    for expected in [
        "Track added Management",
        "[was: Track 0 ] → [now: Individual contributor ]",
        "Level added L9 · Principal (Individual contributor, rank 9)",
        "Level added M1 · Lead (Management, rank 20)",
        "Level removed L3 · Level 3 (Track 0)",
        "L1 · Associate (Individual contributor) Renamed [was: Level 1 ] → [now: Associate ]",
        "Typical experience: none → [now: two to five years ]",
        "Changed What to build next [added: sprint ] — [was: Driver, delegation 1 (Tell) ] → "
        "[now: Approver, delegation 2 (Sell) ]",
        "Level added L9 · Principal (Individual contributor, rank 9) Scope and 4 expectations",
        "Added Who joins customer interviews — Driver, delegation 6 (Inquire)",
        "Removed What to build next — Driver, delegation 2 (Sell)",
        "Area added Strategy",
        "Delivery Renamed [was: Area 1 ] → [now: Delivery ]",
        "New order of the areas Delivery Area 0 Strategy",
        "Added Vision in Strategy Expectations at 1 level L9 Writes the vision.",
        "Removed Skill 1.0 from Area 1",
        "Skill 0.1 in Delivery Moved from Area 0 to Delivery",
        "Tracks: [was: All tracks ] → [now: Individual contributor ]",
        "Status: [was: Defined ] → [now: Not applicable ] "
        "Version 1 [removed: Does skill 0.0 at L2. ] Version 2 Not applicable at this level",
        "Changed criterion (was example) An example at L1 [added: , checked ] .",
        "Added signal Asks good questions.",
    ]:
        assert expected in text, f"{expected}\n\n{text}"


# --- a fixed number of queries -------------------------------------------------------------------


def two_versions(app, slug: str, **size) -> None:
    data = framework_data(slug=slug, **size)
    store_version(app, data, changelog="First.")
    store_version(app, edited(data, change_everywhere), changelog="Second.")


def change_everywhere(d: dict) -> None:
    """Every level, competency and cell changed, so the diff page is as long as it gets."""
    d["name"] = "Renamed"
    for area in d["areas"]:
        for c in area["competencies"]:
            c["name"] += " (new)"
            for cell in c["expectations"].values():
                cell["text"] += " Now with more."
                cell["indicators"].append({"kind": "signal", "text": "A new signal."})
    for track in d["tracks"]:
        for level in track["levels"]:
            level["title"] += " (new)"


@pytest.mark.parametrize(
    "path", ["/frameworks/{slug}/history", "/frameworks/{slug}/diff?from=1&to=2"]
)
def test_pages_use_a_fixed_number_of_queries(app, head, path):
    two_versions(app, "small", levels=2, areas=1, per_area=1, tracks=1)
    two_versions(app, "large", levels=6, areas=5, per_area=4, tracks=2)
    small = count_queries(app, head, path.format(slug="small"))
    large = count_queries(app, head, path.format(slug="large"))
    assert small == large


def test_history_queries_do_not_grow_with_the_number_of_versions(app, head):
    data = framework_data()
    store_version(app, data, changelog="First.")
    few = count_queries(app, head, "/frameworks/sample/history")
    for n in range(5):
        store_version(app, edited(data, lambda d, n=n: d.update(name=f"Name {n}")), changelog="")
    assert count_queries(app, head, "/frameworks/sample/history") == few
