"""The framework editor through HTTP, as the head of product uses it (and others may not)."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Expectation,
    Framework,
    FrameworkVersion,
    Indicator,
    Level,
    User,
    VersionStatus,
)
from app.policy import SYSTEM
from app.services.frameworks import files, store
from tests.factories import sign_in
from tests.framework_samples import framework_data, framework_yaml
from tests.queries import count_queries

EDITOR = "/frameworks/sample/v1"


@pytest.fixture
def head(client, org):
    sign_in(client, org.head)
    return client


def import_framework(app, *, publish=False, **kwargs) -> int:
    """A framework stored as version 1 (a draft unless published); returns the version's id."""
    with app.app_context():
        version, _ = files.import_text(SYSTEM, framework_yaml(**kwargs), "yaml", publish=publish)
        db.session.commit()
        return version.id


def ids(app, version_id: int) -> dict:
    """Ids of the parts of a version, by key or code, for building URLs."""
    with app.app_context():
        version = store.load_version(version_id)
        codes = {lv.id: lv.code for t in version.tracks for lv in t.levels}
        found = {f"track:{t.key}": t.id for t in version.tracks}
        found |= {f"level:{code}": level_id for level_id, code in codes.items()}
        for area in version.areas:
            found[f"area:{area.key}"] = area.id
            for c in area.competencies:
                found[f"competency:{c.key}"] = c.id
                for e in c.expectations:
                    found[f"cell:{c.key}:{codes[e.level_id]}"] = e.id
        found["decision"] = version.tracks[0].levels[0].decision_rights[0].id
        return found


def stored_cell(app, expectation_id: int) -> Expectation:
    with app.app_context():
        cell = db.session.get(Expectation, expectation_id)
        db.session.expunge(cell)
        return cell


def exported(app, version_id: int) -> str:
    with app.app_context():
        return files.export(version_id, "yaml")


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}"(?: type="hidden")? value="(\d+)"', page).group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


# --- who may -----------------------------------------------------------------------------------


