"""A growth-plan goal in the browser, by accessible names: the manager proposes it, the PM
agrees it, evidence is linked as it comes in, the goal is done with its outcome and shows on the
growth page. The pages pass axe-core; screenshots at laptop and phone width when asked."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_sign_in import sign_in
from tests.evidence_helpers import publish_and_place

pytestmark = [pytest.mark.browser, pytest.mark.midday]
SHOTS = os.environ.get("GOAL_SHOTS")  # a folder: save screenshots of each page there


def shot(page: Page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_goal_from_proposal_to_done_with_linked_evidence(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")

    # The manager proposes a goal from Alice's page.
    sign_in(page, org.manager_a)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/people/{org.pm_a1.id}")
    page.get_by_role("link", name="Open Alice Pm\u2019s growth plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Pm\u2019s growth plan")
    expect(page.get_by_role("heading", name="No goals yet")).to_be_visible()
    assert_accessible(page)
    shot(page, "plan-empty")
    page.get_by_label("Competency").select_option(label="Skill 0.0")
    expect(page.get_by_label("Toward level")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("What will change").fill("Alice runs discovery with the team, not for it.")
    measure = page.get_by_label("How it will be measured")
    expect(measure).to_have_accessible_description(re.compile("The outcome, not the activity"))
    measure.fill("Two of the next three bets come from the team's own interviews.")
    page.get_by_label("Target date").fill("2027-03-31")
    page.get_by_role("button", name="Propose goal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Skill 0.0")
    expect(page.get_by_text("Awaiting agreement").first).to_be_visible()
    expect(page.get_by_role("button", name="Agree goal")).to_have_count(0)

    # Alice agrees it from her home page.
    page.context.clear_cookies()
    sign_in(page, org.pm_a1)
    page.wait_for_url(re.compile(r"/$"))
    panel = page.get_by_role("region", name="Growth-plan goals")
    expect(panel.get_by_role("heading", name="Awaiting your agreement")).to_be_visible()
    shot(page, "home")
    panel.get_by_role("link", name="Review the goal on Skill 0.0").click()
    expect(page.get_by_role("heading", name="Ada Manager proposed this goal")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Agree goal").click()
    expect(page.get_by_text("Goal agreed: it is part of the plan.")).to_be_visible()
    expect(page.locator("dt:text-is('Agreed by') + dd")).to_contain_text("Alice Pm on")
    goal_url = page.url

    # Evidence comes in: logged, then linked to the goal from the item's page.
    page.goto("/evidence/new")
    page.get_by_label("Title").fill("Team-led interview round")
    page.get_by_role("checkbox", name="Skill 0.0").check()
    page.get_by_label("Share with my manager and mentors").check()
    page.get_by_role("button", name="Save evidence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team-led interview round")
    goals = page.get_by_role("region", name="Growth-plan goals")
    goals.get_by_label("Link to your goal").select_option(
        label="Skill 0.0: Alice runs discovery with the team, not for it."
    )
    goals.get_by_role("button", name="Link to goal").click()
    expect(page.get_by_text("Linked to your goal.")).to_be_visible()
    shot(page, "evidence")
    page.get_by_role("region", name="Growth-plan goals").get_by_role(
        "link", name="Skill 0.0"
    ).click()
    evidence = page.get_by_role("region", name=re.compile("^Linked evidence"))
    expect(evidence.get_by_role("link", name="Team-led interview round")).to_be_visible()

    # Work starts, then the goal is done with its outcome.
    page.get_by_label("New status").select_option(label="In progress")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("The goal is now in progress.")).to_be_visible()
    page.get_by_label("New status").select_option(label="Done")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#note-error")).to_contain_text("Say what the outcome was")
    page.get_by_label("Outcome achieved, or why it is dropped").fill(
        "Three of three bets came from the team's interviews."
    )
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("The goal is now done.")).to_be_visible()
    expect(page.locator("dt:text-is('Outcome achieved') + dd")).to_have_text(
        "Three of three bets came from the team's interviews."
    )
    assert page.url == goal_url
    shot(page, "goal-done")

    # The growth page shows it beside readiness.
    page.goto("/growth")
    table = page.get_by_role("table", name=re.compile("Growth-plan goals and readiness"))
    row = table.get_by_role("row").filter(has=page.get_by_role("link", name="Skill 0.0"))
    expect(row).to_contain_text("Done")
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")
    expect(row).to_contain_text("1 item")
    assert_accessible(page)
    shot(page, "growth")
    page.goto(f"/people/{org.pm_a1.id}/goals")
    expect(page.get_by_role("heading", name=re.compile("^Done"))).to_be_visible()
    assert_accessible(page)
    shot(page, "plan")
    page.goto(f"/people/{org.pm_a1.id}")
    expect(page.get_by_role("region", name="Growth plan")).to_contain_text("1 done")
    shot(page, "person")
