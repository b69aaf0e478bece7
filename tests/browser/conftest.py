"""Browser fixtures: the app on a live local server, driven by Debian's Chromium through Playwright.

Browser downloads are impossible here, so Playwright launches the system `chromium`. When it is
missing the tests fail (never skip): CI requires that they run.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import threading
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# How long an action or an `expect` waits before it fails. A wait this long is a hang, not a slow
# page (how fast pages are is measured by bench/, not here). It was 5 s: with two suites at once
# on 2 cores, a click on the main navigation waited longer than that for the next page.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def read_whole(app):
    """`app` with each response read (and its file closed) before the server sends it.

    A browser that navigates on while a stylesheet is still arriving resets the connection;
    werkzeug's development server then skips closing the response, and the open file surfaces
    later as a ResourceWarning in whichever test is running, which the suite treats as an error.
    Reading first closes the file before any byte is written, whatever the browser does."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """An app served over HTTP on a free loopback port, in a background thread; its base URL."""
    server = make_server("127.0.0.1", 0, read_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# What a page looks like is its stylesheets' doing, and a click that opens a page returns once the
# new HTML is in, before its stylesheets have arrived (or been revalidated: static files answer
# 304). A test that then reads a size, a position, a computed style or what is visible reads the
# page unstyled, and fails only when the machine is slow: CI failed four times that way, one test
# at a time (the menu, the delegation board, the packet fonts, the calibration grid). So every
# such read waits for the page's `load` event first, which is immediate once it has fired. With
# every stylesheet and script served 0.6 s late, four more tests failed without this wait; none
# fails with it.
LAYOUT_READS = {
    Page: ("evaluate",),
    Locator: (
        "evaluate",
        "evaluate_all",
        "bounding_box",
        "is_visible",
        "is_hidden",
        "inner_text",
        "all_inner_texts",
    ),
}


def after_load(read: Callable, page_of: Callable[[object], Page]) -> Callable:
    @functools.wraps(read)
    def wrapped(self, *args, **kwargs):
        page_of(self).wait_for_load_state("load")
        return read(self, *args, **kwargs)

    return wrapped


@pytest.fixture(scope="package", autouse=True)
def layout_reads_wait_for_the_stylesheets() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for cls, names in LAYOUT_READS.items():
            page_of = (lambda page: page) if cls is Page else (lambda locator: locator.page)
            for name in names:
                patch.setattr(cls, name, after_load(getattr(cls, name), page_of))
        yield


@pytest.fixture(scope="package")
def live_server(app) -> Iterator[str]:
    """The session's app served over HTTP on a free port, in a background thread."""
    with served(app) as url:
        yield url


# Package scope: Chromium is closed once the browser tests are done, instead of idling (and
# using CPU) through the rest of the suite.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "The browser tests need Debian's Chromium on PATH (`apt-get install -y chromium`, "
            "or `make chromium`); browser downloads are not possible here.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh context (no cookies) and page per test; relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def assert_accessible(axe: Axe) -> Callable[[Page], None]:
    """Run axe-core on the page as it is now; fail with axe's report on any violation."""

    def check(page: Page) -> None:
        page.wait_for_load_state("load")
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"

    return check