def editor_routes(app, parts: dict):
    """(endpoint, method, path) of every route of the editor, for parts of `sample` v1."""
    values = {
        "slug": "sample",
        "number": 1,
        "kind": "levels",
        "item_id": parts["level"],
        "track_id": parts["track"],
        "level_id": parts["level"],
        "decision_id": parts["decision"],
        "area_id": parts["area"],
        "competency_id": parts["competency"],
        "expectation_id": parts["cell"],
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("framework_editor."):
            path = rule.build({arg: values[arg] for arg in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, path


def test_every_editor_route_is_for_the_head_of_product_only(app, client, org):
    version_id = import_framework(app)
    found = ids(app, version_id)
    parts = {
        "track": found["track:track-0"],
        "level": found["level:L1"],
        "decision": found["decision"],
        "area": found["area:area-0"],
        "competency": found["competency:skill-0-0"],
        "cell": found["cell:skill-0-0:L1"],
    }
    routes = list(editor_routes(app, parts))
    assert len({e for e, _, _ in routes}) >= 19
    before = exported(app, version_id)
    for person in (org.pm_a1, org.manager_a):
        sign_in(client, person)
        token = client.csrf_token()
        for endpoint, method, path in routes:
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 403, (person.name, endpoint, method, path)
        client.post_form("/logout")
    assert exported(app, version_id) == before
    sign_in(client, org.head)
    for endpoint, method, path in routes:
        if method == "GET":
            assert client.get(path).status_code == 200, (endpoint, path)


@pytest.mark.parametrize("who", ["pm_a1", "manager_a"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/frameworks/new"),
        ("POST", "/frameworks/new"),
        ("GET", "/frameworks/import"),
        ("POST", "/frameworks/import"),
        ("GET", f"{EDITOR}/edit"),
        ("GET", f"{EDITOR}/publish"),
        ("POST", f"{EDITOR}/publish"),
        ("POST", f"{EDITOR}/archive"),
        ("POST", f"{EDITOR}/new-draft"),
        ("GET", f"{EDITOR}/tracks/new"),
        ("GET", f"{EDITOR}/areas/new"),
    ],
)
def test_others_get_403_and_change_nothing(app, client, org, who, method, path):
    version_id = import_framework(app, publish=True)
    before = exported(app, version_id)
    sign_in(client, getattr(org, who))
    response = client.post_form(path) if method == "POST" else client.get(path)
    assert response.status_code == 403
    assert exported(app, version_id) == before
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(FrameworkVersion)).scalar() == 1


def test_a_draft_of_another_framework_is_not_found(app, head):
    assert head.get("/frameworks/nothing/v1/edit").status_code == 404
    import_framework(app)
    assert head.get("/frameworks/sample/v2/edit").status_code == 404
    assert head.get(f"{EDITOR}/cells/999999").status_code == 404
    assert head.get(f"{EDITOR}/levels/999999/edit").status_code == 404


# --- creating and importing ---------------------------------------------------------------------


def test_create_a_framework_from_scratch(app, head):
    response = head.post_form(
        "/frameworks/new",
        {
            "name": "Design",
            "slug": "design",
            "description": "How designers grow.",
            "track_name": "Individual contributor",
            "track_key": "ic",
            "level_code": "D1",
            "level_title": "Designer",
            "area_name": "Craft",
            "competency_name": "Interaction design",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/frameworks/design/v1/edit"
    page = text(head.get(response.headers["Location"]))
    assert "Design was created as draft version 1" in page
    assert "Interaction design" in page and "Not written yet" in page


def test_a_taken_slug_is_shown_next_to_its_field(app, head):
    import_framework(app)
    response = head.post_form(
        "/frameworks/new",
        {
            "name": "Again",
            "slug": "sample",
            "track_name": "IC",
            "level_code": "L1",
            "level_title": "One",
            "area_name": "Area",
            "competency_name": "Skill",
        },
    )
    page = text(response)
    assert re.search(r'id="slug-error">&#34;sample&#34; is the slug of Sample already', page)
    assert 'value="Again"' in page
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Framework)).scalar() == 1


def upload(client, content: str, filename: str, **fields):
    data = {"file": (io.BytesIO(content.encode()), filename), **fields}
    return client.post_form("/frameworks/import", data, content_type="multipart/form-data")


def test_an_import_with_errors_lists_every_error_with_its_line_and_stores_nothing(app, head):
    broken = framework_yaml(levels=3).replace("rank: 2", "rank: 1").replace("code: L3", "code: L1")
    rows = broken.splitlines()
    response = upload(head, broken, "ladder.yaml")
    assert response.status_code == 400
    page = text(response)
    found = re.findall(r'<li><span class="line">Line (\d+)</span> <code>([^<]+)</code>: ', page)
    assert "7 errors found; nothing was imported." in page and len(found) == 7
    by_path = {path: int(line) for line, path in found}
    assert rows[by_path["tracks[0].levels[0].code"] - 1].strip() == "- code: L1"
    assert rows[by_path["tracks[0].levels[2].code"] - 1].strip() == "- code: L1"
    assert rows[by_path["tracks[0].levels[1].rank"] - 1].strip() == "rank: 1"
    assert rows[by_path["areas[1].competencies[0].expectations.L3"] - 1].strip() == "L3:"
    assert "1 must be higher than the rank of L1 (1), the level before it" in page
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Framework)).scalar() == 0


def test_an_import_shows_the_line_of_each_error(app, head):
    broken = framework_yaml(levels=2).replace("rank: 2", "rank: 1")
    line = next(
        i for i, row in enumerate(broken.splitlines(), 1) if row.strip() == "rank: 1" and i > 12
    )
    page = text(upload(head, broken, "ladder.yaml"))
    assert f'<span class="line">Line {line}</span> <code>tracks[0].levels[1].rank</code>' in page


