"""XSS: payloads typed into evidence titles, bodies, outcomes and links stay inert on every page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Evidence
from tests.evidence_helpers import publish_and_place
from tests.factories import sign_in
from tests.xss_corpus import (
    PAYLOADS,
    SAFE_LINK_URLS,
    UNSAFE_LINK_URLS,
    assert_inert,
    executable_parts,
)

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
REVISION = re.compile(r'id="revision" name="revision" type="hidden" value="(\d+)"')


def evidence_form(payload: str, **changes) -> dict:
    data = {
        "title": payload,
        "occurred_on": "2026-03-02",
        "kind": "experiment",
        "body": f"{payload}\n\n- {payload}\n\n> {payload}",
        "metric": payload,
        "metric_before": payload[:60],
        "metric_after": payload[-60:],
        "metric_unit": payload[:30],
        "links-0-url": "https://example.com/doc",
        "links-0-label": payload,
        "competency_keys": ["skill-0-0"],
        "visibility": "shared",
    }
    data.update(changes)
    return data


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1])
    return org


@pytest.fixture
def alice(client, placed):
    sign_in(client, placed.pm_a1)
    return client


def page_of(client, url: str, status: int = 200, **query) -> str:
    response = client.get(url, query_string=query)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def log(client, data: dict) -> int:
    response = client.post_form("/evidence/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_corpus_is_big_enough_and_the_checker_catches_live_html():
    assert len(PAYLOADS) >= 25 and all(len(p) <= 200 for p in PAYLOADS)
    live = [
        "<script>alert(1)</script>",
        '<script src="https://evil.example/x.js"></script>',
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        '<a href="JaVaScRiPt&#x3a;alert(1)">x</a>',
        '<a href=" java&#x09;script:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        "<iframe src=https://example.com></iframe>",
        "<object data=x></object>",
        "<embed src=x>",
        '<p onclick="x">text</p>',
        '<div style="color:red">x</div>',
    ]
    for html in live:
        assert executable_parts(html), html
    assert executable_parts('<a href="https://example.com/x" rel="nofollow">x</a>') == []
    assert executable_parts('<script src="/static/js/evidence.js" defer></script>') == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_stays_inert_on_every_page_that_shows_it(app, alice, payload):
    item_id = log(alice, evidence_form(payload))
    pages = {
        "show": page_of(alice, f"/evidence/{item_id}"),
        "timeline": page_of(alice, "/evidence/"),
        "edit": page_of(alice, f"/evidence/{item_id}/edit"),
        "home": page_of(alice, "/"),
    }
    revision = REVISION.search(pages["edit"]).group(1)
    edited = alice.post_form(
        f"/evidence/{item_id}/edit",
        evidence_form(f"{payload} v2"[:200], body=f"Changed: {payload}", revision=revision),
    )
    assert edited.status_code == 302
    pages["history"] = page_of(alice, f"/evidence/{item_id}/history")
    pages["search"] = page_of(alice, "/evidence/", q=payload[:100])
    stale = alice.post_form(f"/evidence/{item_id}/edit", evidence_form(payload, revision=revision))
    assert stale.status_code == 409  # the conflict page shows the saved values
    pages["conflict"] = stale.get_data(as_text=True)
    trashed = alice.post_form(f"/evidence/{item_id}/delete", follow_redirects=True)
    pages["timeline after delete"] = trashed.get_data(as_text=True)
    pages["trash"] = page_of(alice, "/evidence/trash")
    for name, html in pages.items():
        assert_inert(html, f"{name} page for {payload!r}")
    # Shown as the text that was typed (titles are stored with runs of whitespace folded).
    shown = unescape(re.sub(r"<[^>]+>", "", pages["show"]))
    assert " ".join(payload.split()) in shown


def test_a_manager_reading_the_payloads_sees_them_inert(app, client, placed):
    owner = app.test_client()
    sign_in(owner, placed.pm_a1)
    ids = [log(owner, evidence_form(payload)) for payload in PAYLOADS[:12]]
    sign_in(client, placed.manager_a)
    for item_id in ids:
        assert_inert(page_of(client, f"/evidence/{item_id}"), f"manager, item {item_id}")
        assert_inert(page_of(client, f"/evidence/{item_id}/history"), f"history {item_id}")


@pytest.mark.parametrize("url", SAFE_LINK_URLS)
def test_accepted_link_addresses_stay_inside_their_attribute(alice, url):
    item_id = log(alice, evidence_form("Links", **{"links-0-url": url, "links-0-label": ""}))
    for path in (f"/evidence/{item_id}", f"/evidence/{item_id}/edit", "/evidence/"):
        assert_inert(page_of(alice, path), f"{path} with link {url!r}")
    show = page_of(alice, f"/evidence/{item_id}")
    hrefs = re.findall(r'<a href="([^"]*)" rel="noopener noreferrer nofollow"', show)
    assert unescape(hrefs[0]) == url


@pytest.mark.parametrize("url", UNSAFE_LINK_URLS)
def test_unsafe_link_addresses_are_refused_next_to_the_field(app, alice, url):
    response = alice.post_form("/evidence/new", evidence_form("Links", **{"links-0-url": url}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="links-0-url-error">Use a web address that starts with https:// or http://.' in (
        page
    )
    assert_inert(page, f"form with {url!r}")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0
