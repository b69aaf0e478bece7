"""The meeting grid in the browser, on the demo organisation: at 1280 px every competency of a
case fits without scrolling the grid sideways, the help is folded once seen, "Next disagreement"
walks the cells where the ratings differ, and at 390 px the grid scrolls inside its own labelled
region."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app import demo
from app.extensions import db
from app.models import User
from tests.browser.test_sign_in import click_nav, expect_home, sign_in
from tests.demo_copy import load_demo
from tests.factories import Person

pytestmark = [pytest.mark.browser]

FACILITATOR = "Maya Okafor"  # head of product, facilitated the demo's H2 2026 session
CYCLE, SESSION = "H2 2026", "Second-half calibration"


@pytest.fixture
def maya(app) -> Person:
    load_demo(app)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.name == FACILITATOR)).one()
        return Person(user.id, user.email, user.name, user.role, demo.DEMO_PASSWORD)


def open_session(page: Page, person: Person) -> None:
    """From the home page: Promotions → the cycle → its calibration session."""
    sign_in(page, person)
    expect_home(page, person)
    click_nav(page, "Promotions")
    page.get_by_role("link", name=CYCLE, exact=True).click()
    page.get_by_role("link", name=SESSION).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SESSION)


def test_at_1280_every_competency_fits_and_next_disagreement_moves_focus(
    maya, page: Page, assert_accessible
):
    page.set_viewport_size({"width": 1280, "height": 900})
    open_session(page, maya)
    # A first visit shows the help open (app/services/help.py); from the next one on, as in the
    # meeting, it is folded and the grid starts near the top.
    expect(page.locator("details.cal-help")).to_have_attribute("open", "")
    page.get_by_role("link", name=CYCLE, exact=True).first.click()
    page.get_by_role("link", name=SESSION).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SESSION)
    region = page.get_by_role("region", name="Cases by competency")
    grid = region.get_by_role("table")
    headers = grid.get_by_role("columnheader")
    names = headers.all_inner_texts()
    assert len(names) >= 14, names  # the case, the demo level's 12+ competencies, the outcome
    # Every column is inside the window and the grid does not scroll sideways.
    widths = region.evaluate("r => [r.scrollWidth, r.clientWidth, r.getBoundingClientRect().right]")
    assert widths[0] <= widths[1] and widths[2] <= 1280, widths
    for header in headers.all():
        box = header.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280, header.inner_text()
    # Short headers keep the full name as the accessible name.
    expect(grid.get_by_role("columnheader", name="Prioritisation & roadmapping")).to_be_visible()

    # The explanation is folded help: the grid starts near the top.
    help_ = page.locator("details.cal-help")
    expect(help_).not_to_have_attribute("open", "")
    expect(page.get_by_text("Each cell holds the manager's rating")).to_be_hidden()
    # (below the session's meeting time and the cycle's due date, which the page now shows)
    assert (region.bounding_box() or {"y": 9999})["y"] < 560

    # "Next disagreement" moves focus to the first, then the second cell where ratings differ.
    first = page.locator("#disagreement-1")
    second = page.locator("#disagreement-2")
    next_link = page.get_by_role("link", name="Next disagreement")
    next_link.click()
    expect(first).to_be_focused()
    # A mouse gets no focus ring: the cell is marked, and the page says which one it is.
    expect(first).to_have_class(re.compile(r"\bis-current\b"))
    expect(page.get_by_role("status").filter(has_text="Disagreement 1 of")).to_be_visible()
    # The widest disagreement comes first; its cell names the case, the competency and the place.
    expect(first).to_have_accessible_name(
        re.compile(
            r"^\S.+, .+: Manager (Below|Developing|Meets|Exceeds) Evidence .+"
            r"; disagreement 1 of \d+$"
        )
    )
    name = first.evaluate("a => a.textContent.replace(/\\s+/g, ' ')")
    assert not re.search(r"[BDME](Below|Developing|Meets|Exceeds)", name), name  # no stray initials
    next_link.focus()
    page.keyboard.press("Enter")
    expect(second).to_be_focused()
    page.keyboard.press("n")  # with the script, n walks on from the focused cell
    expect(page.locator("#disagreement-3")).to_be_focused()
    expect(first).not_to_have_class(re.compile(r"\bis-current\b"))
    expect(page.get_by_role("status").filter(has_text="Disagreement 3 of")).to_be_visible()
    assert_accessible(page)

    help_.get_by_text("How to read the grid").click()
    expect(page.get_by_text("Each cell holds the manager's rating")).to_be_visible()
    assert_accessible(page)


def test_at_390_the_grid_scrolls_in_its_own_region(maya, page: Page, assert_accessible):
    page.set_viewport_size({"width": 390, "height": 844})
    open_session(page, maya)
    region = page.get_by_role("region", name="Cases by competency")
    expect(region).to_have_attribute("tabindex", "0")
    scroll = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
    assert scroll[0] > scroll[1], scroll  # the grid scrolls inside its region …
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # … the page fits
    assert_accessible(page)