def test_import_a_file_as_a_draft_and_see_its_warnings(app, head):
    data = framework_data(levels=2, measures=True)
    data["areas"][0]["competencies"][0]["expectations"]["L2"] = {"status": "empty"}
    response = upload(head, yaml.safe_dump(data, sort_keys=False), "ladder.yaml")
    assert response.status_code == 302, text(response)[:3000]
    assert response.headers["Location"] == "/frameworks/sample/v1/edit?show=warnings#warnings"
    page = text(head.get(response.headers["Location"]))
    assert (
        "Sample was imported as version 1 (a draft) with 1 warning; they are listed below." in page
    )
    assert "Not written yet (1 cell)" in page
    assert f'href="{EDITOR}/cells/' in page


def test_import_and_publish_at_once(app, head):
    response = upload(head, framework_yaml(), "ladder.yml", publish="y", changelog="First ladder")
    assert response.status_code == 302
    with app.app_context():
        version = db.session.execute(select(FrameworkVersion)).scalar_one()
        assert (version.status, version.changelog) == (VersionStatus.PUBLISHED, "First ladder")


def test_import_a_csv_by_its_name(app, head):
    version_id = import_framework(app)
    with app.app_context():
        csv_text = files.export(version_id, "csv").replace("Does skill 0.0 at L1.", "Does 0.0.")
    response = upload(head, csv_text, "from-csv.csv")
    assert response.status_code == 302, text(response)[:2000]
    assert response.headers["Location"].startswith("/frameworks/sample/v2/edit")
    with app.app_context():
        version = store.find_version("sample", 2)
        assert version.areas[0].competencies[0].expectations[0].text == "Does 0.0."


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_importing_the_file_of_the_current_version_adds_no_draft(app, head, fmt):
    version_id = import_framework(app, publish=True)
    with app.app_context():
        exported = files.export(version_id, fmt)
    response = upload(head, exported, f"sample-v1.{fmt}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/frameworks/sample/v1/edit")
    page = text(head.get(response.headers["Location"]))
    assert "The file is identical to version 1 (published), so no new draft was made." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FrameworkVersion)) == 1


# --- the editor page ----------------------------------------------------------------------------


def test_the_editor_shows_the_whole_draft(app, head):
    import_framework(app, tracks=2, levels=2, areas=2, per_area=2)
    page = text(head.get(f"{EDITOR}/edit"))
    for part in ("Track 0", "Track 1", "T0L1", "T1L2", "Area 0", "Area 1", "Skill 1.1"):
        assert part in page
    assert "Does skill 1.1 at T1L2." in page
    assert page.count('class="cell status-defined"') == 4 * 4
    assert "Publish…" in page and "Start a new draft" not in page


def test_a_published_version_offers_a_new_draft_instead_of_editing(app, head):
    import_framework(app, publish=True)
    page = text(head.get(f"{EDITOR}/edit"))
    assert "Start a new draft from this version" in page
    assert "/cells/" not in page and "/move" not in page and "Publish…" not in page
    response = head.post_form(f"{EDITOR}/new-draft")
    assert response.headers["Location"] == "/frameworks/sample/v2/edit"
    assert "Version 2 is a new draft, a copy of version 1." in text(
        head.get(response.headers["Location"])
    )
    page = text(head.get(f"{EDITOR}/edit"))
    assert "Edit draft version 2" in page and "Start a new draft" not in page


def test_forms_of_a_published_version_send_you_back_with_the_reason(app, head):
    found = ids(app, import_framework(app, publish=True))
    response = head.get(f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}")
    assert response.headers["Location"] == f"{EDITOR}/edit"
    page = text(head.get(response.headers["Location"]))
    assert "Version 1 is published; start a new draft to change it." in page
    # A form sent anyway (the version was published meanwhile) keeps what was typed.
    refused = head.post_form(
        f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}",
        {"status": "defined", "text": "Typed before it was published", "revision": "1"},
    )
    assert "Version 1 is published; start a new draft to change it." in text(refused)
    assert "Typed before it was published" in text(refused)
    assert stored_cell(app, found["cell:skill-0-0:L1"]).text == "Does skill 0.0 at L1."


