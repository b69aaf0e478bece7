"""Every page fits a phone: 390 px wide, as each role, reached by following links from home.

The demo organisation gives every page something to show. For each of the head of product, a
manager, a mentor, a PM and a candidate in the cycle in calibration, the test signs in at 390 px
and crawls: it opens the home page, then follows the same-origin links of each page it reaches
(downloads, files and JSON left out; forms are never sent, so nothing is posted and nobody signs
out), one page per route shape (`/evidence/12` stands for every item), up to a cap per role. A
page fails when its document is wider than the viewport; the report names the URL, its width
and the widest element. axe-core checks a sample of those pages at the same width.

Everything on the page counts: the site header (its navigation folded behind the menu button),
the content and the footer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from app import demo
from app.extensions import db
from app.models import User
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_in import expect_home, sign_in
from tests.demo_copy import load_demo
from tests.factories import Person

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Someone of each kind in the demo organisation (app/demo/__init__.py).
ROLES = {
    "head": "Maya Okafor",
    "manager": "Daniel Brandt",
    "mentor": "Lena Fischer",  # mentors Kwame, Ravi and Samuel
    "pm": "Sofia Marquez",  # her self-assessment in Q1 2027 off-cycle is half done
    "candidate": "Ravi Patel",  # in H1 2027, in calibration
}
PAGES_PER_ROLE = 70  # the demo has 30-60 route shapes per role; the cap bounds the time
# Career paths read the same for everyone (bar a "your level" mark): crawled for the first role
# only, which keeps the whole test near a minute.
SAME_FOR_EVERYONE = re.compile(r"^/frameworks/")
# Not pages: files, downloads, the framework formats (plain text) and job status (JSON).
NOT_PAGES = re.compile(
    r"(/download|/status|/export\.\w+|\.pdf|\.md|\.css|/attachments/\d+)$|^/static/|^/login"
)
# A sample for axe per role (path patterns; the first page matching each is checked).
AXE_SAMPLE = {
    "head": [r"^/people/$", r"^/frameworks/[^/]+/v\d+/$", r"/levels/[^/]+$", r"/compare$"],
    "manager": [r"^/team$", r"^/evidence/\d+$", r"^/promotions/\d+$"],
    "mentor": [r"^/growth$", r"^/corroborations$"],
    "pm": [r"^/evidence/$", r"^/evidence/new$", r"/self-assessment$"],
    "candidate": [r"^/cases/\d+$", r"^/$"],
}

# The document's width, and the first (deepest) element that reaches
# the document's right edge: what to fix first when the page is too wide.
MEASURE = """() => {
  const width = document.documentElement.scrollWidth;
  let culprit = null;
  if (width > window.innerWidth) {
    for (const e of document.body.querySelectorAll('*')) {
      if (Math.ceil(e.getBoundingClientRect().right) < width) continue;
      if (culprit && !culprit.contains(e)) break;
      culprit = e;
    }
  }
  const name = e => e.tagName.toLowerCase() + [...e.classList].map(c => '.' + c).join('')
    + ' "' + e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  return {width, culprit: culprit && name(culprit)};
}"""


def shape(path: str) -> str:
    """One page per route: ids become N (`/cases/12` and `/cases/13` are the same page)."""
    return re.sub(r"\d+", "N", path)


def links(page: Page, origin: str) -> list[str]:
    """The same-origin page links of the page as shown, fragments dropped, in document order."""
    found = []
    for href in page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map(a => a.href)"
    ):
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or NOT_PAGES.search(parts.path):
            continue
        found.append(href.split("#")[0])
    return found


def crawl(
    page: Page, origin: str, axe: Axe, samples: list[str], done: set[str]
) -> tuple[int, list[str]]:
    """Follow links from home (breadth first); the pages visited and what was wrong. `done`:
    the shapes of pages that read the same for everyone and were crawled already."""
    problems: list[str] = []
    queue, shapes, visited = [f"{origin}/"], {"/"} | done, 0
    samples = list(samples)
    while queue and visited < PAGES_PER_ROLE:
        url = queue.pop(0)
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        visited += 1
        path = urlsplit(url).path
        if SAME_FOR_EVERYONE.search(path):
            done.add(shape(path))
        if response.status >= 500:
            problems.append(f"{url}: HTTP {response.status}")
            continue
        measured = page.evaluate(MEASURE)
        if measured["width"] > PHONE["width"]:
            problems.append(
                f"{url} is {measured['width']} px wide (reaching the edge: {measured['culprit']})"
            )
        for pattern in [p for p in samples if re.search(p, path)]:
            samples.remove(pattern)
            result = axe.run(page)
            if result.violations_count:
                problems.append(f"{url}: axe at 390 px\n{result.generate_report()}")
        for href in links(page, origin):
            key = shape(urlsplit(href).path)
            if key not in shapes:
                shapes.add(key)
                queue.append(href)
    problems += [f"no page matched the axe sample {p!r}" for p in samples]
    return visited, problems


@pytest.fixture
def demo_people(app) -> dict[str, Person]:
    load_demo(app)
    with app.app_context():
        people = db.session.scalars(select(User).where(User.name.in_(ROLES.values())))
        return {u.name: Person(u.id, u.email, u.name, u.role, demo.DEMO_PASSWORD) for u in people}


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Callable[[], Page]]:
    """A fresh 390 x 844 browser context per person (cookies of their own)."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server, viewport=PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_every_page_fits_390_px_as_each_role(demo_people, phone, live_server, axe):
    report, visited, done = [], {}, set()
    for role, name in ROLES.items():
        page = phone()
        sign_in(page, demo_people[name])
        expect_home(page, demo_people[name])
        visited[role], problems = crawl(page, live_server, axe, AXE_SAMPLE[role], done)
        report += [f"{role} ({name}): {problem}" for problem in problems]
        page.context.close()

    assert not report, "\n".join(report)
    # Every role reached a real part of Rungs (a crawl stuck on the home page proves nothing).
    assert all(count >= 15 for count in visited.values()), visited
