"""A round of Delegation Poker in the browser, by accessible names: the manager opens the board
and a round, both pick (neither sees the other's picks), the picks are revealed together, they
agree, and the board shows the agreed levels against the level's expectation. The board fits a
390 px phone and passes axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_manager_hub import fits, shoot
from tests.browser.test_sign_in import sign_in
from tests.delegation_helpers import publish_with_rights

pytestmark = [pytest.mark.browser]

S = "\u2019"  # the typographic apostrophe the pages print
BUILD, EXPERIMENTS, HIRING = "What to build next", "Which experiments to run", "Hiring for the team"


def signed_in(browser: Browser, live_server: str, person) -> Page:
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in(page, person)
    page.wait_for_url(live_server + "/")
    return page


def pick(page: Page, levels: dict[str, str]) -> None:
    for decision, level in levels.items():
        page.get_by_label(f"Your level for {decision}").select_option(level)
    page.get_by_role("button", name="Save my picks").click()


SHOWN_TEXT = """() => {
  const main = document.querySelector("main").cloneNode(true);
  main.querySelectorAll("select, .levels-help").forEach((e) => e.remove());
  return main.innerText;
}"""


def shown_text(page: Page) -> str:
    """The page's text without the choices of its forms and the levels' explanation: a level
    named in what is left is someone's pick, an agreement or an expectation."""
    return page.evaluate(SHOWN_TEXT)


def assert_hidden(page: Page) -> None:
    """The manager picked 3 Consult and 7 Delegate, levels no row expects: neither shows."""
    text = shown_text(page)
    assert "3 Consult" not in text and "7 Delegate" not in text


def test_a_round_of_delegation_poker(app, org, browser, live_server, assert_accessible):
    publish_with_rights(app, [org.pm_a1])
    manager = signed_in(browser, live_server, org.manager_a)
    manager.goto(f"/people/{org.pm_a1.id}")
    manager.get_by_role("button", name="Open a delegation board").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(f"Alice Pm{S}s delegation board")
    for decision in (BUILD, EXPERIMENTS, HIRING):
        expect(manager.get_by_role("rowheader", name=decision)).to_be_visible()
    manager.get_by_label("Decision", exact=True).fill("Which conferences to speak at")
    manager.get_by_role("button", name="Add the decision").click()
    expect(manager.get_by_role("rowheader", name="Which conferences to speak at")).to_be_visible()
    manager.get_by_role("button", name="Start round 1").click()
    pick(manager, {BUILD: "3", EXPERIMENTS: "5", HIRING: "2", "Which conferences to speak at": "7"})
    expect(manager.get_by_text("Your picks are saved")).to_be_visible()

    person = signed_in(browser, live_server, org.pm_a1)
    person.get_by_role("link", name="Pick in round 1 on your delegation board").click()
    expect(person.get_by_text("Ada Manager has picked every row")).to_be_visible()
    # The manager's picks are nowhere on the person's page: no level shown, no choice made.
    assert_hidden(person)
    expect(person.get_by_label(f"Your level for {BUILD}")).to_have_value("")
    pick(person, {BUILD: "6", EXPERIMENTS: "5"})
    expect(person.get_by_text("You: 2 of 4 picked")).to_be_visible()
    assert_hidden(person)
    manager.reload()
    assert "6 Inquire" not in shown_text(manager)  # the person's pick, hidden the other way too
    shoot(person, "delegation-picking-1280")
    pick(person, {HIRING: "2", "Which conferences to speak at": "6"})

    # Revealed together: both picks of each row, the far-apart row flagged in words.
    expect(person.get_by_text("Both of you have picked: the picks are revealed.")).to_be_visible()
    build = person.get_by_role("row", name=BUILD)
    expect(build.get_by_role("cell", name="6 Inquire", exact=True)).to_be_visible()
    expect(build.get_by_role("cell", name="3 Consult", exact=True)).to_be_visible()
    expect(build.get_by_text("3 levels apart: talk this one through")).to_be_visible()
    expect(person.get_by_text("talk this one through")).to_have_count(1)
    manager.reload()
    expect(
        manager.get_by_role("row", name=BUILD).get_by_role("cell", name="6 Inquire")
    ).to_be_visible()

    person.get_by_label(f"Agreed level for {BUILD}").select_option("5")
    person.get_by_role("button", name=f"Save agreement for {BUILD}").click()
    expect(person.get_by_text("say in the note why you settled here")).to_be_visible()
    person.get_by_label(f"Note for {BUILD}").fill("Alice decides; Ada advises on the big bets.")
    person.get_by_role("button", name=f"Save agreement for {BUILD}").click()
    for decision, level in (
        (EXPERIMENTS, "5"),
        (HIRING, "2"),
        ("Which conferences to speak at", "7"),
    ):
        person.get_by_label(f"Agreed level for {decision}").select_option(level)
        person.get_by_role("button", name=f"Save agreement for {decision}").click()
    expect(person.get_by_role("button", name="Close round 1")).to_be_visible()
    shoot(person, "delegation-agreeing-1280")
    person.set_viewport_size({"width": 390, "height": 844})
    fits(person, 390)
    shoot(person, "delegation-agreeing-390")
    assert_accessible(person)

    manager.reload()
    manager.get_by_role("button", name="Close round 1").click()
    expect(manager.get_by_text("The round is closed")).to_be_visible()
    board = manager.get_by_role(
        "table", name=f"Agreed delegation levels against the level{S}s expectation"
    )
    build_row = board.get_by_role("row", name=BUILD)
    expect(build_row.get_by_role("cell", name="5 Advise", exact=True)).to_be_visible()
    expect(build_row.get_by_text("1 above")).to_be_visible()  # 5 agreed, 4 expected
    expect(board.get_by_role("row", name=EXPERIMENTS).get_by_text("At expectation")).to_be_visible()
    expect(board.get_by_role("row", name=HIRING).get_by_text("At expectation")).to_be_visible()
    expect(
        board.get_by_role("row", name="Which conferences to speak at").get_by_text("No expectation")
    ).to_be_visible()
    shoot(manager, "delegation-agreed-1280")
    assert_accessible(manager)
    manager.set_viewport_size({"width": 390, "height": 844})
    fits(manager, 390)
    shoot(manager, "delegation-agreed-390")
    manager.goto(f"/people/{org.pm_a1.id}")
    panel = manager.get_by_role("region", name="Delegation board")
    expect(panel.get_by_text("1 above")).to_be_visible()
    shoot(manager, "delegation-hub-390")
    for page in (manager, person):
        page.context.close()