@pytest.mark.parametrize("page", ["edit", "publish", "cell", "level", "competency", "remove"])
def test_pages_use_a_fixed_number_of_queries(app, head, page):
    counts = []
    # 4 cells against 160 (SQLAlchemy's selectin loading batches ids by 500, so the store's
    # loading of a version adds one query per 500 cells beyond that).
    sizes = {
        "small": {"levels": 2, "areas": 1, "per_area": 2, "tracks": 1},
        "large": {"levels": 4, "areas": 4, "per_area": 5, "tracks": 2},
    }
    for slug, size in sizes.items():
        version_id = import_framework(app, slug=slug, **size)
        found = ids(app, version_id)
        level = min(v for k, v in found.items() if k.startswith("level:"))
        competency = min(v for k, v in found.items() if k.startswith("competency:"))
        cell = min(v for k, v in found.items() if k.startswith("cell:"))
        path = {
            "edit": "edit",
            "publish": "publish",
            "cell": f"cells/{cell}",
            "level": f"levels/{level}/edit",
            "competency": f"competencies/{competency}/edit",
            "remove": f"levels/{level}/remove",
        }[page]
        counts.append(count_queries(app, head, f"/frameworks/{slug}/v1/{path}"))
    assert counts[0] == counts[1], counts


# --- cells --------------------------------------------------------------------------------------


def cell_form(page: str, **values) -> dict:
    data = {
        "status": "defined",
        "text": "",
        "measures": "",
        "criteria": "",
        "examples": "",
        "signals": "",
        "revision": hidden(page, "revision"),
    }
    return {**data, **values}


def test_edit_a_cell(app, head):
    found = ids(app, import_framework(app, levels=3))
    target = found["cell:skill-0-0:L2"]
    path = f"{EDITOR}/cells/{target}"
    page = text(head.get(path))
    assert "Does skill 0.0 at L2." in page and "An example at L2." in page
    assert "At L1, the level below" in page and "Does skill 0.0 at L1." in page
    response = head.post_form(
        path,
        cell_form(
            page,
            text="Runs research for a whole area.",
            criteria="Six interviews a quarter.\r\nA research log.\r\n",
            signals="Peers ask for their research.",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{EDITOR}/edit#cell-{target}"
    cell = stored_cell(app, target)
    assert cell.text == "Runs research for a whole area."
    editor = text(head.get(response.headers["Location"]))
    assert "Skill 0.0 at L2 was saved." in editor and "3 indicators" in editor


def test_write_a_measure_next_to_the_expectation(app, head):
    version_id = import_framework(app, levels=2)
    target = ids(app, version_id)["cell:skill-0-0:L2"]
    path = f"{EDITOR}/cells/{target}"
    page = text(head.get(path))
    # The measure is asked for with the expectation, before the other indicators.
    assert page.index('name="text"') < page.index('name="measures"') < page.index('name="criteria"')
    assert "Measure: how you&#39;ll know" in page and "not a count of activities" in page
    measure = "Two teams changed a decision because of their research."
    response = head.post_form(
        path, cell_form(page, text="Runs research.", examples="An example.", measures=measure)
    )
    assert response.status_code == 302
    cell = stored_cell(app, target)
    with app.app_context():
        rows = db.session.execute(
            select(Indicator.kind, Indicator.text)
            .where(Indicator.expectation_id == target)
            .order_by(Indicator.position)
        )
        stored = [(kind.value, indicator_text) for kind, indicator_text in rows]
    assert stored == [("measure", measure), ("example", "An example.")]
    assert cell.text == "Runs research."
    assert f"{measure}</textarea>" in text(head.get(path))
    assert f"text: {measure}" in exported(app, version_id)


def test_the_editor_and_the_publish_page_list_the_wording_warnings(app, head):
    data = framework_data(levels=2, areas=1, per_area=1, measures=True)
    expectations = data["areas"][0]["competencies"][0]["expectations"]
    expectations["L1"]["text"] = "Runs research for their team."
    expectations["L2"]["text"] = "Runs research across the company."
    expectations["L1"]["indicators"].pop(0)  # the measure
    with app.app_context():
        version, _ = files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml")
        db.session.commit()
        version_id = version.id
    target = ids(app, version_id)["cell:skill-0-0:L1"]
    for page in (text(head.get(f"{EDITOR}/edit")), text(head.get(f"{EDITOR}/publish"))):
        flat = " ".join(re.sub(r"<[^>]+>", " ", page).split())
        assert "2 warnings" in flat
        # Cells without a measure are listed together, as links (a Monzo file has none).
        assert "Without a measure (1 cell): say how you will know each expectation is met." in flat
        assert f'<li><a href="{EDITOR}/cells/{target}">Skill 0.0 at L1</a></li>' in page
        # Another warning starts with the cell's link and does not name the cell again.
        assert (
            "Skill 0.0 at L2 differs from L1, the level below, only in scope words" in flat
            and "Skill 0.0 at L2 Skill 0.0" not in flat
        )


def test_save_and_go_to_the_next_level(app, head):
    found = ids(app, import_framework(app, levels=3))
    path = f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}"
    page = text(head.get(path))
    response = head.post_form(path, cell_form(page, text="Better.", save_next="1"))
    assert response.headers["Location"] == f"{EDITOR}/cells/{found['cell:skill-0-0:L2']}"


def test_a_bad_cell_shows_the_error_at_its_field_and_keeps_the_input(app, head):
    found = ids(app, import_framework(app))
    path = f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}"
    page = text(head.get(path))
    response = head.post_form(path, cell_form(page, status="empty", text="Half a thought"))
    assert response.status_code == 400
    page = text(response)
    assert re.search(r'id="status-error">A cell marked empty has no text', page)
    assert "Half a thought" in page
    assert stored_cell(app, found["cell:skill-0-0:L1"]).text == "Does skill 0.0 at L1."


