"""Two-factor sign-in in the browser: set up from Your settings with the key the page shows,
sign in again with the keyboard alone, and axe-core on every page of it, at laptop and phone
widths."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_sign_in import expect_home, sign_in

pytestmark = pytest.mark.browser


def open_account_link(page: Page, name: str) -> None:
    menu = page.locator("summary").filter(has_text="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("link", name=name, exact=True).click()


@pytest.mark.parametrize("width", [1280, 390])
def test_set_up_and_sign_in_with_a_code_by_keyboard(page: Page, org, assert_accessible, width):
    page.set_viewport_size({"width": width, "height": 900})
    person = org.manager_a
    sign_in(page, person)
    expect_home(page, person)
    open_account_link(page, "Your settings")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    assert_accessible(page)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code with the secret for your authenticator app")
    expect(qr).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#secret").inner_text().replace(" ", "")
    code_field = page.get_by_label("Code from your app")
    expect(code_field).to_have_attribute("autocomplete", "one-time-code")
    expect(code_field).to_have_attribute("inputmode", "numeric")
    code_field.focus()
    page.keyboard.type(pyotp.TOTP(secret).now())
    page.keyboard.press("Tab")
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator(".status-on")).to_have_text("On")
    assert_accessible(page)

    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    assert_accessible(page)
    # The field has focus: type the code of the next step (the current one confirmed the setup).
    page.keyboard.type(pyotp.TOTP(secret).at(time.time() + 30))
    page.keyboard.press("Enter")
    expect_home(page, person)
