"""Signing in and out through the real pages, each role's home, keyboard use and axe-core checks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User, mentorships
from tests.factories import Person

pytestmark = pytest.mark.browser


def sign_in(page: Page, person: Person, *, password: str | None = None) -> None:
    """Fill the sign-in form as a person would: by its labels, then the button."""
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(person.email)
    page.get_by_label("Password", exact=True).fill(password or person.password)
    page.get_by_role("button", name="Sign in").click()


def expect_home(page: Page, person: Person) -> None:
    first_name = person.name.split()[0]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {first_name}")
    expect(page).to_have_url(re.compile(r"/$"))


def fact(page: Page, term: str) -> Locator:
    """The value next to a term in the first description list that has it."""
    return page.locator(f"dt:text-is('{term}') + dd").first


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def click_nav(page: Page, name: str) -> None:
    """Click a link of the main navigation as a person would: on a phone, open the menu first.
    Whether the menu is folded is the stylesheet's call: `is_visible` waits for the page to have
    loaded it (tests/browser/conftest.py); before that, the button shows at any width."""
    menu = page.locator("summary").filter(has_text="Menu")
    if menu.is_visible():
        menu.click()
    main_nav(page).get_by_role("link", name=name, exact=True).click()


def focused(page: Page) -> str:
    """The id of the focused element, or its text when it has none."""
    return page.evaluate(
        "() => { const e = document.activeElement; return e.id || e.textContent.trim(); }"
    )


def tab_to(page: Page, target: Locator, *, limit: int = 20) -> None:
    """Press Tab until `target` has focus; fail, naming the stops, if it never does."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
        stops.append(focused(page))
    pytest.fail(f"Tab never reached {target}; it stopped at {stops}")


# --- signing in and out, per role ---------------------------------------------------------------


def _check_pm_home(page: Page, org) -> None:
    expect(fact(page, "Manager")).to_have_text(org.manager_a.name)
    expect(page.get_by_role("region", name="Your reports")).to_have_count(0)
    expect(page.get_by_role("region", name="Your organisation")).to_have_count(0)
    expect(main_nav(page).get_by_role("link", name="People")).to_have_count(0)


def _check_manager_home(page: Page, org) -> None:
    reports = page.get_by_role("region", name="Your reports")
    expect(reports.get_by_role("link")).to_have_text(
        [org.pm_a1.name, org.pm_a2.name, org.director.name]
    )
    expect(fact(page, "Manager")).to_have_text(org.head.name)
    expect(page.get_by_role("region", name="Your organisation")).to_have_count(0)
    expect(main_nav(page).get_by_role("link", name="People")).to_have_count(0)


def _check_head_home(page: Page, org) -> None:
    organisation = page.get_by_role("region", name="Your organisation")
    expect(organisation).to_be_visible()
    expect(organisation.get_by_role("link", name="Manage people")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="People")).to_have_attribute("href", "/people/")
    expect(page.get_by_role("region", name="Your reports").get_by_role("link")).to_have_text(
        [org.manager_a.name, org.manager_b.name]
    )


@pytest.mark.parametrize(
    ("who", "check_home"),
    [
        ("head", _check_head_home),
        ("manager_a", _check_manager_home),
        ("pm_a1", _check_pm_home),
    ],
    ids=["head of product", "manager", "product manager"],
)
def test_person_signs_in_sees_their_home_and_signs_out(
    page, org, assert_accessible, who, check_home
):
    person = getattr(org, who)
    sign_in(page, person)
    expect_home(page, person)
    check_home(page, org)
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Rungs")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/")  # the session really ended: home sends them back to sign in
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


# --- the sign-in page ---------------------------------------------------------------------------


def test_sign_in_page_is_accessible(page, assert_accessible):
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Rungs")
    assert_accessible(page)


def test_wrong_password_is_refused_with_an_accessible_error(page, org, assert_accessible):
    sign_in(page, org.pm_a1, password="not the password at all")

    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("Email", exact=True)).to_have_value(org.pm_a1.email)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)


