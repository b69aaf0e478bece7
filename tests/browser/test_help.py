"""Page help in the browser: open the first time a person reaches a page, folded when they come
back, and opened again with the keyboard (a details element: no script needed). The initials
avatars beside people's names stay out of the accessibility tree. axe-core stays clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_sign_in import click_nav, expect_home, sign_in
from tests.evidence_helpers import publish_and_place

pytestmark = [pytest.mark.browser, pytest.mark.midday]

TEAM_HELP = "Everyone in your line"


def test_help_is_open_on_the_first_visit_and_folded_when_coming_back(
    page: Page, app, org, assert_accessible
):
    publish_and_place(app, [org.pm_a1, org.pm_a2])
    sign_in(page, org.manager_a)
    expect_home(page, org.manager_a)

    click_nav(page, "Team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your team")
    summary = page.get_by_text("What this page shows", exact=True)
    help_ = page.locator("details[data-help=team]")
    expect(help_).to_have_attribute("open", "")
    expect(page.get_by_text(TEAM_HELP)).to_be_visible()
    # The avatar beside a report's name is decoration: the row's accessible name is the name.
    expect(page.get_by_role("rowheader", name="Alice Pm", exact=True)).to_be_visible()
    expect(page.locator(".avatar[aria-hidden=true]").first).to_be_visible()
    assert_accessible(page)

    click_nav(page, "Home")
    expect_home(page, org.manager_a)
    click_nav(page, "Team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your team")
    expect(help_).not_to_have_attribute("open", "")
    expect(page.get_by_text(TEAM_HELP)).to_be_hidden()

    # Folded, not gone: the summary opens it from the keyboard.
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(TEAM_HELP)).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text(TEAM_HELP)).to_be_hidden()
    page.keyboard.press("Space")
    expect(page.get_by_text(TEAM_HELP)).to_be_visible()
    assert_accessible(page)


def test_help_folds_per_page_and_per_person(page: Page, app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2])
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    click_nav(page, "Evidence")
    expect(page.locator("details[data-help=evidence]")).to_have_attribute("open", "")
    click_nav(page, "Growth")
    growth = page.locator("details[data-help=growth]")
    expect(growth).to_have_attribute("open", "")
    expect(page.get_by_text("Counts include your private drafts")).to_be_visible()
    click_nav(page, "Evidence")
    expect(page.locator("details[data-help=evidence]")).not_to_have_attribute("open", "")
    click_nav(page, "Growth")
    expect(growth).not_to_have_attribute("open", "")

    # Someone else reaching the same page sees its help open.
    other = page.context.browser.new_context(base_url=page.url.split("/growth")[0])
    try:
        second = other.new_page()
        sign_in(second, org.pm_a2)
        expect_home(second, org.pm_a2)
        click_nav(second, "Growth")
        expect(second.locator("details[data-help=growth]")).to_have_attribute("open", "")
    finally:
        other.close()
