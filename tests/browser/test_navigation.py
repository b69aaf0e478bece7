"""The navigation on a phone and a laptop: at 390 px it folds behind a "Menu" button that works
with the keyboard and without JavaScript; at 1280 px every link is in sight."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from app.extensions import db
from app.models import CyclePhase, PromotionCycle, User
from app.services.promotions import cycles
from tests import promotion_helpers as ph
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_in import expect_home, main_nav, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def open_page(browser: Browser, live_server: str, viewport, *, javascript: bool) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server, viewport=viewport, java_script_enabled=javascript
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def javascript(request) -> bool:
    return request.param


@pytest.fixture
def phone(javascript, browser, live_server) -> Iterator[Page]:
    yield from open_page(browser, live_server, PHONE, javascript=javascript)


@pytest.fixture
def laptop(browser, live_server) -> Iterator[Page]:
    yield from open_page(browser, live_server, LAPTOP, javascript=True)


def menu_button(page: Page):
    # A summary has no ARIA role of its own (browsers expose it as a disclosure button), so
    # Playwright finds it by its text; its accessible name is checked in Chromium's own tree.
    return page.locator("summary").filter(has_text="Menu")


def chromium_role_and_name(page: Page, selector: str) -> tuple[str, str]:
    """(role, name) of the first element matching, as Chromium exposes it to screen readers."""
    session = page.context.new_cdp_session(page)
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    own = session.send("Accessibility.getPartialAXTree", {"nodeId": node})["nodes"][0]
    return own["role"]["value"], own["name"]["value"]


def test_on_a_phone_the_menu_opens_the_navigation_and_a_pm_reaches_evidence(
    phone: Page, javascript: bool, org, assert_accessible
):
    sign_in(phone, org.pm_a1)
    expect_home(phone, org.pm_a1)
    nav = main_nav(phone)
    expect(nav).to_be_hidden()
    button = menu_button(phone)
    expect(button).to_be_visible()
    assert chromium_role_and_name(phone, "summary") == ("DisclosureTriangle", "Menu")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if javascript:  # axe-core runs as a script in the page
        assert_accessible(phone)

    button.focus()
    phone.keyboard.press("Enter")  # the keyboard opens it, as a click does
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    if javascript:
        assert_accessible(phone)
    nav.get_by_role("link", name="Evidence").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your evidence")
    expect(main_nav(phone)).to_be_hidden()  # the next page starts with the menu closed
    expect(menu_button(phone)).to_be_visible()


def test_on_a_laptop_every_link_is_in_sight_without_a_menu(laptop: Page, org, assert_accessible):
    sign_in(laptop, org.head)
    expect_home(laptop, org.head)
    expect(menu_button(laptop)).to_be_hidden()
    nav = main_nav(laptop)
    for name in ("Home", "Evidence", "Growth", "Promotions", "Career paths", "Team", "People"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Jobs")).to_have_count(0)  # no jobs started yet
    expect(laptop.get_by_role("button", name="Sign out")).to_be_visible()
    box = nav.bounding_box()
    assert box is not None and box["height"] < 60  # one row, not a wrapped block of links
    assert_accessible(laptop)
    nav.get_by_role("link", name="Evidence").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Your evidence")


def test_on_a_phone_a_manager_reads_what_happened_in_a_cycle(
    phone: Page, javascript: bool, app, org, assert_accessible
):
    data = ph.cycle_with_cases(app, org, candidates=("pm_a1",))
    with app.app_context():
        cycles.move_phase(
            db.session.get(User, org.head.id),
            data.cycle_id,
            CyclePhase.SELF_ASSESSMENT,
            expected_revision=db.session.get(PromotionCycle, data.cycle_id).revision,
        )
        db.session.commit()
    sign_in(phone, org.manager_a)
    expect_home(phone, org.manager_a)
    expect(menu_button(phone)).to_have_text("Menu 1 unread")
    menu_button(phone).click()
    main_nav(phone).get_by_role("link", name="Notifications 1 unread").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Notifications")
    entry = phone.get_by_role("listitem").filter(has_text="moved H1 2027 to Self-assessment")
    expect(entry).to_contain_text(
        f"{org.head.name} moved H1 2027 to Self-assessment: Alice Pm's case"
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if javascript:
        assert_accessible(phone)
    entry.get_by_role("link", name="Alice Pm's case").click()
    expect(phone).to_have_url(re.compile(rf"/cases/{data.case_ids[org.pm_a1.id]}$"))
