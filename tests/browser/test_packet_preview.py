"""The packet preview in the browser shows the packet's own fonts, with nothing refused.

The PDF's stylesheet names its fonts by the PDF fetcher's `rungs-asset:` scheme; a browser cannot
fetch that and the CSP refuses it, so the preview used to log four errors and fall back to the
machine's fonts. The head of product opens the preview from the home page by clicking.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests import packet_helpers
from tests.browser.test_sign_in import expect_home, main_nav, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.midday]

# The packet's font faces as the browser holds them: family, weight, style and load status. Read
# once the page has loaded (its stylesheet, which declares them, included) and been laid out, so
# that the faces it uses have started loading and `fonts.ready` waits for them.
FONT_FACES = """async () => {
  document.body.getBoundingClientRect();
  await document.fonts.ready;
  return [...document.fonts].map(f => [f.family.replaceAll('"', ''), f.weight, f.style, f.status]);
}"""


def open_preview(page: Page) -> None:
    """Home → Promotions → the cycle → the case → Preview the committee packet."""
    main_nav(page).get_by_role("link", name="Promotions").click()
    page.get_by_role("table").get_by_role("link", name="H1 2027").click()
    page.get_by_role("region", name="Cases").get_by_role("link", name="Alice Pm").click()
    page.get_by_role("link", name="Preview the committee packet").click()
    expect(page.get_by_role("navigation", name="Packet preview")).to_be_visible()


def test_the_preview_loads_the_packet_fonts_without_console_errors(app, org, page):
    packet_helpers.realistic_case(app, org, items=4)
    sign_in(page, org.head)
    expect_home(page, org.head)
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if isinstance(message, ConsoleMessage) and message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))

    open_preview(page)
    expect(page).to_have_url(re.compile(r"/cases/\d+/packet/preview\?view=committee$"))
    # (evaluate waits for the stylesheet, which declares the faces: tests/browser/conftest.py)
    faces = page.evaluate(FONT_FACES)

    assert problems == []
    rungs_sans = {
        (weight, style): status for family, weight, style, status in faces if family == "Rungs Sans"
    }
    # The body text is set in the regular face and the headings in the bold one: both loaded.
    assert rungs_sans.get(("normal", "normal")) == "loaded", faces
    assert rungs_sans.get(("bold", "normal")) == "loaded", faces
    assert all(status != "error" for *_, status in faces), faces
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Rungs Sans"'), family
