"""From the home page: a manager nominates a report and finds the next level on the report's
track already chosen; the head of product lists people with their levels and picks a mentor by
typing a name into the filter and ticking the box. Each page fits 390 px and passes axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_manager_hub import fits, shoot
from tests.browser.test_sign_in import expect_home, main_nav, sign_in
from tests.promotion_helpers import make_cycle, place, publish_sample

pytestmark = [pytest.mark.browser, pytest.mark.midday]


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_a_manager_nominates_a_report_with_the_next_level_chosen(app, org, page, assert_accessible):
    levels = publish_sample(app)
    place(app, [org.pm_a1, org.pm_a2], levels["L1"])
    make_cycle(app)
    sign_in(page, org.manager_a)
    expect_home(page, org.manager_a)
    main_nav(page).get_by_role("link", name="Promotions").click()
    page.get_by_role("table").get_by_role("link", name="H1 2027").click()
    page.get_by_role("link", name="Nominate").click()
    expect(heading(page)).to_have_text("Nominate for promotion")
    expect(page.get_by_label("Proposed level")).to_have_count(0)  # the person comes first
    page.get_by_label("Person").select_option(label="Alice Pm — now L1 · Level 1")
    page.get_by_role("button", name="Show levels").click()
    level = page.get_by_label("Proposed level")
    expect(level).to_have_value(str(levels["L2"]))
    expect(level.get_by_role("option")).to_have_text(
        ["Choose a level", "L2 · Level 2", "L3 · Level 3"]
    )
    page.get_by_label("Manager statement").fill("Alice runs pricing end to end.")
    assert_accessible(page)
    shoot(page, "nominate-1280")
    fits(page, 390)
    shoot(page, "nominate-390")
    page.get_by_role("button", name="Nominate").click()
    expect(heading(page)).to_have_text("Alice Pm")
    expect(page.get_by_role("main")).to_contain_text("L2 · Level 2")


def test_the_head_sees_levels_and_picks_a_mentor_by_typing(app, org, page, assert_accessible):
    levels = publish_sample(app)
    place(app, [org.pm_a1], levels["L2"])
    sign_in(page, org.head)
    expect_home(page, org.head)
    main_nav(page).get_by_role("link", name="People").click()
    expect(page.get_by_role("row", name="Alice Pm")).to_contain_text("L2 · Level 2")
    assert_accessible(page)
    shoot(page, "people-1280")
    fits(page, 390)
    shoot(page, "people-390")
    page.set_viewport_size({"width": 1280, "height": 844})

    page.get_by_role("link", name="Alice Pm").click()
    page.get_by_role("link", name="Edit").click()
    mentors = page.get_by_role("group", name="Mentors")
    mentors.get_by_label("Filter mentors").fill("dora")
    expect(mentors.get_by_role("checkbox")).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="shown")).to_have_text("1 of 7 people shown.")
    mentors.get_by_role("checkbox", name="Dora Director").check()
    mentors.get_by_label("Filter mentors").fill("")
    expect(mentors.get_by_role("checkbox", name="Dora Director")).to_be_checked()
    assert_accessible(page)
    shoot(page, "mentors-1280")
    fits(page, 390)
    shoot(page, "mentors-390")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Edit").click()
    first = page.get_by_role("group", name="Mentors").get_by_role("checkbox").first
    expect(first).to_have_accessible_name("Dora Director")  # the chosen ones come first
    expect(first).to_be_checked()
