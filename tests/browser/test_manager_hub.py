"""A manager gets from Team to a report's evidence and growth by clicking; a mentor sees what the
policy allows; a stranger gets nothing. Both pages fit a 390 px phone and pass axe-core."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.models import Visibility
from tests.browser.test_sign_in import expect_home, main_nav, sign_in
from tests.evidence_helpers import publish_and_place, record
from tests.services.test_readiness import set_rules

pytestmark = [pytest.mark.browser, pytest.mark.midday]

S = "\u2019"  # the typographic apostrophe the pages print (right single quotation mark)


def shoot(page: Page, name: str) -> None:
    """With RUNGS_SHOTS_DIR set, keep a full-page screenshot to look at; otherwise nothing."""
    folder = os.environ.get("RUNGS_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def fits(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide at {width} px: {_widest(page, width)}"


def _widest(page: Page, width: int) -> list[str]:
    """The elements that reach past the viewport, innermost first: where to look."""
    return page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > width + 1)
            .reverse().slice(0, 4)
            .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`
                + ` (${Math.round(e.getBoundingClientRect().right)} px)`)""",
        width,
    )


@pytest.fixture
def reports(app, org):
    """Alice (manager_a's report) with three shared items and a draft; Bea (mentored by Arun)
    with one. One item per competency is enough here, so the figures move."""
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1])
    set_rules(app, min_items=1, min_corroborated=0, recent_days=365, window_months=24)
    today = date.today()
    record(
        app,
        org.pm_a1,
        title="Old discovery interviews",
        occurred_on=today - timedelta(days=40),
        competency_keys=["skill-0-0"],
    )
    record(
        app, org.pm_a1, title="Pricing experiment", occurred_on=today, competency_keys=["skill-1-0"]
    )
    record(
        app, org.pm_a1, title="CSV import launch", occurred_on=today, competency_keys=["skill-0-0"]
    )
    record(
        app,
        org.pm_a1,
        title="Private notes",
        competency_keys=["skill-1-1"],
        visibility=Visibility.PRIVATE,
    )
    record(app, org.pm_b1, title="Bea shipped search", occurred_on=today)
    return org


def test_a_manager_goes_from_team_to_a_reports_evidence_and_growth(
    page, reports, assert_accessible
):
    org = reports
    sign_in(page, org.manager_a)
    expect_home(page, org.manager_a)
    main_nav(page).get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your team")
    expect(
        page.get_by_role("meter", name="Alice Pm: 2 of 4 competencies with enough evidence")
    ).to_be_visible()
    assert_accessible(page)
    shoot(page, "team-1280")
    fits(page, 390)
    shoot(page, "team-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Alice Pm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Pm")
    growth = page.get_by_role("region", name="Growth", exact=True)
    expect(growth).to_contain_text("2 of 4 competencies with enough evidence")
    expect(growth.get_by_role("meter")).to_have_attribute("value", "2")
    evidence = page.get_by_role("region", name="Shared evidence")
    expect(evidence.get_by_role("heading", level=3)).to_have_text(
        ["CSV import launch", "Pricing experiment", "Old discovery interviews"]
    )
    expect(evidence).not_to_contain_text("Private notes")
    assert_accessible(page)
    shoot(page, "hub-1280")
    fits(page, 390)
    shoot(page, "hub-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Filter by a competency with the keyboard: choose, then Enter on the button.
    search = page.get_by_role("search", name=f"Filter Alice Pm{S}s shared evidence")
    search.get_by_label("Competency").select_option(label="Skill 0.0")
    search.get_by_role("button", name="Filter").press("Enter")
    evidence = page.get_by_role("region", name="Shared evidence")
    expect(evidence.get_by_role("heading", level=3)).to_have_text(
        ["CSV import launch", "Old discovery interviews"]
    )
    expect(evidence.get_by_role("status")).to_have_text("2 items match these filters")
    assert_accessible(page)

    evidence.get_by_role("link", name="CSV import launch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CSV import launch")
    page.go_back()
    page.get_by_role("link", name=f"Open Alice Pm{S}s growth page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Alice Pm{S}s growth")


def test_bad_dates_are_explained_next_to_the_field(page, reports, assert_accessible):
    org = reports
    sign_in(page, org.manager_a)
    main_nav(page).get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Alice Pm").click()
    search = page.get_by_role("search", name=f"Filter Alice Pm{S}s shared evidence")
    search.get_by_label("From").fill("2026-09-01")
    search.get_by_label("To").fill("2026-01-01")
    search.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("The end date is before the start date.")
    expect(search.get_by_label("To")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    shoot(page, "hub-bad-filter-1280")


def test_a_mentor_sees_the_mentees_growth_and_shared_evidence(page, reports, assert_accessible):
    org = reports
    sign_in(page, org.pm_a2)  # Arun mentors Bea
    expect_home(page, org.pm_a2)
    page.get_by_role("link", name=org.pm_a2.name).first.click()  # their own page
    page.get_by_role("region", name="Mentees").get_by_role("link", name="Bea Pm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea Pm")
    expect(page.get_by_role("region", name="Growth", exact=True)).to_contain_text(
        "competencies with enough"
    )
    evidence = page.get_by_role("region", name="Shared evidence")
    expect(evidence.get_by_role("heading", level=3)).to_have_text(["Bea shipped search"])
    expect(page.get_by_role("region", name="Promotion cases")).to_have_count(0)
    assert_accessible(page)
    shoot(page, "hub-mentor-1280")
    page.get_by_role("link", name=f"Open Bea Pm{S}s growth page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bea Pm{S}s growth")


def test_an_unrelated_pm_cannot_open_the_page(page, reports):
    org = reports
    sign_in(page, org.pm_b1)
    expect_home(page, org.pm_b1)
    response = page.goto(f"/people/{org.pm_a1.id}")  # no link leads there: only a typed URL
    assert response is not None and response.status == 404
    expect(page.get_by_text("Alice Pm")).to_have_count(0)
    assert re.search(r"/people/\d+$", page.url)
