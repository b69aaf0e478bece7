"""The framework editor in a real browser: a draft, a cell written by keyboard, publishing, axe.

Every test reaches the editor as the head of product would: signed in, from the home page, by
clicking through the catalogue (tests/browser/framework_clicks.py), never by typing an address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.framework_clicks import (
    head_opens_draft,
    open_catalogue,
    open_draft,
    start_new_draft,
)
from tests.browser.test_sign_in import expect_home, sign_in
from tests.web.test_framework_editor import import_framework, place

pytestmark = pytest.mark.browser


def tab_to(page: Page, target: Locator, *, limit: int = 60) -> None:
    """Press Tab until `target` has focus; fail, naming the stops, if it never does."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
        stops.append(page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)"))
    pytest.fail(f"Tab never reached {target}; it stopped at {stops}")


def test_head_writes_a_cell_by_keyboard_and_publishes_the_draft(page: Page, app, org):
    import_framework(app, publish=True, levels=3)
    sign_in(page, org.head)
    expect_home(page, org.head)
    open_catalogue(page)
    expect(page.get_by_role("link", name=re.compile("^Open the draft"))).to_have_count(0)

    start_new_draft(page, "Sample")

    expect(page).to_have_url(re.compile(r"/frameworks/sample/v2/edit$"))
    expect(page.get_by_role("status")).to_have_text(
        "Version 2 is a new draft, a copy of version 1."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Sample")
    # Open the cell from the grid with the keyboard.
    cell = page.get_by_role("link", name=re.compile(r"^Skill 0\.0 at L2: Does skill 0\.0 at L2\."))
    cell.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Skill 0.0 at L2")
    expect(page.get_by_text("At L1, the level below")).to_be_visible()

    tab_to(page, page.get_by_label("Expectation"))
    page.keyboard.press("Control+A")
    page.keyboard.type("Runs discovery for a whole product area.")
    tab_to(page, page.get_by_label("Signals"))
    page.keyboard.type("Peers ask to join their interviews.")
    tab_to(page, page.get_by_role("button", name="Save", exact=True))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/frameworks/sample/v2/edit#cell-\d+$"))
    expect(page.get_by_role("status")).to_have_text("Skill 0.0 at L2 was saved.")
    written = page.get_by_role("link", name=re.compile(r"^Skill 0\.0 at L2:"))
    expect(written).to_contain_text("Runs discovery for a whole product area.")
    expect(written).to_contain_text("2 indicators")

    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish version 2 of Sample")
    page.get_by_label("Changelog").fill("Sharper discovery at L2.")
    page.get_by_role("button", name="Publish version 2").click()

    expect(page).to_have_url(re.compile(r"/frameworks/sample/v2/$"))
    expect(page.get_by_role("status")).to_have_text("Version 2 of Sample is published.")
    expect(page.get_by_text("Runs discovery for a whole product area.")).to_be_visible()
    # Published, the draft is gone from the catalogue: the next edit starts a new draft.
    open_catalogue(page)
    expect(page.get_by_role("link", name=re.compile("^Open the draft"))).to_have_count(0)
    expect(page.get_by_role("button", name="Start a new draft of Sample")).to_be_visible()


def open_cell(page: Page, name: str) -> None:
    """In the editor: the cell's page, from its link in the grid."""
    page.get_by_role("link", name=re.compile(rf"^{re.escape(name)}:")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_a_cell_conflict_keeps_both_texts_in_view(page: Page, app, org):
    import_framework(app)
    head_opens_draft(page, org.head, "Sample")
    open_cell(page, "Skill 0.0 at L1")
    other = page.context.new_page()  # the same person in a second tab, signed in already
    other.goto("/")
    open_draft(other, "Sample")
    open_cell(other, "Skill 0.0 at L1")
    other.get_by_label("Expectation").fill("Their wording")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_role("status")).to_have_text("Skill 0.0 at L1 was saved.")

    page.get_by_label("Expectation").fill("My wording")
    page.get_by_role("button", name="Save", exact=True).click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Someone else saved Skill 0.0 at L1 while you were editing it.")
    expect(alert.locator("dt:text-is('Expectation') + dd")).to_have_text("Their wording")
    expect(page.get_by_label("Expectation")).to_have_value("My wording")


# Each editor page and the clicks that reach it from the draft's editor, or from the catalogue
# where it says so; a click is (role, accessible name).
FROM_CATALOGUE = "catalogue"
EDITOR_PAGES = {
    "editor": ([], "Edit Sample"),
    "cell": ([("link", re.compile(r"^Skill 0\.0 at T0L1:"))], "Skill 0.0 at T0L1"),
    "publish": ([("link", "Publish…")], "Publish version 1 of Sample"),
    "level": ([("link", "Edit T0L1")], "Edit the level T0L1"),
    "decision right": (
        [("link", "Edit T0L1"), ("link", "Add a decision right")],
        "Add a decision right to T0L1",
    ),
    "competency": ([("link", "Edit Skill 0.0")], "Edit the competency Skill 0.0"),
    "new competency": ([("link", "Add a competency to Area 0")], "Add a competency to Area 0"),
    "new track": ([("link", "Add a track")], "Add a track"),
    "new area": ([("link", "Add an area")], "Add a competency area"),
    "remove an area": ([("link", "Remove the area Area 0")], "Remove the area Area 0"),
    "new framework": ([FROM_CATALOGUE, ("link", "New framework")], "Start a career framework"),
    "import": ([FROM_CATALOGUE, ("link", "Import a framework")], "Import a career framework"),
}


@pytest.mark.parametrize("name", list(EDITOR_PAGES))
def test_editor_pages_are_accessible(page: Page, app, org, assert_accessible, name):
    import_framework(app, tracks=2, levels=2)
    clicks, heading = EDITOR_PAGES[name]
    if clicks[:1] == [FROM_CATALOGUE]:
        sign_in(page, org.head)
        expect_home(page, org.head)
        open_catalogue(page)
        clicks = clicks[1:]
    else:
        head_opens_draft(page, org.head, "Sample")
    for role, label in clicks:
        page.get_by_role(role, name=label, exact=isinstance(label, str)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_accessible(page)


def test_errors_conflicts_and_the_level_mapping_are_accessible(
    page: Page, app, org, assert_accessible
):
    first = import_framework(app, publish=True, levels=3)
    place(app, org.pm_a1, first, "L3")
    sign_in(page, org.head)
    expect_home(page, org.head)
    start_new_draft(page, "Sample")

    # A refused edit: the error sits next to its field.
    page.get_by_role("link", name="Edit L2").click()
    page.get_by_label("Rank").fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#rank-error")).to_contain_text("Choose a rank above 1")
    expect(page.get_by_label("Rank")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    # Remove L3, on which Alice is placed: publishing asks where she goes.
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Sample")
    page.get_by_role("link", name="Remove L3").click()
    page.get_by_role("button", name="Remove the level").click()
    expect(page.get_by_role("status")).to_have_text("The level L3 — Level 3 was removed.")
    page.get_by_role("link", name="Publish…").click()
    mapping = page.get_by_role("group", name="People on levels that this version removes")
    expect(mapping.get_by_label("Alice Pm, now L3")).to_be_visible()
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator(f"#level_for_{org.pm_a1.id}-error")).to_have_text(
        "Choose a level for Alice Pm."
    )
    expect(page.locator("#changelog-error")).to_have_text("Say what changed in this version.")
    assert_accessible(page)
    mapping.get_by_label("Alice Pm, now L3").select_option(label="L2 — Level 2")
    page.get_by_label("Changelog").fill("Two levels are enough.")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page).to_have_url(re.compile(r"/frameworks/sample/v2/$"))


def test_an_import_with_errors_is_accessible(page: Page, org, assert_accessible, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "format: rungs-framework/1\nslug: Bad Slug\nname: ''\ntracks: []\nareas: []\n"
    )
    sign_in(page, org.head)
    expect_home(page, org.head)
    open_catalogue(page)
    page.get_by_role("link", name="Import a framework").click()
    page.get_by_label("Framework file").set_input_files(str(broken))
    page.get_by_role("button", name="Import").click()
    expect(
        page.get_by_role("heading", level=2, name=re.compile("errors? in the file"))
    ).to_be_visible()
    expect(page.locator(".problems")).to_contain_text("Line 3 name: must not be empty")
    assert_accessible(page)
