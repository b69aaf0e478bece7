"""A full 1:1 in the browser, by accessible names: the manager starts the space and adds a
meeting, both add topics and notes, the manager assigns an action item, it shows in the next
meeting, and the report marks it done. The pages fit a 390 px phone."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_manager_hub import fits, shoot
from tests.browser.test_sign_in import click_nav, sign_in

pytestmark = [pytest.mark.browser]


def switch_to(page: Page, person, origin: str) -> None:
    page.context.clear_cookies()
    sign_in(page, person)
    page.wait_for_url(origin + "/")


def test_a_full_one_on_one(page: Page, org, live_server: str, assert_accessible):
    switch_to(page, org.manager_a, live_server)
    click_nav(page, "1:1s")
    shoot(page, "oneonones-index-1280")
    page.get_by_role("button", name="Start 1:1s with Alice Pm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1:1s with Alice Pm")
    expect(page.get_by_label("Date and time", exact=True)).not_to_have_value("")
    page.get_by_role("button", name="Add the next meeting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1:1 with Alice Pm")
    first_meeting = page.url

    page.get_by_label("Topic", exact=True).fill("Hiring plan for Q1")
    page.get_by_role("button", name="Add to the agenda").click()
    shared_notes = page.get_by_role("textbox", name="Edit the shared notes")
    shared_notes.fill("We agreed to **open two roles**.")
    page.get_by_role("button", name="Save shared notes").click()
    page.get_by_role("textbox", name="Your private notes").fill("Ada only: watch for burnout")
    page.get_by_role("button", name="Save private notes").click()
    page.get_by_label("Action item", exact=True).fill("Draft the job descriptions")
    page.get_by_label("Who does it").select_option(label="Alice Pm")
    page.get_by_label("Due (optional)").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Add action item").click()
    expect(page.get_by_role("region", name="Action items")).to_contain_text(
        "Draft the job descriptions"
    )

    switch_to(page, org.pm_a1, live_server)
    click_nav(page, "1:1s")
    page.get_by_role("link", name="Ada Manager").click()
    page.get_by_role("link", name=re.compile(r"UTC")).first.click()
    expect(page).to_have_url(first_meeting)
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda).to_contain_text("Hiring plan for Q1")
    expect(page.get_by_role("region", name="Shared notes")).to_contain_text("open two roles")
    expect(page.locator("body")).not_to_contain_text("watch for burnout")
    page.get_by_label("Topic", exact=True).fill("My promotion timeline")
    page.get_by_role("button", name="Add to the agenda").click()
    expect(agenda).to_contain_text("My promotion timeline")
    shared_notes.fill("We agreed to **open two roles**.\n\nAlice: I own the JD.")
    page.get_by_role("button", name="Save shared notes").click()
    expect(page.get_by_role("region", name="Shared notes")).to_contain_text("I own the JD")
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, "oneonones-meeting-1280")
    assert_accessible(page)
    fits(page, 390)
    shoot(page, "oneonones-meeting-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    switch_to(page, org.manager_a, live_server)
    click_nav(page, "1:1s")
    page.get_by_role("link", name="Alice Pm").click()
    page.get_by_role("button", name="Add the next meeting").click()
    second_meeting = page.url
    assert second_meeting != first_meeting
    carried = page.get_by_role("region", name="Action items")
    carried_heading = carried.get_by_role("heading", name="Carried over from earlier meetings")
    expect(carried_heading).to_be_visible()
    expect(carried).to_contain_text("Draft the job descriptions")

    switch_to(page, org.pm_a1, live_server)
    page.goto(second_meeting)
    page.get_by_role("button", name=re.compile(r"Mark done\W+Draft the job descriptions")).click()
    reopen = page.get_by_role("button", name=re.compile(r"Open again\W+Draft the job descriptions"))
    expect(reopen).to_be_visible()
    page.goto("/")
    expect(page.locator("body")).not_to_contain_text("Draft the job descriptions")
    click_nav(page, "1:1s")
    page.get_by_role("link", name="Ada Manager").click()
    expect(page.get_by_role("region", name="Open action items")).to_contain_text("Nothing open")
    shoot(page, "oneonones-space-1280")
    assert_accessible(page)
    fits(page, 390)
    shoot(page, "oneonones-space-390")
