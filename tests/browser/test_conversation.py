"""The conversation in the browser: a manager comments, the PM sees the notification and replies;
a peer confirms; the team page. Every page passes axe-core and works by keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_sign_in import main_nav, sign_in, tab_to
from tests.evidence_helpers import publish_and_place, record

pytestmark = pytest.mark.browser


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_manager_comments_and_the_pm_sees_the_notification(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1, org.pm_b1])
    evidence_id = record(app, org.pm_a1, title="Cut onboarding to three steps")

    sign_in(page, org.manager_a)
    page.goto(f"/evidence/{evidence_id}")
    conversation = page.get_by_role("region", name="Conversation")
    conversation.get_by_label("Add a comment").fill("Great result. *What* moved it most?")
    conversation.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Your comment was added.")
    comment = page.locator("article.comment").first
    expect(comment).to_contain_text("Ada Manager")
    expect(comment.locator("em")).to_have_text("What")
    page.get_by_role("button", name="Give kudos").click()
    expect(page.get_by_text("1 kudos — Ada Manager")).to_be_visible()
    assert_accessible(page)
    sign_out(page)

    sign_in(page, org.pm_a1)
    notifications = main_nav(page).get_by_role("link", name=re.compile(r"^Notifications"))
    expect(notifications).to_have_accessible_name("Notifications 2 unread")
    notifications.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    assert_accessible(page)
    # Opening the page marks nothing (a GET writes nothing); the button does.
    expect(notifications).to_have_accessible_name("Notifications 2 unread")
    page.get_by_role("button", name="Mark all as read").click()
    expect(main_nav(page).get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    page.get_by_role("listitem").filter(has_text="Ada Manager commented on").get_by_role(
        "link"
    ).click()
    expect(page).to_have_url(re.compile(rf"/evidence/{evidence_id}#comments$"))

    page.locator("details.reply summary").click()
    page.get_by_label("Your reply to Ada Manager").fill("The shorter sign-up form.")
    page.get_by_role("button", name="Send reply").click()
    replies = page.get_by_role("list", name="Replies to Ada Manager")
    expect(replies).to_contain_text("The shorter sign-up form.")

    page.get_by_label("Ask a colleague to corroborate").select_option(label="Bea Pm")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Bea Pm was asked to corroborate this item.")).to_be_visible()
    assert_accessible(page)
    sign_out(page)

    sign_in(page, org.pm_b1)
    page.goto("/corroborations")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Answer")).click()
    assert_accessible(page)
    page.get_by_label("Note (optional)").fill("I saw the funnel numbers.")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("You confirmed")
    sign_out(page)

    sign_in(page, org.pm_a1)
    page.goto(f"/evidence/{evidence_id}")
    expect(page.get_by_role("region", name="Corroboration")).to_contain_text("Confirmed by Bea Pm")


def test_a_comment_error_is_shown_next_to_the_field(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1])
    evidence_id = record(app, org.pm_a1)
    sign_in(page, org.manager_a)
    page.goto(f"/evidence/{evidence_id}")
    # the browser's own check would stop an empty form; a form sent anyway gets a clear page
    page.get_by_label("Add a comment").evaluate("element => element.removeAttribute('required')")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your comment")
    expect(page.locator("#body-error")).to_have_text("Write something before sending.")
    assert_accessible(page)


def test_the_team_page_by_keyboard(page, app, org, assert_accessible):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_d1, org.director])
    record(app, org.pm_a1)
    sign_in(page, org.manager_a)
    team = main_nav(page).get_by_role("link", name="Team")
    tab_to(page, team)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your team")
    direct = page.get_by_role("table", name="Your direct reports")
    expect(direct.get_by_role("rowheader")).to_have_text(["Alice Pm", "Arun Pm", "Dora Director"])
    skip = page.get_by_role("table", name="People reporting to Dora Director")
    expect(skip.get_by_role("rowheader")).to_have_text(["Dev Pm"])
    assert_accessible(page)
