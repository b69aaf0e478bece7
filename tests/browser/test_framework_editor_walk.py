"""The cell form on a phone: a measure as long as the shipped ones is read whole, not scrolled
inside its box; and the grid's "No measure" flag as the head of product sees it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.framework_clicks import head_opens_draft
from tests.framework_samples import framework_data
from tests.web.test_framework_editor_walk import import_data

pytestmark = pytest.mark.browser

# As long as the longest measures of the shipped ladders (about 250 characters).
LONG_MEASURE = (
    "Each finding of theirs on a question that falls between product lines has an owner and a "
    "decision recorded against it in the lines concerned, and a reviewer can trace that decision "
    "back to the customer evidence it rests on, without asking them."
)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_long_measure_is_read_whole_at_any_width(page: Page, app, org, width):
    assert len(LONG_MEASURE) >= 240
    data = framework_data(levels=2, areas=1, per_area=1, measures=True)
    cell = data["areas"][0]["competencies"][0]["expectations"]["L1"]
    cell["indicators"][0]["text"] = LONG_MEASURE
    data["areas"][0]["competencies"][0]["expectations"]["L2"]["indicators"].pop(0)
    import_data(app, data)
    head_opens_draft(page, org.head, "Sample")  # at the default width, the menu unfolded
    page.set_viewport_size({"width": width, "height": 900})

    # The grid flags the cell without a measure, and only that one.
    flagged = page.get_by_role("link", name=re.compile(r"^Skill 0\.0 at L2:"))
    expect(flagged.get_by_text("No measure", exact=True)).to_be_visible()
    expect(page.get_by_text("No measure", exact=True)).to_have_count(1)

    # By keyboard: at 390 px the grid's sticky first column lies over part of the cells.
    page.get_by_role("link", name=re.compile(r"^Skill 0\.0 at L1:")).focus()
    page.keyboard.press("Enter")
    measure = page.get_by_label("Measure: how you'll know")
    expect(measure).to_have_value(LONG_MEASURE)
    scroll, shown = measure.evaluate("box => [box.scrollHeight, box.clientHeight]")
    assert scroll <= shown, f"the measure scrolls inside its box: {scroll}px in {shown}px"
    width_of_page = page.evaluate("document.documentElement.scrollWidth")
    assert width_of_page <= width
