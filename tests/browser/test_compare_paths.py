"""A senior PM clicks from home to the two paths up from their level, side by side on a laptop
and stacked with labels on a phone, with the keyboard alone at the last step."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.framework_clicks import open_catalogue
from tests.browser.test_sign_in import expect_home, sign_in
from tests.two_paths import import_two_paths

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# What a stacked cell shows above its text (rungs.css: td[data-label]::before).
LABEL = "td => getComputedStyle(td, '::before').content"


def boxes(row) -> list[dict]:
    return [cell.bounding_box() for cell in row.locator("td").all()]


def open_both_paths_with_the_keyboard(page: Page) -> None:
    """From the level page: Tab to "Compare both paths" (bounded) and press Enter."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Compare both paths":
            break
    else:
        pytest.fail("Tab never reached the link to compare both paths")
    page.keyboard.press("Enter")


def test_a_senior_pm_compares_both_paths_on_a_laptop_and_a_phone(
    page: Page, app, org, assert_accessible
):
    import_two_paths(app)
    page.set_viewport_size(LAPTOP)
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    open_catalogue(page)
    page.get_by_role("link", name=re.compile(r"^Open the career path\W+Two paths$")).click()
    page.get_by_role("link", name="Senior Product Manager", exact=True).click()
    where = page.get_by_role("navigation", name="Where next")
    # A level's name opens its page; the comparisons are links of their own that say so.
    expect(where.get_by_role("link")).to_have_text(
        [
            "Group Product Manager",
            "Compare SPM with GPM",
            "Lead Product Manager",
            "Compare SPM with LPM",
            "Compare both paths",
        ]
    )
    expect(where).to_contain_text("Group Product Manager GPM (Individual contributor)")
    expect(where).to_contain_text("Lead Product Manager LPM (Management)")

    open_both_paths_with_the_keyboard(page)

    expect(page).to_have_url(re.compile(r"compare\?a=SPM&b=GPM&c=LPM$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "From Senior Product Manager SPM to Group Product Manager GPM or Lead Product Manager LPM"
    )
    research = page.get_by_role("row").filter(has_text="Customer research")
    expect(research.locator("ins")).to_have_text(
        ["across", "product line", "with each of", "reports"]
    )
    # A laptop: the level compared from and both paths in three columns, side by side.
    left, middle, right = boxes(research)
    assert left["y"] == middle["y"] == right["y"]
    assert left["x"] + left["width"] <= middle["x"] and middle["x"] + middle["width"] <= right["x"]
    role_clarity = page.get_by_role("row").filter(has_text="Role clarity")
    expect(role_clarity.locator("td").nth(1)).to_have_text("Not on this track")
    expect(role_clarity.locator("td").nth(2)).to_contain_text("New on this path")
    assert_accessible(page)

    # A phone: the same row stacks, each text under the level it belongs to; nothing scrolls
    # sideways.
    page.set_viewport_size(PHONE)
    first, second, third = boxes(research)
    assert first["x"] == second["x"] == third["x"]
    assert first["y"] < second["y"] < third["y"]
    labels = [cell.evaluate(LABEL) for cell in research.locator("td").all()]
    assert labels == [
        '"From SPM · Senior Product Manager"',
        '"To GPM · Group Product Manager (Individual contributor)"',
        '"To LPM · Lead Product Manager (Management)"',
    ]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
