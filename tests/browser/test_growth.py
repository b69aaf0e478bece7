"""Growth in the browser: readiness changes when a PM logs evidence; the pages pass axe-core."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Level, User
from app.services.people import level_history
from tests.browser.test_sign_in import click_nav, expect_home, main_nav, sign_in
from tests.evidence_helpers import publish_and_place, record

pytestmark = [pytest.mark.browser, pytest.mark.midday]


def readiness_row(page: Page, competency: str) -> Locator:
    """A competency's row in the readiness table (not the heatmap), found by its row header."""
    table = page.get_by_role("table", name=re.compile(r"^Evidence per competency"))
    header = page.get_by_role("rowheader", name=re.compile(rf"^{re.escape(competency)}\b"))
    return table.get_by_role("row").filter(has=header)


def heatmap_row(page: Page, competency: str) -> Locator:
    table = page.get_by_role("table", name="Evidence items per competency and quarter")
    return table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=competency, exact=True)
    )


def test_logging_evidence_changes_readiness(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    growth = page.get_by_role("region", name="Your growth")
    expect(growth).to_contain_text("Evidence for the next level, Level 2 (L2)")
    assert_accessible(page)

    main_nav(page).get_by_role("link", name="Growth").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your growth")
    row = readiness_row(page, "Skill 0.0")
    expect(row.get_by_role("cell").nth(0)).to_have_text("○ No evidence yet")
    expect(row.get_by_role("cell").nth(1)).to_have_text("0")
    expect(heatmap_row(page, "Skill 0.0").get_by_role("cell").nth(5)).to_have_text("0")

    row.get_by_role("link", name="Log evidence for Skill 0.0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log evidence")
    page.get_by_label("Title").fill("Ran the pricing experiment")
    page.get_by_label("Kind").select_option(label="Experiment")
    page.get_by_role("checkbox", name="Skill 0.0").check()
    page.get_by_role("button", name="Save evidence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ran the pricing experiment")

    main_nav(page).get_by_role("link", name="Growth").click()
    row = readiness_row(page, "Skill 0.0")
    expect(row.get_by_role("cell").nth(0)).to_have_text("◐ Thin")
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")
    today = date.today()
    expect(row.get_by_role("cell").nth(3)).to_have_text(f"{today.day} {today:%b %Y}")
    expect(row.get_by_role("cell").nth(4)).to_contain_text("2 more items")
    # The current quarter is the last column of the heatmap.
    expect(heatmap_row(page, "Skill 0.0").get_by_role("cell").nth(5)).to_have_text("1")
    assert_accessible(page)


def test_growth_page_is_accessible_with_an_expectation_open(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")
    for key in ("skill-0-0", "skill-0-0", "skill-1-0"):
        record(app, org.pm_a1, competency_keys=[key], occurred_on=date.today())
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto("/growth")

    row = readiness_row(page, "Skill 0.0")
    # What the level expects opens in the row under the competency's, across the table.
    expects = row.locator("xpath=following-sibling::tr[1]")
    expects.get_by_text("What L2 expects").click()
    text = expects.get_by_text("Does skill 0.0 at L2.")
    expect(text).to_be_visible()
    table = page.get_by_role("table", name=re.compile(r"^Evidence per competency"))
    assert text.bounding_box()["width"] > table.bounding_box()["width"] / 2
    # The page's help is open on a first visit (folded after it: tests/browser/test_help.py).
    expect(page.get_by_text("How is “enough” worked out?")).to_be_visible()
    expect(page.get_by_text("It is thin with some evidence")).to_be_visible()
    assert_accessible(page)


def test_choose_another_level_with_the_keyboard(page, app, org):
    publish_and_place(app, [org.pm_a1], "L1")
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    page.goto("/growth")
    picker = page.get_by_label("Compare with")
    picker.focus()
    page.keyboard.press("ArrowDown")  # L2 → L3
    expect(picker).to_have_value("L3")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", level=2, name=re.compile(r"^Readiness for Level 3"))
    ).to_be_visible()
    expect(page).to_have_url(re.compile(r"/growth\?level=L3$"))


def test_a_manager_reads_a_reports_growth(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")
    sign_in(page, org.manager_a)
    expect_home(page, org.manager_a)
    page.goto(f"/growth/{org.pm_a1.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{org.pm_a1.name}\N{RIGHT SINGLE QUOTATION MARK}s growth"
    )
    expect(page.get_by_text("private drafts stay private")).to_be_visible()
    assert_accessible(page)


def test_thresholds_form_is_accessible_and_shows_errors_by_their_field(
    page, org, assert_accessible
):
    sign_in(page, org.head)
    expect_home(page, org.head)
    page.get_by_role("link", name="Readiness thresholds").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness thresholds")
    assert_accessible(page)

    page.get_by_label("Items needed per competency").fill("2")
    page.get_by_label("Of those, corroborated by a peer").fill("3")
    page.get_by_role("button", name="Save thresholds").click()
    corroborated = page.get_by_label("Of those, corroborated by a peer")
    expect(corroborated).to_have_attribute("aria-invalid", "true")
    expect(corroborated).to_have_accessible_description(re.compile(r"At most 2"))
    assert_accessible(page)

    corroborated.fill("2")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.get_by_role("status")).to_have_text("The readiness thresholds were saved.")
    expect(page.locator(".rule-preview")).to_contain_text("at least 2 items")


def shot(page: Page, name: str) -> None:
    """A full-page screenshot into $RUNGS_SHOTS, when set, to look at by eye."""
    folder = os.environ.get("RUNGS_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def promote_to(app, person, code: str, days_ago: int) -> date:
    """Move `person` to `code` through the level history `days_ago` days ago; that day."""
    day = date.today() - timedelta(days=days_ago)
    with app.app_context():
        level = db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()
        level_history.move(
            db.session.get(User, person.id),
            level,
            source="promotion",
            at=datetime.combine(day, time(12), tzinfo=UTC),
        )
        db.session.commit()
    return day


def test_after_a_promotion_readiness_counts_from_the_new_level(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")
    for _ in range(3):
        record(
            app, org.pm_a1, competency_keys=["skill-0-0"], occurred_on=date.today() - timedelta(40)
        )
    since = promote_to(app, org.pm_a1, "L2", days_ago=20)
    sentence = f"Counting evidence since you became Level 2 on {since.day} {since:%b %Y}"
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    growth = page.get_by_role("region", name="Your growth")
    expect(growth).to_contain_text("Evidence for the next level, Level 3 (L3)")
    expect(growth).to_contain_text(sentence)

    main_nav(page).get_by_role("link", name="Growth").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your growth")
    expect(page.get_by_text(sentence)).to_be_visible()
    row = readiness_row(page, "Skill 0.0")
    expect(row.get_by_role("cell").nth(0)).to_have_text("○ No evidence yet")
    expect(row.get_by_role("cell").nth(4)).to_contain_text("3 older items not counted")
    assert_accessible(page)
    shot(page, "growth-since-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "growth-since-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_top_of_a_track_says_so(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L2")
    promote_to(app, org.pm_a1, "L3", days_ago=3)
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    growth = page.get_by_role("region", name="Your growth")
    expect(growth).to_contain_text("You are at the top of Track 0")
    growth.get_by_role("link", name="Open your growth page").click()
    expect(
        page.get_by_text("You are at the top of Track 0; pick a level on another track to compare.")
    ).to_be_visible()
    expect(page.get_by_role("list", name="Competencies by status")).to_have_count(0)
    assert_accessible(page)
    shot(page, "growth-top-1280")


def test_the_head_sets_items_for_a_level(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")
    sign_in(page, org.head)
    expect_home(page, org.head)
    page.get_by_role("link", name="Readiness thresholds").click()
    field = page.get_by_label("Items needed at Level 3 (L3)")
    field.fill("0")
    page.get_by_role("button", name="Save thresholds").click()
    expect(field).to_have_accessible_description(re.compile(r"between 1 and 100"))
    assert_accessible(page)
    field.fill("6")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.get_by_role("status")).to_have_text("The readiness thresholds were saved.")
    expect(page.locator(".rule-preview")).to_contain_text("L3: 6")
    shot(page, "thresholds-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "thresholds-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


# Each cell's label as drawn on a phone card (rungs.css .stack-on-phone: data-label::before).
LABEL = "cell => getComputedStyle(cell, '::before').content.replace(/^\"|\"$/g, '')"


def test_on_a_phone_each_competency_is_a_card_with_every_column(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1], "L1")
    record(app, org.pm_a1, competency_keys=["skill-0-0"], occurred_on=date.today())
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)
    click_nav(page, "Growth")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your growth")

    row = readiness_row(page, "Skill 0.0")
    today = date.today()
    shown = [
        ("Status", "◐ Thin"),
        ("Items", "1"),
        ("Corroborated", "0"),
        ("Most recent", f"{today.day} {today:%b %Y}"),
        ("To reach enough", "2 more items, 1 more item corroborated by a peer"),
    ]
    for n, (label, value) in enumerate(shown):
        cell = row.get_by_role("cell").nth(n)
        expect(cell).to_contain_text(value)
        assert cell.evaluate(LABEL) == label
        box = cell.bounding_box()
        assert box and box["width"] > 0 and box["x"] + box["width"] <= 390, (label, box)
    link = row.get_by_role("link", name="Log evidence for Skill 0.0")
    link.scroll_into_view_if_needed()
    expect(link).to_be_in_viewport()
    box = link.bounding_box()
    assert box and box["x"] + box["width"] <= 390
    # The heatmap keeps its table and scrolls inside its region, and says so.
    expect(page.get_by_text("the table scrolls sideways")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    shot(page, "growth-cards-390")

    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_text("the table scrolls sideways")).to_be_hidden()
    assert row.get_by_role("cell").nth(0).evaluate(LABEL) == "none"  # a table again
    shot(page, "growth-table-1280")
