"""A PM logs evidence with the keyboard only, shares it and finds it in the timeline; axe-core
checks the form (also with errors), the item page and the timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Evidence, EvidenceCompetency, EvidenceKind, Visibility
from tests.browser.test_sign_in import sign_in, tab_to
from tests.evidence_helpers import publish_and_place, record

pytestmark = pytest.mark.browser


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1])
    return org


def signed_in(page: Page, person) -> None:
    sign_in(page, person)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {person.name.split()[0]}")


def test_log_share_and_find_evidence_with_the_keyboard_only(page, app, placed, assert_accessible):
    signed_in(page, placed.pm_a1)
    page.goto("/evidence/")
    expect(page.get_by_text("No evidence yet — log your first item.")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Log evidence").first, limit=30)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log evidence")

    tab_to(page, page.get_by_label("Title", exact=True), limit=30)
    page.keyboard.type("Annual plan first on the pricing page")
    kind = page.get_by_label("Kind")
    tab_to(page, kind, limit=5)  # past the date, which defaults to today
    page.keyboard.press("ArrowDown")  # Launch → Experiment
    expect(kind).to_have_value(EvidenceKind.EXPERIMENT.value)
    page.keyboard.press("Tab")
    expect(page.get_by_label("What happened")).to_be_focused()
    page.keyboard.type("Showed the **annual** plan first for two weeks.")
    for label, value in [("Metric", "Annual share"), ("Before", "22"), ("After", "29")]:
        page.keyboard.press("Tab")
        expect(page.get_by_label(label, exact=True)).to_be_focused()
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Unit", exact=True)).to_be_focused()
    page.keyboard.type("%")

    # Two competencies, found with the filter (progressive enhancement: JavaScript is on here).
    search = page.get_by_label("Filter competencies")
    tab_to(page, search, limit=10)  # past the link rows
    page.keyboard.type("1.1")
    expect(page.get_by_role("status").filter(has_text="competencies shown")).to_have_text(
        "1 of 4 competencies shown."
    )
    page.keyboard.press("Tab")
    skill_11 = page.get_by_role("checkbox", name="Skill 1.1")
    expect(skill_11).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Shift+Tab")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")  # clears the filter
    page.keyboard.type("0.0")
    expect(page.get_by_role("checkbox", name="Skill 0.1")).to_be_hidden()
    expect(skill_11).to_be_visible()  # chosen ones stay in view
    page.keyboard.press("Tab")
    expect(page.get_by_role("checkbox", name="Skill 0.0")).to_be_focused()
    page.keyboard.press("Space")

    share = page.get_by_role("radio", name="Share with my manager and mentors")
    tab_to(page, page.get_by_role("radio", name="Private draft"), limit=3)
    page.keyboard.press("ArrowDown")
    expect(share).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save evidence")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Annual plan first on the pricing page"
    )
    expect(page.get_by_role("status").first).to_have_text(
        "Saved and shared with your manager and mentors."
    )
    outcome = page.get_by_role("region", name="Outcome")
    expect(outcome).to_contain_text("Annual share:")
    expect(outcome).to_contain_text(re.compile(r"22\s*→\s*(to)?\s*29 %"))
    expect(page.get_by_role("region", name="Competencies").get_by_role("listitem")).to_have_text(
        ["Skill 0.0", "Skill 1.1"]
    )
    expect(page.locator(".prose strong")).to_have_text("annual")
    assert_accessible(page)

    with app.app_context():
        item = db.session.execute(select(Evidence)).scalar_one()
        assert (item.kind, item.visibility, item.metric_after) == (
            EvidenceKind.EXPERIMENT,
            Visibility.SHARED,
            "29",
        )
        keys = db.session.execute(select(EvidenceCompetency.competency_key)).scalars().all()
        assert sorted(keys) == ["skill-0-0", "skill-1-1"]

    nav = page.get_by_role("navigation", name="Main")
    tab_to(page, nav.get_by_role("link", name="Evidence"), limit=30)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your evidence")
    row = page.get_by_role("article", name="Annual plan first on the pricing page")
    expect(row).to_contain_text("Experiment")
    expect(row).to_contain_text("Shared")
    expect(row.get_by_role("listitem")).to_have_text(["Skill 0.0", "Skill 1.1"])
    assert_accessible(page)


def test_the_log_form_is_accessible_empty_and_with_errors(page, placed, assert_accessible):
    signed_in(page, placed.pm_a1)
    page.goto("/evidence/new")
    assert_accessible(page)

    page.get_by_label("Address of link 1").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save evidence").click()

    title = page.get_by_label("Title", exact=True)
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description(re.compile("Give the item a title."))
    link = page.get_by_label("Address of link 1")
    expect(link).to_have_accessible_description(
        "Use a web address that starts with https:// or http://."
    )
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Title: Give the item a title.")
    expect(summary).to_contain_text("Competencies: Choose at least one competency.")
    summary.get_by_role("link", name=re.compile("^Competencies")).click()
    expect(page).to_have_url(re.compile("#competencies$"))
    assert_accessible(page)


def test_the_item_page_timeline_and_history_are_accessible(page, app, placed, assert_accessible):
    item_id = record(app, placed.pm_a1, title="Onboarding checklist launch")
    record(app, placed.pm_a1, title="A private draft", visibility=Visibility.PRIVATE)
    signed_in(page, placed.pm_a1)
    for path, heading in [
        (f"/evidence/{item_id}", "Onboarding checklist launch"),
        ("/evidence/", "Your evidence"),
        ("/evidence/?kind=strategy", "Your evidence"),
        (f"/evidence/{item_id}/history", "History"),
        (f"/evidence/{item_id}/edit", "Edit evidence"),
        ("/evidence/trash", "Trash"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)


def test_without_javascript_every_competency_is_listed_and_the_form_works(
    browser, live_server, app, placed
):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        signed_in(page, placed.pm_a1)
        page.goto("/evidence/new")
        expect(page.get_by_label("Filter competencies")).to_be_hidden()
        for name in ["Skill 0.0", "Skill 0.1", "Skill 1.0", "Skill 1.1"]:
            expect(page.get_by_role("checkbox", name=name)).to_be_visible()
        page.get_by_label("Title", exact=True).fill("Logged without JavaScript")
        page.get_by_role("checkbox", name="Skill 1.0").check()
        page.get_by_role("button", name="Save evidence").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Logged without JavaScript")
        expect(page.get_by_text("Private draft", exact=True)).to_be_visible()
    finally:
        context.close()


def test_delete_and_restore_from_the_flash(page, app, placed):
    item_id = record(app, placed.pm_a1, title="Pricing experiment")
    signed_in(page, placed.pm_a1)
    page.goto(f"/evidence/{item_id}")
    page.get_by_role("button", name="Move to Trash").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Moved to the Trash — restore it within 30 days."
    )
    page.get_by_role("button", name="Restore “Pricing experiment”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pricing experiment")
    expect(page.get_by_role("status").first).to_have_text("“Pricing experiment” is back.")