def test_two_people_saving_the_same_cell_get_a_conflict_showing_both(app, make_app, org):
    found = ids(app, import_framework(app))
    path = f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}"
    first, second = app.test_client(), make_app().test_client()
    sign_in(first, org.head)
    sign_in(second, org.head)
    first_page, second_page = text(first.get(path)), text(second.get(path))

    assert first.post_form(path, cell_form(first_page, text="Their wording")).status_code == 302
    response = second.post_form(path, cell_form(second_page, text="My wording"))

    assert response.status_code == 409
    page = text(response)
    assert "Someone else saved Skill 0.0 at L1 while you were editing it." in page
    assert re.search(r"<dt>Expectation</dt><dd>Their wording</dd>", page)  # theirs, as saved
    assert re.search(r'<textarea[^>]*id="text"[^>]*>\s*My wording</textarea>', page)  # mine
    assert stored_cell(app, found["cell:skill-0-0:L1"]).text == "Their wording"
    # Saving again now is a knowing choice: it replaces theirs.
    assert second.post_form(path, cell_form(page, text="My wording")).status_code == 302
    assert stored_cell(app, found["cell:skill-0-0:L1"]).text == "My wording"


def test_two_people_renaming_the_same_level_get_a_conflict(app, make_app, org):
    found = ids(app, import_framework(app, levels=2))
    path = f"{EDITOR}/levels/{found['level:L2']}/edit"
    first, second = app.test_client(), make_app().test_client()
    sign_in(first, org.head)
    sign_in(second, org.head)
    first_page, second_page = text(first.get(path)), text(second.get(path))

    def level_form(page, title):
        return {"code": "L2", "title": title, "rank": "2", "revision": hidden(page, "revision")}

    assert first.post_form(path, level_form(first_page, "Theirs")).status_code == 302
    response = second.post_form(path, level_form(second_page, "Mine"))
    assert response.status_code == 409
    page = text(response)
    assert "<dt>Title</dt><dd>Theirs</dd>" in page and 'value="Mine"' in page
    with app.app_context():
        assert db.session.get(Level, found["level:L2"]).title == "Theirs"


# --- structure ----------------------------------------------------------------------------------


