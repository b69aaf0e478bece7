"""Career path pages in a real browser: home to the comparison, sticky headers, print, axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from app.extensions import db
from app.models import Job, JobStatus
from tests.browser.test_sign_in import expect_home, sign_in
from tests.web.test_framework_pages import CRAFTED, import_framework, place

pytestmark = pytest.mark.browser

MATRIX = "/frameworks/crafted/v1/"


@pytest.fixture
def crafted(app) -> int:
    return import_framework(app)


def test_pm_follows_compare_with_the_next_level_from_home(page: Page, app, org, crafted):
    place(app, org.pm_a1, "L1")
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    level = page.locator("dt:text-is('Level') + dd")
    expect(level.get_by_role("link", name="Associate")).to_be_visible()

    level.get_by_role("link", name="Compare with the next level").click()

    expect(page).to_have_url(re.compile(r"/frameworks/crafted/v1/compare\?a=L1&b=L2$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "From Associate L1 to Practitioner L2"
    )
    research = page.get_by_role("row").filter(has_text="Customer research")
    expect(research.locator("del")).to_have_text(["Joins", "day"])
    expect(research.locator("ins")).to_have_text(["Runs", "week"])
    # Removed words are struck through and added ones underlined: not told by colour alone.
    assert "line-through" in research.locator("del").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    assert "underline" in research.locator("ins").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    expect(page.get_by_role("row").filter(has_text="Problem framing")).to_contain_text(
        "Same at both levels"
    )
    # The choice can be changed from the page itself.
    page.get_by_label("To").select_option("M1")
    page.get_by_role("button", name="Compare").click()
    # The optional second level is sent empty: still a comparison of two levels.
    expect(page).to_have_url(re.compile(r"compare\?a=L1&b=M1&c=$"))
    expect(
        page.get_by_text("Coaching is not part of the Individual contributor track.")
    ).to_be_visible()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/frameworks/", "Career paths"),
        (MATRIX, "Crafted ladder"),
        ("/frameworks/crafted/v1/levels/L2", "Practitioner L2"),
        ("/frameworks/crafted/v1/compare?a=L1&b=L2", "From Associate L1 to Practitioner L2"),
        ("/frameworks/crafted/v1/compare?a=L1&b=M1", "From Associate L1 to Team lead M1"),
        ("/frameworks/crafted/v1/compare?a=L1&b=NOPE", "Compare two levels"),
    ],
    ids=["catalogue", "matrix", "level", "compare", "compare across tracks", "bad compare"],
)
def test_framework_pages_are_accessible(page: Page, org, crafted, assert_accessible, path, heading):
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_accessible(page)


def test_draft_and_archived_banners_are_accessible(
    page: Page, app, org, crafted, assert_accessible
):
    # An identical file makes no new version: each import changes the ladder's name.
    import_framework(app, CRAFTED.replace("Crafted ladder", "Crafted ladder two"))  # v1 archived
    import_framework(app, CRAFTED.replace("Crafted ladder", "Crafted ladder 3"), publish=False)
    sign_in(page, org.head)
    expect_home(page, org.head)
    page.goto(MATRIX)
    expect(page.get_by_role("note")).to_contain_text("This is version 1, archived on")
    assert_accessible(page)
    page.goto("/frameworks/crafted/v3/")
    expect(page.get_by_role("note")).to_contain_text("Draft — not visible to others.")
    assert_accessible(page)


def test_matrix_headers_stay_in_view_while_scrolling(page: Page, app, org, assert_accessible):
    from tests.framework_samples import framework_yaml

    import_framework(app, framework_yaml(slug="wide", levels=8, areas=5, per_area=4, tracks=2))
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto("/frameworks/wide/v1/")
    table = page.get_by_role("region", name=re.compile("what each competency expects"))
    first_level = page.get_by_role("columnheader", name=re.compile("Level 1 T0L1"))
    first_competency = page.get_by_role("rowheader", name=re.compile("Skill 0.0"))
    box = table.bounding_box()
    assert box is not None and box["width"] <= 1280
    assert table.evaluate("e => e.scrollWidth > e.clientWidth && e.scrollHeight > e.clientHeight")

    table.evaluate("e => e.scrollTo(e.scrollWidth, e.scrollHeight)")

    # The level row stays at the top of the table and the competency column at its left.
    header_box = first_level.bounding_box()
    assert header_box is not None and abs(header_box["y"] - box["y"]) < 60
    competency_box = page.get_by_role("rowheader").last.bounding_box()
    assert competency_box is not None and abs(competency_box["x"] - box["x"]) < 3
    assert first_competency.bounding_box()["y"] < box["y"]  # scrolled out of view
    # The scrolling table is reachable by keyboard (so it can be scrolled with the arrows).
    table.focus()
    expect(table).to_be_focused()


# Where a track's name is, against the sticky competency column and the scrolling box.
TRACK_LABEL = """([region, index]) => {
  const label = region.querySelectorAll('.track-label')[index].getBoundingClientRect();
  const corner = region.querySelector('.corner').getBoundingClientRect();
  return {left: label.left, right: label.right, corner: corner.right,
          end: region.getBoundingClientRect().right};
}"""


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_a_tracks_name_stays_readable_while_its_columns_scroll(page: Page, app, org, width):
    from tests.framework_samples import framework_yaml

    import_framework(app, framework_yaml(slug="wide", levels=8, areas=2, per_area=1, tracks=2))
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto("/frameworks/wide/v1/")
    table = page.get_by_role("region", name=re.compile("what each competency expects"))
    first_track = page.locator(".track-name").first
    # Scrolled until most of the first track's columns are out of view on the left.
    table.evaluate("(e, th) => e.scrollLeft = th.offsetWidth - 300", first_track.element_handle())
    at = page.evaluate(TRACK_LABEL, [table.element_handle(), 0])
    # Whole, right of the competency column (not under it) and inside the box.
    assert at["left"] >= at["corner"] and at["right"] <= at["end"]
    expect(first_track).to_be_visible()
    # Unscrolled, on a phone too, the name fits beside the competency column.
    table.evaluate("e => e.scrollLeft = 0")
    at = page.evaluate(TRACK_LABEL, [table.element_handle(), 0])
    assert at["left"] >= at["corner"] and at["right"] <= at["end"]


def test_indicators_open_with_the_keyboard(page: Page, org, crafted):
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto(MATRIX)
    summary = page.locator("summary").filter(has_text="Criteria, examples and signals")
    expect(page.get_by_text("Six interviews this half.").first).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Six interviews this half.").first).to_be_visible()


def test_printing_shows_every_indicator_without_the_toggles(page: Page, org, crafted):
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto(MATRIX)
    page.emulate_media(media="print")
    expect(page.locator("summary").first).to_be_hidden()
    expect(page.locator(".print-only").get_by_text("Six interviews this half.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Compare")).to_be_hidden()


def test_a_pm_asks_for_the_pdf_with_the_keyboard_and_lands_on_its_job(
    page: Page, app, org, crafted, assert_accessible
):
    sign_in(page, org.pm_a1)
    page.goto(MATRIX)
    pdf = page.get_by_role("button", name="PDF")
    pdf.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Career path PDF")
    expect(page.get_by_role("status")).to_contain_text("Waiting for a worker")
    expect(page.get_by_text("For Crafted ladder, version 1")).to_be_visible()
    assert_accessible(page)
    job_id = int(page.url.rsplit("/", 1)[1])
    with app.app_context():  # a worker takes it: the page follows it without a reload
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.RUNNING, progress=40, message="Rendering")
        )
        db.session.commit()
    expect(page.locator(".job-status")).to_have_text("Running")
    expect(page.get_by_role("status")).to_contain_text("Rendering · 40%")
    page.get_by_role("button", name="Cancel this job").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("You cancelled this job")).to_be_visible()
    expect(page.locator(".job-status")).to_have_text("Cancelled")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("row").filter(has_text="Career path PDF")).to_be_visible()
