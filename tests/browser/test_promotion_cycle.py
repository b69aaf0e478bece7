"""A whole promotion cycle in the browser, from nomination to publishing.

Every step goes through the pages as the people concerned would use them (labels, roles and
buttons; each person in a browser context of their own): the head of product opens a cycle and
moves it on, Ada nominates and assesses her report Alice, Alice assesses herself with her evidence,
Ada and Ben vote blind in a calibration session the head facilitates, two saves of the same cell
meet in a conflict that overwrites nothing, the session is locked, the decision recorded and the
cycle published. Alice then reads her result (never the votes), her profile keeps her old level,
and the case's decision log tells the whole story. The main pages are checked with axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app.models import CyclePhase, Rating, RatingSource
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_in import expect_home, main_nav, sign_in
from tests.evidence_helpers import record
from tests.factories import Person
from tests.promotion_helpers import (
    KEYS,
    CycleData,
    cycle_with_cases,
    place,
    publish_sample,
    rate,
)

pytestmark = [pytest.mark.browser, pytest.mark.midday]

CYCLE = "H1 2027"
SESSION = "Level 2, H1 2027"
EVIDENCE = "Ran the pricing experiment"


@pytest.fixture
def open_as(browser: Browser, live_server: str) -> Iterator[Callable[[Person], Page]]:
    """A page signed in as `person`, in a browser context (cookies) of its own."""
    contexts = []

    def open_page(person: Person) -> Page:
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, person)
        expect_home(page, person)
        return page

    yield open_page
    for context in contexts:
        context.close()


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def expect_flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def go_to_cycle(page: Page) -> None:
    main_nav(page).get_by_role("link", name="Promotions").click()
    page.get_by_role("table").get_by_role("link", name=CYCLE).click()
    expect(heading(page)).to_have_text(CYCLE)


def go_to_session(page: Page) -> None:
    go_to_cycle(page)
    page.get_by_role("region", name="Calibration sessions").get_by_role(
        "link", name=SESSION
    ).click()
    expect(heading(page)).to_have_text(SESSION)


def move_cycle(page: Page, button: str, phase: str) -> None:
    """The head of product moves the cycle forward from its page."""
    go_to_cycle(page)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", name=f"Phase: {phase}")).to_be_visible()


def publish(page: Page) -> None:
    """The head of product publishes the cycle through its confirmation page."""
    go_to_cycle(page)
    page.get_by_role("link", name="Publish the cycle").click()
    expect(heading(page)).to_have_text(f"Publish {CYCLE}?")
    page.get_by_role("button", name=f"Publish {CYCLE}").click()
    expect_flash(page, f"{CYCLE} is now published.")
    expect(page.get_by_role("heading", name="Phase: Published")).to_be_visible()


def grid_cell(page: Page, competency: str) -> Locator:
    return page.get_by_role("link", name=re.compile(rf"^Alice Pm, {re.escape(competency)}:"))


def assess(page: Page, ratings: dict[str, str], *, link_evidence: str) -> None:
    """Fill one assessment form: a rating and a rationale per competency, evidence for the first."""
    for competency, rating in ratings.items():
        group = page.get_by_role("group", name=competency, exact=True)
        group.get_by_role("radio", name=rating, exact=True).check()
        group.get_by_label("Rationale").fill(f"{rating} at {competency}: see the evidence.")
    first = page.get_by_role("group", name=next(iter(ratings)), exact=True)
    first.get_by_text(re.compile(r"^Evidence for ")).click()
    first.get_by_role("checkbox", name=link_evidence).check()


def vote(page: Page, ratings: dict[str, str]) -> None:
    page.get_by_role("link", name="Vote on Alice Pm").click()
    expect(page.get_by_role("heading", name="Your blind vote")).to_be_visible()
    for competency, rating in ratings.items():
        group = page.get_by_role("group", name=f"Area 0: {competency}")
        group.get_by_role("radio", name=rating, exact=True).check()
    page.get_by_role("button", name="Save my votes").click()
    expect_flash(page, f"{len(ratings)} votes saved")
    expect(heading(page)).to_have_text(SESSION)


def test_a_whole_cycle_from_nomination_to_publishing(app, org, open_as, assert_accessible):
    levels = publish_sample(app, areas=1, per_area=2)  # Skill 0.0 and Skill 0.1 at every level
    place(app, [org.pm_a1, org.pm_a2, org.pm_b1], levels["L1"])
    record(app, org.pm_a1, title=EVIDENCE, competency_keys=["skill-0-0"], occurred_on=date.today())

    # The head of product opens the cycle.
    head = open_as(org.head)
    main_nav(head).get_by_role("link", name="Promotions").click()
    head.get_by_role("link", name="Open a cycle").click()
    expect(heading(head)).to_have_text("Open a promotion cycle")
    head.get_by_label("Name").fill(CYCLE)
    expect(head.get_by_role("group", name="Career paths").get_by_role("checkbox")).to_be_checked()
    head.get_by_role("button", name="Open the cycle").click()
    expect(heading(head)).to_have_text(CYCLE)
    expect_flash(head, f"{CYCLE} is open for nominations.")
    assert_accessible(head)

    # Ada nominates Alice, who reports to her.
    ada = open_as(org.manager_a)
    go_to_cycle(ada)
    ada.get_by_role("link", name="Nominate").click()
    expect(heading(ada)).to_have_text("Nominate for promotion")
    ada.get_by_label("Person").select_option(label="Alice Pm — now L1 · Level 1")
    ada.get_by_role("button", name="Show levels").click()
    expect(ada.get_by_label("Proposed level")).to_have_value(str(levels["L2"]))  # the next one
    ada.get_by_label("Manager statement").fill("Alice runs **pricing** end to end.")
    assert_accessible(ada)
    ada.get_by_role("button", name="Nominate").click()
    expect(heading(ada)).to_have_text("Alice Pm")
    expect_flash(ada, "Alice Pm was nominated.")
    case_url = ada.url

    # Self-assessment: Alice rates herself and links her evidence.
    move_cycle(head, "Move to self-assessment", "Self-assessment")
    alice = open_as(org.pm_a1)
    main_nav(alice).get_by_role("link", name="Promotions").click()
    alice.get_by_role("region", name="Your promotion cases").get_by_role(
        "link", name=re.compile(rf"^{CYCLE}")
    ).click()
    expect(heading(alice)).to_have_text("Alice Pm")
    alice.get_by_role("link", name="Write your self-assessment").click()
    assess(alice, {"Skill 0.0": "Exceeds", "Skill 0.1": "Meets"}, link_evidence=EVIDENCE)
    assert_accessible(alice)
    alice.get_by_role("button", name="Submit", exact=True).click()
    expect_flash(alice, "Self-assessment submitted.")

    # Manager assessment: Ada rates Alice, then sees the self-assessment.
    move_cycle(head, "Move to manager assessment", "Manager assessment")
    ada.goto(case_url)
    expect(ada.get_by_role("region", name="Assessments")).to_contain_text(
        "Shown once the manager assessment is in."
    )
    ada.get_by_role("link", name="Start the manager assessment").click()
    assess(ada, {"Skill 0.0": "Meets", "Skill 0.1": "Developing"}, link_evidence=EVIDENCE)
    ada.get_by_role("button", name="Submit", exact=True).click()
    expect_flash(ada, "Manager assessment submitted.")
    ada.get_by_role("link", name="Back to the case").click()
    ratings = ada.get_by_role("table", name=re.compile(r"^Ratings per competency"))
    expect(ratings.get_by_role("row").filter(has_text="Skill 0.0")).to_contain_text("Exceeds")

    # The head plans the session (Ada and Ben vote, the head facilitates) and moves on.
    go_to_cycle(head)
    head.get_by_role("link", name="New session").click()
    expect(heading(head)).to_have_text("New calibration session")
    head.get_by_label("Name").fill(SESSION)
    head.get_by_label("Facilitator").select_option(label=org.head.name)
    participants = head.get_by_role("group", name="Participants")
    participants.get_by_role("checkbox", name=org.manager_a.name).check()
    participants.get_by_role("checkbox", name=org.manager_b.name).check()
    head.get_by_role("group", name="Cases in scope").get_by_role(
        "checkbox", name=re.compile(r"^Alice Pm")
    ).check()
    assert_accessible(head)
    head.get_by_role("button", name="Create session").click()
    expect(heading(head)).to_have_text(SESSION)
    move_cycle(head, "Move to calibration", "Calibration")

    # Ben votes first; Ada, before her own vote, sees that he voted but nothing of what.
    ben = open_as(org.manager_b)
    go_to_session(ben)
    vote(ben, {"Skill 0.0": "Exceeds", "Skill 0.1": "Developing"})

    go_to_session(ada)
    expect(ada.get_by_role("rowheader", name=re.compile(r"^Alice Pm"))).to_contain_text(
        "1 of 2 voted · votes hidden"
    )
    expect(grid_cell(ada, "Skill 0.0")).to_contain_text("Votes hidden")
    assert_accessible(ada)
    grid_cell(ada, "Skill 0.0").click()
    votes = ada.get_by_role("region", name="Votes")
    expect(votes).to_contain_text("1 of 2 voted. The votes stay hidden")
    expect(votes).not_to_contain_text(org.manager_b.name)
    expect(votes).not_to_contain_text("Exceeds")
    votes.get_by_role("link", name="Vote on Alice Pm").click()
    for competency, rating in {"Skill 0.0": "Meets", "Skill 0.1": "Meets"}.items():
        group = ada.get_by_role("group", name=f"Area 0: {competency}")
        group.get_by_role("radio", name=rating, exact=True).check()
    ada.get_by_role("button", name="Save my votes").click()
    expect_flash(ada, "2 votes saved. You now see the others' votes.")
    grid_cell(ada, "Skill 0.0").click()
    votes = ada.get_by_role("region", name="Votes")
    expect(votes).to_contain_text(f"{org.manager_b.name}: Exceeds")
    expect(votes).to_contain_text(f"{org.manager_a.name} (you): Meets")

    # The facilitator reveals the votes and opens Skill 0.0 twice: two saves of the same cell.
    go_to_session(head)
    head.get_by_role("link", name="Reveal the votes to everyone").click()
    expect(heading(head)).to_have_text(f"Reveal the votes of {SESSION}?")
    head.get_by_role("button", name="Reveal the votes to everyone").click()
    expect_flash(head, f"The votes of {SESSION} are revealed to everyone in it.")
    assert_accessible(head)
    grid_cell(head, "Skill 0.0").click()
    cell_url = head.url
    other_tab = open_as(org.head)
    other_tab.goto(cell_url)
    expect(heading(other_tab)).to_have_text("Skill 0.0: Alice Pm")
    agreed = head.get_by_role("group", name="Agreed rating")
    expect(agreed.get_by_role("radio", name="Meets", exact=True)).to_be_checked()  # the manager's
    head.get_by_label("Rationale", exact=True).fill("Meets the L2 bar; the experiment shows it.")
    assert_accessible(head)
    head.get_by_role("button", name="Save the agreed rating").click()
    expect_flash(head, "Agreed rating saved for Skill 0.0.")

    other_tab.get_by_role("group", name="Agreed rating").get_by_role(
        "radio", name="Exceeds", exact=True
    ).check()
    other_tab.get_by_label("Rationale", exact=True).fill("Beyond L2 already.")
    other_tab.get_by_label("Reason for departing from the manager's rating").fill(
        "Ben's vote convinced me."
    )
    with other_tab.expect_response(lambda r: r.request.method == "POST") as posted:
        other_tab.get_by_role("button", name="Save the agreed rating").click()
    assert posted.value.status == 409
    conflict = other_tab.get_by_role("alert")
    expect(conflict).to_contain_text(f"Saved by {org.head.name}")
    expect(conflict).to_contain_text("Meets")
    expect(conflict).to_contain_text("Meets the L2 bar; the experiment shows it.")
    expect(conflict).to_contain_text("exceeds")
    expect(conflict).to_contain_text("Beyond L2 already.")
    assert_accessible(other_tab)
    # Nothing was overwritten: the first save stands.
    go_to_session(head)
    expect(grid_cell(head, "Skill 0.0")).to_contain_text("Agreed Meets")

    # Away from the manager's rating only with a reason; then the outcome, and the lock.
    grid_cell(head, "Skill 0.1").click()
    head.get_by_role("group", name="Agreed rating").get_by_role(
        "radio", name="Meets", exact=True
    ).check()
    head.get_by_label("Rationale", exact=True).fill("Meets it across two launches.")
    head.get_by_role("button", name="Save the agreed rating").click()
    reason = head.get_by_label("Reason for departing from the manager's rating")
    expect(reason).to_have_attribute("aria-invalid", "true")
    reason.fill("Both launches were led by Alice alone.")
    head.get_by_role("button", name="Save the agreed rating").click()
    expect_flash(head, "Agreed rating saved for Skill 0.1.")
    head.get_by_role("link", name="Outcome for Alice Pm").click()
    head.get_by_role("group", name="Outcome").get_by_role("radio", name="Promote").check()
    head.get_by_label("Rationale for the outcome").fill("Ready for **Level 2**.")
    assert_accessible(head)
    head.get_by_role("button", name="Save the outcome").click()
    expect_flash(head, "The outcome for Alice Pm is saved: Promote.")
    head.get_by_role("link", name="Lock the session").click()
    head.get_by_role("button", name="Lock the session").click()
    expect_flash(head, f"The session {SESSION} is locked.")

    # Decisions, then publishing.
    move_cycle(head, "Move to decisions", "Decisions")
    head.get_by_role("link", name="Alice Pm").click()
    decision = head.get_by_label("Decision", exact=True)
    expect(decision).to_have_value("")  # the session's outcome
    expect(decision.locator("option:checked")).to_have_text("The session's outcome (Promote)")
    assert_accessible(head)
    head.get_by_role("button", name="Record the decision").click()
    expect_flash(head, "The decision on Alice Pm's case is recorded: Promote.")
    publish(head)

    # Alice reads her outcome, the agreed ratings and the rationale; never a vote or a voter.
    alice.goto(case_url)
    expect(alice.get_by_role("heading", name="Decision")).to_be_visible()
    calibration = alice.get_by_role("region", name="Calibration")
    expect(calibration).to_contain_text("Promote")
    expect(calibration).to_contain_text("Ready for Level 2.")
    agreed_table = calibration.get_by_role("table")
    expect(agreed_table.get_by_role("row").filter(has_text="Skill 0.0")).to_contain_text(
        "Meets the L2 bar; the experiment shows it."
    )
    expect(agreed_table.get_by_role("row").filter(has_text="Skill 0.1")).to_contain_text(
        "Meets it across two launches."
    )
    main = alice.get_by_role("main")
    expect(main).not_to_contain_text(org.manager_b.name)
    expect(main).not_to_contain_text(re.compile(r"\bvot(e|es|ed)\b", re.IGNORECASE))
    assert_accessible(alice)

    # Her profile shows the new level and keeps the old one.
    alice.get_by_role("link", name=org.pm_a1.name, exact=True).click()
    history = alice.get_by_role("region", name="Level history").get_by_role("listitem")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("L2 · Level 2")
    expect(history.nth(0)).to_contain_text(f"(current) · Promotion ({CYCLE})")
    expect(history.nth(1)).to_contain_text("L1 · Level 1")
    expect(history.nth(1)).not_to_contain_text("(current)")

    # The case's decision log: the votes, the change with its reason, the lock, the decision.
    head.goto(case_url)
    head.get_by_role("link", name="Open the decision log").click()
    expect(heading(head)).to_contain_text("Decision log")
    log = head.get_by_role("table", name=re.compile(r"^Decision log of"))

    def entries(who: str, what: str) -> Locator:
        return (
            log.get_by_role("row")
            .filter(has=head.get_by_role("cell", name=who, exact=True))
            .filter(has=head.get_by_role("cell", name=what, exact=True))
        )

    expect(entries(org.manager_b.name, "Vote")).to_have_count(2)
    expect(entries(org.manager_b.name, "Vote").filter(has_text="Skill 0.0")).to_contain_text(
        "Exceeds"
    )
    expect(entries(org.manager_a.name, "Vote")).to_have_count(2)
    agreed_entries = entries(org.head.name, "Agreed rating")
    expect(agreed_entries).to_have_count(2)  # the refused save left no trace of "Exceeds"
    change = agreed_entries.filter(has_text="Skill 0.1")
    expect(change.get_by_role("cell", name="Developing to Meets")).to_be_visible()
    expect(change).to_contain_text("Both launches were led by Alice alone.")
    expect(entries(org.head.name, "Votes revealed")).to_have_count(1)
    expect(entries(org.head.name, "Session locked")).to_have_count(1)
    expect(entries(org.head.name, "Decision")).to_contain_text("Promote")
    level_changed = entries(org.head.name, "Level changed")
    expect(level_changed.get_by_role("cell", name="L1 to L2")).to_be_visible()
    assert_accessible(head)


@pytest.fixture
def in_calibration(app, org) -> CycleData:
    """H1 2027 in calibration: Alice's case (L1 → L2) in a session the head facilitates, Ada's
    manager assessment in (meets, meets, developing, developing), nothing agreed yet."""
    data = cycle_with_cases(
        app, org, phase=CyclePhase.CALIBRATION, candidates=("pm_a1",), with_session=True
    )
    ratings = dict(
        zip(KEYS, [Rating.MEETS, Rating.MEETS, Rating.DEVELOPING, Rating.DEVELOPING], strict=True)
    )
    rate(app, data.case_ids[org.pm_a1.id], RatingSource.MANAGER, ratings, by=org.manager_a)
    return data


def test_the_facilitator_agrees_the_rest_locks_and_publishes_through_confirmations(
    org, in_calibration, open_as, assert_accessible
):
    session = "Senior PM calibration"
    head = open_as(org.head)
    go_to_cycle(head)
    head.get_by_role("region", name="Calibration sessions").get_by_role(
        "link", name=session
    ).click()
    expect(heading(head)).to_have_text(session)

    # Locking is refused until every competency has an agreed rating: the page says what is missing.
    head.get_by_role("link", name="Lock the session").click()
    expect(heading(head)).to_have_text(f"Lock {session}?")
    blocked = head.get_by_role("region", name="Not possible yet")
    expect(blocked).to_contain_text("Alice Pm: 4 of 4 competencies have no agreed rating.")
    expect(head.get_by_role("button", name="Lock the session")).to_have_count(0)
    assert_accessible(head)
    blocked.get_by_role("link", name="Finish Alice Pm's case").click()

    # One action agrees the manager's rating for every competency still open.
    agreed = head.get_by_role("region", name="Agreed ratings")
    expect(agreed).to_contain_text("0 of 4 competencies have an agreed rating.")
    assert_accessible(head)
    agreed.get_by_role("button", name="Agree with the manager's rating for the rest").click()
    expect_flash(head, "The manager's rating is now the agreed rating for 4 competencies")
    expect(head.get_by_role("region", name="Agreed ratings")).to_contain_text(
        "4 of 4 competencies have an agreed rating."
    )
    head.get_by_role("group", name="Outcome").get_by_role("radio", name="Promote").check()
    head.get_by_label("Rationale for the outcome").fill("Ready for Level 2.")
    head.get_by_role("button", name="Save the outcome").click()
    expect_flash(head, "The outcome for Alice Pm is saved: Promote.")

    # The lock, through its confirmation.
    head.get_by_role("link", name="Lock the session").click()
    expect(heading(head)).to_have_text(f"Lock {session}?")
    consequences = head.get_by_role("region", name="What will happen")
    expect(consequences).to_contain_text("Alice Pm: Promote")
    expect(consequences).to_contain_text("Told that it is locked (2)")
    assert_accessible(head)
    head.get_by_role("button", name="Lock the session").click()
    expect_flash(head, f"The session {session} is locked.")
    expect(head.get_by_role("link", name="Lock the session")).to_have_count(0)

    # Decisions, then publishing through its confirmation.
    move_cycle(head, "Move to decisions", "Decisions")
    head.get_by_role("link", name="Alice Pm").click()
    head.get_by_role("button", name="Record the decision").click()
    expect_flash(head, "The decision on Alice Pm's case is recorded: Promote.")
    go_to_cycle(head)
    head.get_by_role("link", name="Publish the cycle").click()
    expect(heading(head)).to_have_text(f"Publish {CYCLE}?")
    expect(head.get_by_role("main")).to_contain_text(
        "1 person will be promoted; 1 candidate will see their outcome."
    )
    expect(head.get_by_role("main")).to_contain_text("Alice Pm (L1 → L2)")
    assert_accessible(head)
    head.get_by_role("link", name="Cancel").click()
    expect(head.get_by_role("heading", name="Phase: Decisions")).to_be_visible()
    publish(head)

    # The case's log tells it: the ratings agreed with the manager, and the cycle's events.
    head.get_by_role("link", name="Alice Pm").click()
    head.get_by_role("link", name="Open the decision log").click()
    log = head.get_by_role("table", name=re.compile(r"^Decision log of"))
    expect(
        log.get_by_role("row").filter(has_text="Agreed with the manager's rating.")
    ).to_have_count(4)
    published = log.get_by_role("row").filter(has_text="Cycle published")
    expect(published).to_contain_text("Cycle event")
    expect(published).to_contain_text("1 of 1 promoted")
    expect(log.get_by_role("row").filter(has_text="Phase moved forward")).to_have_count(2)
    assert_accessible(head)
