"""How the head of product reaches a framework's editor in the browser: by clicking from the home
page through the catalogue, as a person would, never by typing an address."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_sign_in import expect_home, main_nav, sign_in


def open_catalogue(page: Page) -> None:
    """From any page: the Career paths catalogue, through the main navigation."""
    main_nav(page).get_by_role("link", name="Career paths").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Career paths")


def start_new_draft(page: Page, framework: str) -> None:
    """From any page: a new draft of the framework's published version, started from the
    catalogue; the editor of the new draft opens."""
    open_catalogue(page)
    page.get_by_role("button", name=f"Start a new draft of {framework}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {framework}")


def open_draft(page: Page, framework: str) -> None:
    """From any page: the editor of the framework's draft, opened from the catalogue."""
    open_catalogue(page)
    page.get_by_role(
        "link", name=re.compile(rf"^Open the draft \(version \d+\) of {framework}$")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {framework}")


def head_opens_draft(page: Page, head, framework: str) -> None:
    """Sign in as the head of product and open the framework's draft from the home page."""
    sign_in(page, head)
    expect_home(page, head)
    open_draft(page, framework)
