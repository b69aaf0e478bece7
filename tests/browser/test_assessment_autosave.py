"""An hour's work on an assessment is never lost: the form saves its draft as the person types,
a page closed without Save draft keeps what was typed, a second tab's stale save is refused and
sent to the conflict page, and the section links and the evidence filter work by keyboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import CaseRating, CyclePhase, RatingSource
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_in import click_nav, expect_home, sign_in
from tests.evidence_helpers import record
from tests.factories import Person
from tests.promotion_helpers import cycle_with_cases, set_phase

pytestmark = [pytest.mark.browser, pytest.mark.midday]

CYCLE = "H1 2027"
SAVED = re.compile(r"^All changes saved at \d\d:\d\d\.$")
# The autosave waits 2 s after the last change by design; the page's own time comes on top.
SAVE_WAIT_MS = TIMEOUT_MS + 2_000


@pytest.fixture
def signed_in(browser: Browser, live_server: str) -> Iterator[Callable[..., BrowserContext]]:
    """A browser context (cookies) signed in as `person`, at a given width."""
    contexts = []

    def open_context(person: Person, width: int = 1280) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server, viewport={"width": width, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, person)
        expect_home(page, person)
        page.close()
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def cycle(app, org):
    data = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    today = date.today()
    for n, title in enumerate(["Pricing experiment", "CSV import launch", "Churn interviews"]):
        record(app, org.pm_a1, title=title, occurred_on=today - timedelta(days=n))
    record(app, org.pm_a1, title="Onboarding flow", competency_keys=["skill-0-0"])
    return data


def status(page: Page) -> Locator:
    return page.locator("#autosave-status")


def open_form(context: BrowserContext, *, candidate: bool = True, from_due: bool = False) -> Page:
    """From the home page to the assessment form, by clicking: through Promotions and the case,
    or (`from_due`) the home page's "To do"."""
    page = context.new_page()
    page.goto("/")
    if from_due:
        page.get_by_role("region", name="To do").get_by_role(
            "link", name="Continue: Your self-assessment"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your self-assessment")
        expect(status(page)).to_have_text("Changes are saved as you go.")
        return page
    click_nav(page, "Promotions")
    if candidate:
        page.get_by_role("region", name="Your promotion cases").get_by_role(
            "link", name=re.compile(rf"^{CYCLE}")
        ).click()
        page.get_by_role("region", name="Assessments").get_by_role(
            "link", name=re.compile(r"^(Start|Continue) your self-assessment$")
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your self-assessment")
    else:
        page.get_by_role("link", name=CYCLE, exact=True).click()
        page.get_by_role("link", name="Alice Pm", exact=True).click()
        page.get_by_role(
            "link", name=re.compile(r"^(Start|Continue) the manager assessment$")
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Manager assessment of Alice Pm")
    expect(status(page)).to_have_text("Changes are saved as you go.")
    return page


def competency(page: Page, name: str) -> Locator:
    return page.get_by_role("group", name=name, exact=True)


def test_what_the_candidate_typed_survives_closing_the_page_without_saving(
    org, cycle, signed_in, assert_accessible
):
    context = signed_in(org.pm_a1)
    page = open_form(context)
    sections = page.get_by_role("navigation", name="Sections of this form")
    area = sections.get_by_role("link", name="Area 0 0 of 2 rated and explained")
    expect(area).to_be_visible()

    skill = competency(page, "Skill 0.0")
    skill.get_by_role("radio", name="Exceeds", exact=True).check()
    skill.get_by_label("Rationale").fill("Ran the pricing experiment end to end; +4% conversion.")
    skill.get_by_text(re.compile(r"^Evidence for Skill 0\.0: 0 of 4 shared items linked")).click()
    search = skill.get_by_role("searchbox", name="Filter evidence for Skill 0.0")
    search.fill("pricing")
    expect(skill.get_by_role("checkbox")).to_have_count(1)  # the others are hidden
    expect(skill.get_by_role("status")).to_have_text("1 of 4 items shown.")
    skill.get_by_role("checkbox", name="Pricing experiment").check()
    expect(skill.get_by_text(re.compile(r"^Evidence for Skill 0\.0: 1 of 4"))).to_be_visible()
    expect(sections.get_by_role("link", name="Area 0 1 of 2 rated and explained")).to_be_visible()

    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    assert_accessible(page)
    page.close()  # no Save draft, no Submit

    page = open_form(context, from_due=True)  # Home says it is due, and how far along it is
    skill = competency(page, "Skill 0.0")
    expect(skill.get_by_role("radio", name="Exceeds", exact=True)).to_be_checked()
    expect(skill.get_by_label("Rationale")).to_have_value(
        "Ran the pricing experiment end to end; +4% conversion."
    )
    skill.get_by_text(re.compile(r"^Evidence for Skill 0\.0: 1 of 4 shared items linked")).click()
    expect(skill.get_by_role("checkbox", name="Pricing experiment")).to_be_checked()
    expect(
        page.get_by_role("navigation", name="Sections of this form").get_by_role(
            "link", name="Area 0 1 of 2 rated and explained"
        )
    ).to_be_visible()

    # The person's own autosaves never make their own Save draft conflict: the form carries the
    # revision each autosave answered, so a Save draft with more typed since goes through.
    competency(page, "Skill 0.1").get_by_label("Rationale").fill("Coached two PMs.")
    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    competency(page, "Skill 1.0").get_by_label("Rationale").fill("Typed, then Save draft.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved.")).to_be_visible()
    expect(competency(page, "Skill 1.0").get_by_label("Rationale")).to_have_value(
        "Typed, then Save draft."
    )


def stored_rationale(app, case_id: int, key: str) -> str | None:
    with app.app_context():
        return db.session.scalar(
            select(CaseRating.rationale).where(
                CaseRating.case_id == case_id,
                CaseRating.source == RatingSource.SELF,
                CaseRating.competency_key == key,
            )
        )


def test_leaving_right_after_typing_still_keeps_it(app, org, cycle, signed_in):
    """No pause for the timer: the page going away sends what is unsaved (a beacon, which the
    browser sends after the next page has started loading, so the test waits for it)."""
    context = signed_in(org.pm_a1)
    page = open_form(context)
    competency(page, "Skill 1.0").get_by_label("Rationale").fill("Typed, then left at once.")
    page.get_by_role("link", name="Back to the case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Pm")
    case_id = cycle.case_ids[org.pm_a1.id]
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while stored_rationale(app, case_id, "skill-1-0") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    page.close()
    page = open_form(context)
    expect(competency(page, "Skill 1.0").get_by_label("Rationale")).to_have_value(
        "Typed, then left at once."
    )


def test_a_second_tab_is_told_to_use_save_draft_and_overwrites_nothing(org, cycle, signed_in):
    context = signed_in(org.pm_a1)
    laptop, phone = open_form(context), open_form(context)
    competency(laptop, "Skill 0.0").get_by_label("Rationale").fill("From the first tab.")
    expect(status(laptop)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)

    competency(phone, "Skill 0.0").get_by_label("Rationale").fill("From the second tab.")
    expect(status(phone)).to_contain_text(
        "Not saved: This self-assessment was saved in another window or by someone else",
        timeout=SAVE_WAIT_MS,
    )
    expect(status(phone)).to_contain_text("Use Save draft to see both versions")
    phone.get_by_role("button", name="Save draft").click()
    conflict = phone.get_by_role("alert")
    expect(conflict).to_contain_text("From the first tab.")  # theirs, beside what was typed
    expect(competency(phone, "Skill 0.0").get_by_label("Rationale")).to_have_value(
        "From the second tab."
    )
    # Typing on the conflict page saves nothing by itself: keeping which version is a choice.
    competency(phone, "Skill 0.1").get_by_label("Rationale").fill("Still deciding.")
    expect(status(phone)).to_have_text(
        "Not saved automatically here: Save draft keeps the version in the form."
    )
    phone.wait_for_timeout(2500)  # past the autosave's delay
    laptop.close()
    page = open_form(context)
    expect(competency(page, "Skill 0.0").get_by_label("Rationale")).to_have_value(
        "From the first tab."
    )


def test_the_manager_autosaves_on_a_phone_and_the_section_links_work_by_keyboard(
    app, org, cycle, signed_in, assert_accessible
):
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    context = signed_in(org.manager_a, width=390)
    page = open_form(context, candidate=False)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    link = page.get_by_role("navigation", name="Sections of this form").get_by_role(
        "link", name="Area 1 0 of 2 rated and explained"
    )
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#area-2$"))
    expect(page.get_by_role("heading", name="Area 1", exact=True)).to_be_in_viewport()

    skill = competency(page, "Skill 1.1")
    skill.get_by_role("radio", name="Developing", exact=True).check()
    skill.get_by_label("Rationale").fill("Growing into stakeholder work.")
    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    expect(status(page)).to_be_in_viewport()  # pinned to the bottom of a phone's screen
    assert_accessible(page)
    page.close()
    page = open_form(context, candidate=False)
    expect(competency(page, "Skill 1.1").get_by_label("Rationale")).to_have_value(
        "Growing into stakeholder work."
    )


def test_a_reload_right_after_typing_shows_what_was_typed_and_saves_it(app, org, cycle, signed_in):
    """The reload may read the page before the last save lands: the tab's own copy brings the
    text back, and saving it again is no conflict with itself."""
    context = signed_in(org.pm_a1)
    page = open_form(context)
    rationale = competency(page, "Skill 1.0").get_by_label("Rationale")
    rationale.fill("Typed, then reloaded at once.")
    expect(status(page)).to_have_text("Saving…")  # during the pause, not "saved"
    page.reload()
    rationale = competency(page, "Skill 1.0").get_by_label("Rationale")
    expect(rationale).to_have_value("Typed, then reloaded at once.")
    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    rationale.fill("Typed, reloaded, and typed again.")
    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    case_id = cycle.case_ids[org.pm_a1.id]
    assert stored_rationale(app, case_id, "skill-1-0") == "Typed, reloaded, and typed again."


def test_signed_out_elsewhere_the_text_stays_and_saves_once_signed_in_again(
    app, org, cycle, signed_in
):
    context = signed_in(org.pm_a1)
    page = open_form(context)
    other = context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Sign out").click()

    rationale = competency(page, "Skill 1.0").get_by_label("Rationale")
    rationale.fill("Typed while signed out.")
    expect(status(page)).to_contain_text("you were signed out", timeout=SAVE_WAIT_MS)
    page.get_by_role("button", name="Save draft").click()  # would land on the sign-in page
    expect(status(page)).to_contain_text("Not sent: you are signed out")
    expect(rationale).to_have_value("Typed while signed out.")

    sign_in(other, org.pm_a1)
    expect_home(other, org.pm_a1)
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # headless tabs get no focus
    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    case_id = cycle.case_ids[org.pm_a1.id]
    assert stored_rationale(app, case_id, "skill-1-0") == "Typed while signed out."


def test_a_long_rationale_is_not_cut_and_the_count_says_how_far_over(org, cycle, signed_in):
    context = signed_in(org.pm_a1)
    page = open_form(context)
    rationale = competency(page, "Skill 1.0").get_by_label("Rationale")
    rationale.fill("x" * 1_100)
    expect(rationale).to_have_value("x" * 1_100)  # no maxlength cutting it silently
    expect(competency(page, "Skill 1.0").get_by_text("1,100 of 1,000 characters")).to_have_text(
        "1,100 of 1,000 characters: 100 too many"
    )
    expect(status(page)).to_contain_text(
        "Not saved: Skill 1.0: keep the rationale to 1,000 characters", timeout=SAVE_WAIT_MS
    )


def test_offline_the_text_stays_and_saves_when_the_network_is_back(app, org, cycle, signed_in):
    context = signed_in(org.pm_a1)
    page = open_form(context)
    context.set_offline(True)
    competency(page, "Skill 1.0").get_by_label("Rationale").fill("Typed on a train.")
    expect(status(page)).to_contain_text("Rungs cannot be reached", timeout=SAVE_WAIT_MS)
    context.set_offline(False)  # no more typing: coming back online is enough
    expect(status(page)).to_have_text(SAVED, timeout=SAVE_WAIT_MS)
    case_id = cycle.case_ids[org.pm_a1.id]
    assert stored_rationale(app, case_id, "skill-1-0") == "Typed on a train."