def test_add_a_level_and_its_cells_appear_in_the_grid(app, head):
    version_id = import_framework(app, levels=2)
    found = ids(app, version_id)
    path = f"{EDITOR}/tracks/{found['track:track-0']}/levels/new"
    page = text(head.get(path))
    response = head.post_form(
        path,
        {
            "code": "L3",
            "title": "Level 3",
            "rank": "3",
            "summary": "Leads.",
            "revision": hidden(page, "revision"),
        },
    )
    assert response.status_code == 302
    editor = text(head.get(response.headers["Location"]))
    assert "The level L3 was added." in editor
    assert editor.count('class="cell status-empty"') == 4
    bad = head.post_form(
        path, {"code": "L1", "title": "Again", "rank": "9", "revision": hidden(editor, "revision")}
    )
    assert re.search(r'id="code-error">Level 1 uses the code &#34;L1&#34; already', text(bad))


def test_move_and_remove_through_the_editor(app, head):
    version_id = import_framework(app, per_area=3)
    found = ids(app, version_id)
    page = text(head.get(f"{EDITOR}/edit"))
    revision = hidden(page, "revision")
    skill = found["competency:skill-0-0"]
    response = head.post_form(
        f"{EDITOR}/competencies/{skill}/move", {"direction": "down", "revision": revision}
    )
    assert response.headers["Location"] == f"{EDITOR}/edit#competency-{skill}"
    assert "Skill 0.0 moved down." in text(head.get(response.headers["Location"]))
    stale = head.post_form(
        f"{EDITOR}/competencies/{skill}/move", {"direction": "down", "revision": revision}
    )
    assert stale.status_code == 409 and "Move it down anyway" in text(stale)
    confirm = text(head.get(f"{EDITOR}/competencies/{skill}/remove"))
    assert "Remove the competency Skill 0.0" in confirm and "its 3 cells" in confirm
    response = head.post_form(
        f"{EDITOR}/competencies/{skill}/remove", {"revision": hidden(confirm, "revision")}
    )
    assert response.headers["Location"] == f"{EDITOR}/edit#areas"
    with app.app_context():
        doc = store.to_document(store.load_version(version_id))
    assert [c.key for c in doc.areas[0].competencies] == ["skill-0-1", "skill-0-2"]


