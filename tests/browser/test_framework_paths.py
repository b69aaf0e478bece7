"""The head of product finds editing by clicking from home: a new draft of a published
framework, an edit, import and a new framework; a PM sees none of these actions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.framework_clicks import open_catalogue
from tests.browser.test_sign_in import expect_home, main_nav, sign_in
from tests.web.test_framework_pages import import_framework

pytestmark = pytest.mark.browser

OPEN_PATH = re.compile(r"^Open the career path\W+Crafted ladder$")
EDITING = re.compile(
    r"^(New framework|Import a framework|Start a new draft|Open the draft|Edit this draft)"
)


def test_head_starts_a_draft_edits_it_and_finds_import_and_new_from_home(
    page: Page, app, org, assert_accessible
):
    import_framework(app)  # "Crafted ladder", version 1 published
    sign_in(page, org.head)
    expect_home(page, org.head)

    open_catalogue(page)
    assert_accessible(page)
    page.get_by_role("button", name="Start a new draft of Crafted ladder").click()

    expect(page).to_have_url(re.compile(r"/frameworks/crafted/v2/edit$"))
    expect(page.get_by_role("status")).to_have_text(
        "Version 2 is a new draft, a copy of version 1."
    )
    page.get_by_role("link", name=re.compile(r"^Customer research at L1:")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer research at L1")
    page.get_by_label("Expectation").fill("Runs two customer interviews a week.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Customer research at L1 was saved.")

    # The draft is found again from the catalogue, the version page and the history.
    main_nav(page).get_by_role("link", name="Career paths").click()
    expect(page.get_by_role("button", name=re.compile("^Start a new draft"))).to_have_count(0)
    page.get_by_role("link", name=OPEN_PATH).click()
    expect(page).to_have_url(re.compile(r"/frameworks/crafted/v1/$"))
    assert_accessible(page)
    page.get_by_role("link", name="Version history and changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Version history")
    assert_accessible(page)
    page.get_by_role("link", name="Open the draft (version 2) of Crafted ladder").click()
    expect(page).to_have_url(re.compile(r"/frameworks/crafted/v2/edit$"))
    expect(page.get_by_text("Runs two customer interviews a week.")).to_be_visible()

    main_nav(page).get_by_role("link", name="Career paths").click()
    page.get_by_role("link", name="Import a framework").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a career framework")
    main_nav(page).get_by_role("link", name="Career paths").click()
    page.get_by_role("link", name="New framework").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a career framework")


def test_a_pm_sees_no_editing_action(page: Page, app, org):
    import_framework(app)
    import_framework(app, publish=False)  # a draft exists too
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)

    open_catalogue(page)
    expect(page.get_by_role("link", name=EDITING)).to_have_count(0)
    expect(page.get_by_role("button", name=EDITING)).to_have_count(0)
    page.get_by_role("link", name=OPEN_PATH).click()
    expect(page.get_by_role("link", name=EDITING)).to_have_count(0)
    expect(page.get_by_role("button", name=EDITING)).to_have_count(0)
    page.get_by_role("link", name="Version history and changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Version history")
    expect(page.get_by_role("link", name=EDITING)).to_have_count(0)
    expect(page.get_by_role("button", name=EDITING)).to_have_count(0)
