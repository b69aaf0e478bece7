"""After `flask db move-to`, Rungs restarted on the PostgreSQL database (same data folder) signs
the demo head in and opens a promotion packet, by clicking from home."""

from __future__ import annotations

import re

import pytest
from flask_migrate.cli import db as db_group
from playwright.sync_api import Browser, expect

from app import demo
from tests import move_data
from tests.browser.conftest import TIMEOUT_MS, served
from tests.browser.test_sign_in import main_nav

pytestmark = [pytest.mark.browser]


@pytest.fixture
def moved_url(empty_postgres, tmp_path):
    """The demo organisation moved from SQLite to PostgreSQL, served by an app on the target."""
    source = move_data.sqlite_rungs(tmp_path, fill=False)
    result = source.test_cli_runner().invoke(
        db_group, ["move-to", empty_postgres.render_as_string(hide_password=False)]
    )
    move_data.close(source)
    assert result.exit_code == 0, result.output
    moved = move_data.app_on(empty_postgres, tmp_path)
    try:
        with served(moved) as url:
            yield url
    finally:
        move_data.close(moved)


def test_the_moved_instance_signs_in_and_opens_a_packet(browser: Browser, moved_url: str):
    context = browser.new_context(base_url=moved_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(demo.email_for("Maya Okafor"))
        page.get_by_label("Password", exact=True).fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")

        main_nav(page).get_by_role("link", name="Promotions").click()
        page.get_by_role("table").get_by_role("link", name="H1 2027").click()
        page.get_by_role("region", name="Cases").get_by_role("link").first.click()
        page.get_by_role("link", name="Preview the committee packet").click()

        expect(page).to_have_url(re.compile(r"/cases/\d+/packet/preview\?view=committee$"))
        expect(page.get_by_role("navigation", name="Packet preview")).to_be_visible()
    finally:
        context.close()