def test_removing_an_area_needs_the_box_ticked(app, head):
    version_id = import_framework(app, areas=2)
    area = ids(app, version_id)["area:area-0"]
    path = f"{EDITOR}/areas/{area}/remove"
    page = text(head.get(path))
    response = head.post_form(path, {"revision": hidden(page, "revision")})
    assert response.status_code == 400
    assert 'id="confirm-error">Area 0 holds 2 competencies' in text(response)
    response = head.post_form(path, {"revision": hidden(page, "revision"), "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert [a.key for a in store.load_version(version_id).areas] == ["area-1"]


def test_edit_a_competency_and_its_tracks(app, head):
    version_id = import_framework(app, tracks=2, levels=1)
    found = ids(app, version_id)
    path = f"{EDITOR}/competencies/{found['competency:skill-0-0']}/edit"
    page = text(head.get(path))
    assert 'value="Skill 0.0"' in page and "skill-0-0" in page
    form = {
        "name": "Research",
        "description": "Talking to customers.",
        "area_id": str(found["area:area-1"]),
        "track_ids": [str(found["track:track-1"])],
        "revision": hidden(page, "revision"),
    }
    refused = head.post_form(path, form)
    assert 'id="drop_written_cells-error">Taking away Track 0 deletes' in text(refused)
    response = head.post_form(path, {**form, "drop_written_cells": "y"})
    assert response.status_code == 302
    with app.app_context():
        doc = store.to_document(store.load_version(version_id))
    moved = doc.areas[1].competencies[-1]
    assert (moved.key, moved.name, moved.tracks) == ("skill-0-0", "Research", ["track-1"])
    assert list(moved.expectations) == ["T1L1"]


def test_a_competency_gets_a_short_name_for_the_grid_of_at_most_16_characters(app, head):
    version_id = import_framework(app)
    found = ids(app, version_id)
    path = f"{EDITOR}/competencies/{found['competency:skill-0-0']}/edit"
    page = text(head.get(path))
    assert '<label for="short_name"' in page and "heads the competency&#39;s column" in page
    form = {
        "name": "Stakeholder management",
        "short_name": "Stakeholders and partners",
        "description": "",
        "area_id": str(found["area:area-0"]),
        "track_ids": [str(found["track:track-0"])],
        "revision": hidden(page, "revision"),
    }
    refused = head.post_form(path, form)
    assert refused.status_code == 400
    assert 'id="short_name-error">Use at most 16 characters (this has 25)' in text(refused)
    with app.app_context():
        doc = store.to_document(store.load_version(version_id))
    assert (doc.areas[0].competencies[0].name, doc.areas[0].competencies[0].short_name) == (
        "Skill 0.0",
        "",
    )
    assert head.post_form(path, {**form, "short_name": " Stakeholders "}).status_code == 302
    with app.app_context():
        doc = store.to_document(store.load_version(version_id))
    assert doc.areas[0].competencies[0].short_name == "Stakeholders"
    assert "    short_name: Stakeholders\n" in exported(app, version_id)
    assert 'value="Stakeholders"' in text(head.get(path))
    # A new competency may have one from the start.
    add = f"{EDITOR}/areas/{found['area:area-0']}/competencies/new"
    page = text(head.get(add))
    response = head.post_form(
        add,
        {
            "name": "Prioritisation",
            "short_name": "Priorities",
            "area_id": str(found["area:area-0"]),
            "track_ids": [str(found["track:track-0"])],
            "revision": hidden(page, "revision"),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        doc = store.to_document(store.load_version(version_id))
    assert doc.areas[0].competencies[-1].short_name == "Priorities"


def test_decision_rights_from_the_level_page(app, head):
    version_id = import_framework(app)
    found = ids(app, version_id)
    level_page = text(head.get(f"{EDITOR}/levels/{found['level:L1']}/edit"))
    assert "What to build next" in level_page and "1 — Tell" in level_page
    path = f"{EDITOR}/levels/{found['level:L1']}/decisions/new"
    page = text(head.get(path))
    assert "7 — Delegate" in page and "Approver" in page
    response = head.post_form(
        path,
        {
            "decision": "Pricing",
            "role": "approver",
            "delegation": "5",
            "revision": hidden(page, "revision"),
        },
    )
    assert response.headers["Location"] == f"{EDITOR}/levels/{found['level:L1']}/edit#decisions"
    assert "5 — Advise" in text(head.get(response.headers["Location"]))


# --- publishing ---------------------------------------------------------------------------------


def place(app, person, version_id, code):
    with app.app_context():
        level = db.session.execute(
            select(Level).where(Level.version_id == version_id, Level.code == code)
        ).scalar_one()
        db.session.get(User, person.id).level_id = level.id
        db.session.commit()


def test_publish_with_a_level_mapping_moves_the_person(app, head, org):
    first = import_framework(app, publish=True, levels=3)
    place(app, org.pm_a1, first, "L3")
    place(app, org.pm_b1, first, "L1")
    head.post_form(f"{EDITOR}/new-draft")
    with app.app_context():
        draft_id = db.session.execute(
            select(FrameworkVersion.id).where(FrameworkVersion.number == 2)
        ).scalar_one()
    found = ids(app, draft_id)
    page = text(head.get(f"/frameworks/sample/v2/levels/{found['level:L3']}/remove"))
    head.post_form(
        f"/frameworks/sample/v2/levels/{found['level:L3']}/remove",
        {"revision": hidden(page, "revision")},
    )

    page = text(head.get("/frameworks/sample/v2/publish"))
    assert "People on levels that this version removes" in page
    assert "Alice Pm, now L3" in page and "Bea Pm" not in page
    field = f"level_for_{org.pm_a1.id}"
    missing = head.post_form(
        "/frameworks/sample/v2/publish",
        {"changelog": "Two levels", field: "", "revision": hidden(page, "revision")},
    )
    assert f'id="{field}-error">Choose a level for Alice Pm.' in text(missing)
    no_note = head.post_form(
        "/frameworks/sample/v2/publish",
        {field: str(found["level:L2"]), "revision": hidden(page, "revision")},
    )
    assert 'id="changelog-error">Say what changed in this version.' in text(no_note)

    response = head.post_form(
        "/frameworks/sample/v2/publish",
        {
            "changelog": "Two levels",
            field: str(found["level:L2"]),
            "revision": hidden(page, "revision"),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/frameworks/sample/v2/"
    with app.app_context():
        versions_now = db.session.execute(
            select(FrameworkVersion.number, FrameworkVersion.status).order_by(
                FrameworkVersion.number
            )
        ).all()
        assert versions_now == [(1, VersionStatus.ARCHIVED), (2, VersionStatus.PUBLISHED)]
        alice = db.session.get(User, org.pm_a1.id)
        bea = db.session.get(User, org.pm_b1.id)
        assert alice.level_id == found["level:L2"]
        assert db.session.get(Level, bea.level_id).version_id == draft_id


def test_publishing_a_draft_changed_meanwhile_is_a_conflict(app, head):
    found = ids(app, import_framework(app))
    page = text(head.get(f"{EDITOR}/publish"))
    track_page = text(head.get(f"{EDITOR}/tracks/{found['track:track-0']}/edit"))
    head.post_form(
        f"{EDITOR}/tracks/{found['track:track-0']}/edit",
        {"key": "ic", "name": "IC", "revision": hidden(track_page, "revision")},
    )
    response = head.post_form(
        f"{EDITOR}/publish", {"changelog": "First", "revision": hidden(page, "revision")}
    )
    assert response.status_code == 409
    assert "Someone changed this draft after you opened this page" in text(response)
    with app.app_context():
        assert db.session.execute(select(FrameworkVersion.status)).scalar() is VersionStatus.DRAFT


def test_archive_a_draft(app, head):
    import_framework(app)
    response = head.post_form(f"{EDITOR}/archive")
    assert response.headers["Location"] == "/frameworks/sample/v1/"
    with app.app_context():
        assert db.session.execute(select(FrameworkVersion.status)).scalar() is (
            VersionStatus.ARCHIVED
        )
    assert "Version 1 is archived; start a new draft to change it." in text(
        head.get(f"{EDITOR}/tracks/new", follow_redirects=True)
    )


def test_a_cell_removed_while_someone_writes_it_keeps_their_text_in_view(app, make_app, org):
    found = ids(app, import_framework(app, per_area=2))
    skill = found["competency:skill-0-0"]
    cell_path = f"{EDITOR}/cells/{found['cell:skill-0-0:L1']}"
    writer, remover = app.test_client(), make_app().test_client()
    sign_in(writer, org.head)
    sign_in(remover, org.head)
    page = text(writer.get(cell_path))
    confirm = text(remover.get(f"{EDITOR}/competencies/{skill}/remove"))
    remover.post_form(
        f"{EDITOR}/competencies/{skill}/remove", {"revision": hidden(confirm, "revision")}
    )

    response = writer.post_form(cell_path, cell_form(page, text="Words worth keeping"))

    assert response.status_code == 409
    gone = text(response)
    assert "Removed meanwhile" in gone and "Words worth keeping" in gone
    assert "someone removed its competency or its level" in gone
    assert writer.get(cell_path).status_code == 404


def test_the_editor_of_a_published_version_reads_only_and_offers_a_new_draft(app, head):
    # (The browser tests reach editors by clicking, and no page links a published version's
    # editor; an old bookmark still lands on a page that says what to do.)
    import_framework(app, publish=True)
    page = text(head.get(f"{EDITOR}/edit"))
    assert "Version 1 is published, so it cannot change</h2>" in page
    assert "Start a new draft from this version</button>" in page
    assert "/cells/" not in page and "Publish…" not in page
