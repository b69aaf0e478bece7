"""A PM logs a private draft, opens it from the timeline and shares it with one button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Evidence, Visibility
from tests.browser.test_sign_in import expect_home, main_nav, sign_in
from tests.evidence_helpers import publish_and_place

pytestmark = pytest.mark.browser

TITLE = "Pricing page interviews"


def test_a_private_draft_is_shared_from_its_page(page: Page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1])
    sign_in(page, org.pm_a1)
    expect_home(page, org.pm_a1)

    main_nav(page).get_by_role("link", name="Evidence").click()
    page.get_by_role("link", name="Log evidence").first.click()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_role("checkbox", name="Skill 0.0").check()
    expect(page.get_by_role("radio", name="Private draft")).to_be_checked()
    page.get_by_role("button", name="Save evidence").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Saved as a private draft. Share it when it is ready."
    )

    main_nav(page).get_by_role("link", name="Evidence").click()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("Private draft", exact=True)).to_be_visible()
    share = page.get_by_role("button", name="Share", exact=True)
    expect(share).to_have_accessible_description(
        "Not yet: only you can see it. Share shows it to your manager and mentors."
    )
    assert_accessible(page)

    share.click()

    expect(page.get_by_role("status").first).to_have_text(
        f"“{TITLE}” is now shared with your manager and mentors."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".evidence-meta")).to_contain_text("Shared")
    expect(page.get_by_role("button", name="Share", exact=True)).to_have_count(0)
    assert_accessible(page)
    with app.app_context():
        item = db.session.execute(select(Evidence)).scalar_one()
        assert item.visibility is Visibility.SHARED