# --- the head's people pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/people/", "People"),
        ("/people/{org.manager_a.id}", "{org.manager_a.name}"),
        ("/people/{org.pm_b1.id}", "{org.pm_b1.name}"),
        ("/people/new", "Add a person"),
        ("/people/{org.pm_b1.id}/edit", "Edit {org.pm_b1.name}"),
        ("/people/import", "Import people from CSV"),
    ],
    ids=["list", "profile of a manager", "profile of a mentee", "new", "edit", "import"],
)
def test_people_pages_are_accessible(page, org, assert_accessible, path, heading):
    sign_in(page, org.head)
    expect_home(page, org.head)

    page.goto(path.format(org=org))

    expect(page.get_by_role("heading", level=1)).to_have_text(heading.format(org=org))
    assert_accessible(page)


def test_empty_new_person_form_shows_accessible_field_errors(page, org, assert_accessible):
    sign_in(page, org.head)
    expect_home(page, org.head)
    page.goto("/people/new")

    page.get_by_role("button", name="Add person").click()

    name = page.get_by_label("Full name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Enter a name.")
    expect(page.get_by_label("Email", exact=True)).to_have_accessible_description(
        "Enter an email address."
    )
    assert_accessible(page)


def test_import_without_a_file_shows_an_accessible_error(page, org, assert_accessible):
    sign_in(page, org.head)
    expect_home(page, org.head)
    page.goto("/people/import")

    page.get_by_role("button", name="Import").click()

    expect(page.get_by_label("CSV file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_text("Choose a CSV file.")
    assert_accessible(page)


# --- keyboard only ------------------------------------------------------------------------------


def test_sign_in_with_the_keyboard_only(page, org):
    page.goto("/login")
    email = page.get_by_label("Email", exact=True)
    expect(email).to_be_focused()  # autofocus
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Rungs")).to_be_focused()
    page.keyboard.press("Tab")
    expect(email).to_be_focused()
    page.keyboard.type(org.head.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(org.head.password)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Keep me signed in")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")

    expect_home(page, org.head)


def test_add_a_person_with_the_keyboard_only(page, org, app):
    sign_in(page, org.head)
    expect_home(page, org.head)
    page.goto("/people/new")

    tab_to(page, page.get_by_label("Full name"))
    page.keyboard.type("Kim Keyboard")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    page.keyboard.type("kim@example.com")
    page.keyboard.press("Tab")
    role = page.get_by_label("Role")
    expect(role).to_be_focused()
    page.keyboard.press("ArrowDown")  # Product manager → Manager
    expect(role).to_have_value(Role.MANAGER.value)
    page.keyboard.press("Tab")
    manager = page.get_by_label("Manager", exact=True)
    expect(manager).to_be_focused()
    page.keyboard.press("ArrowDown")  # No manager → Ada Manager, the first by name
    expect(manager).to_have_value(str(org.manager_a.id))
    page.keyboard.press("Tab")
    expect(page.get_by_label("Level", exact=True)).to_be_focused()  # left as "Not placed"
    page.keyboard.press("Tab")
    expect(page.get_by_label("Filter mentors")).to_be_focused()
    page.keyboard.type("alice")  # the list narrows to Alice Pm
    page.keyboard.press("Tab")
    alice = page.get_by_role("group", name="Mentors").get_by_role("checkbox", name="Alice Pm")
    expect(alice).to_be_focused()
    page.keyboard.press("Space")
    expect(alice).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add person")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Kim Keyboard")
    expect(page.get_by_role("status")).to_contain_text("Kim Keyboard was added.")
    expect(fact(page, "Role")).to_have_text("Manager")
    expect(fact(page, "Manager")).to_have_text(org.manager_a.name)
    expect(fact(page, "Mentors")).to_have_text(org.pm_a1.name)
    with app.app_context():
        kim = db.session.execute(select(User).where(User.email == "kim@example.com")).scalar_one()
        assert (kim.name, kim.role, kim.manager_id) == (
            "Kim Keyboard",
            Role.MANAGER,
            org.manager_a.id,
        )
        mentor_ids = select(mentorships.c.mentor_id).where(mentorships.c.mentee_id == kim.id)
        assert db.session.scalars(mentor_ids).all() == [org.pm_a1.id]
