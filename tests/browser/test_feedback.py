"""A feedback request from end to end, by accessible names: a PM asks two colleagues, one answers
in situation-behaviour-impact form, the PM shares that answer with their manager, and the manager
reads it on the PM's page. The pages pass axe-core and fit 1280 and 390 px; the retrospective
template of a lesson is inserted when the kind is switched on an empty body."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_manager_hub import fits, shoot
from tests.browser.test_sign_in import click_nav, sign_in
from tests.evidence_helpers import publish_and_place

pytestmark = [pytest.mark.browser, pytest.mark.midday]


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_a_pm_asks_two_colleagues_one_answers_and_the_manager_reads_the_shared_answer(
    app, page, org, assert_accessible
):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1])
    sign_in(page, org.pm_a1)
    page.wait_for_url("**/")
    click_nav(page, "Feedback")
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback")
    shoot(page, "feedback-index-empty")
    page.get_by_role("link", name="Ask for feedback").click()

    page.get_by_label("Filter colleagues").fill("arun")
    expect(page.get_by_role("status").filter(has_text="colleagues shown")).to_be_visible()
    page.get_by_label("Arun Pm").check()
    page.get_by_label("Filter colleagues").fill("")
    page.get_by_label("Bea Pm").check()
    page.get_by_role("group", name="Competencies").get_by_role("checkbox").first.check()
    page.get_by_label("Message (optional)").fill("How did I run the pricing review?")
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-new-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Request sent")).to_be_visible()
    expect(page.get_by_text("Waiting for Arun Pm\u2019s answer.")).to_be_visible()
    sign_out(page)

    sign_in(page, org.pm_a2)
    page.wait_for_url("**/")
    due = page.get_by_role("region", name="To do")
    expect(due.get_by_text("Feedback for Alice Pm", exact=True)).to_be_visible()
    due.get_by_role("link", name="Answer: Feedback for Alice Pm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback for Alice Pm")
    page.get_by_label("Situation").fill("The pricing review with Sales on Tuesday.")
    page.get_by_label("Behaviour").fill("You showed the churn data before the proposal.")
    page.get_by_label("Impact").fill("We agreed the price test in ten minutes.")
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-answer-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_text("Your feedback was sent.")).to_be_visible()
    sign_out(page)

    sign_in(page, org.pm_a1)
    page.wait_for_url("**/")
    click_nav(page, "Feedback")
    page.get_by_role("region", name="Your requests").get_by_role("link").first.click()
    answer = page.get_by_role("article", name="Arun Pm")
    expect(answer.get_by_text("We agreed the price test in ten minutes.")).to_be_visible()
    expect(page.get_by_text("Waiting for Bea Pm\u2019s answer.")).to_be_visible()
    answer.get_by_role("button", name="Share Arun Pm\u2019s answer with your manager").click()
    expect(page.get_by_text("Shared with your manager.", exact=False).first).to_be_visible()
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-request-{width}")
    click_nav(page, "Feedback")
    sent = page.get_by_role("region", name="Your requests")
    expect(sent.get_by_role("list", name="Colleagues asked")).to_contain_text("Arun Pm Answered")
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-index-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_out(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, org.manager_a)
    page.wait_for_url("**/")
    page.goto(f"/people/{org.pm_a1.id}")
    shared = page.get_by_role("region", name="Feedback shared with you")
    expect(shared.get_by_role("heading", name="From Arun Pm")).to_be_visible()
    expect(shared.get_by_text("We agreed the price test in ten minutes.")).to_be_visible()
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-person-{width}")


def test_switching_the_kind_to_a_lesson_inserts_the_retrospective(app, page, org):
    publish_and_place(app, [org.pm_a1])
    sign_in(page, org.pm_a1)
    page.wait_for_url("**/")
    page.goto("/evidence/new")
    body = page.get_by_label("What happened")
    expect(body).to_have_value("")
    page.get_by_label("Kind").select_option(label="Learning from failure")
    expect(body).to_have_value(
        "## What we expected\n\n## What happened\n\n## What we learned\n\n## What we changed\n"
    )
    page.get_by_label("Kind").select_option(label="Launch")
    expect(body).to_have_value("")
    body.fill("Something I wrote.")
    page.get_by_label("Kind").select_option(label="Learning from failure")
    expect(body).to_have_value("Something I wrote.")


def test_thanking_from_an_evidence_page_shows_on_the_thanks_and_team_pages(
    app, page, org, assert_accessible
):
    from tests.evidence_helpers import record

    publish_and_place(app, [org.pm_a1, org.pm_a2])
    item_id = record(app, org.pm_a1, title="Checkout rescue")
    sign_in(page, org.manager_a)
    page.wait_for_url("**/")
    page.goto(f"/evidence/{item_id}")
    page.get_by_role("link", name="Thank Alice Pm for this").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank Alice Pm")
    page.get_by_label("What for").fill("You turned checkout around in a week.")
    assert_accessible(page)
    page.get_by_role("button", name="Send thanks").click()
    expect(page.get_by_text("Thanks sent")).to_be_visible()

    page.goto("/feedback/thanks")
    expect(page.get_by_text("You turned checkout around in a week.")).to_be_visible()
    expect(page.get_by_role("link", name="Checkout rescue")).to_be_visible()
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-thanks-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    click_nav(page, "Team")
    thanks = page.get_by_role("region", name="Recent thanks")
    expect(thanks.get_by_text("You turned checkout around in a week.")).to_be_visible()
    assert_accessible(page)
    for width in (1280, 390):
        fits(page, width)
        shoot(page, f"feedback-team-{width}")
