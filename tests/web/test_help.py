"""Page help through HTTP: open the first time a person is shown a page's help, folded on every
later visit, per person and per page; only a page delivered to the person (a GET answered 200,
not a prefetch or a HEAD) counts as seen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HelpSeen
from tests.evidence_helpers import publish_and_place
from tests.factories import sign_in

pytestmark = pytest.mark.midday


def help_block(page: str, key: str) -> str:
    """The opening tag of the page's help `key` (the test fails when there is none)."""
    found = re.findall(rf'<details class="help[^"]*" data-help="{key}"[^>]*>', page)
    assert len(found) == 1, found
    return found[0]


def is_open(page: str, key: str) -> bool:
    return help_block(page, key).endswith(" open>")


def seen(app, person) -> list[str]:
    with app.app_context():
        keys = list(
            db.session.scalars(
                select(HelpSeen.key).where(HelpSeen.user_id == person.id).order_by(HelpSeen.key)
            )
        )
        db.session.rollback()
    return keys


def get(client, path: str, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_help_is_open_on_a_first_visit_and_folded_after(app, client, org):
    sign_in(client, org.manager_a)
    first = get(client, "/team")
    assert is_open(first, "team")
    assert "<summary>What this page shows</summary>" in first  # works without JavaScript
    assert "Everyone in your line" in first
    assert seen(app, org.manager_a) == ["team"]

    later = get(client, "/team")
    assert not is_open(later, "team")
    assert "Everyone in your line" in later  # folded, still there to open
    # Another page's help is new to them; the first one stays folded.
    assert is_open(get(client, "/promotions"), "promotions")
    assert not is_open(get(client, "/team"), "team")
    assert seen(app, org.manager_a) == ["promotions", "team"]


def test_each_person_sees_the_help_open_once(app, client, org):
    sign_in(client, org.manager_a)
    get(client, "/team")
    other = app.test_client()
    sign_in(other, org.manager_b)
    assert is_open(get(other, "/team"), "team")
    assert not is_open(get(other, "/team"), "team")
    assert seen(app, org.manager_b) == ["team"] and seen(app, org.manager_a) == ["team"]


def test_a_prefetch_or_a_head_request_does_not_count_as_seen(app, client, org):
    publish_and_place(app, [org.pm_a1])
    sign_in(client, org.pm_a1)
    assert is_open(get(client, "/growth", **{"Sec-Purpose": "prefetch"}), "growth")
    assert is_open(get(client, "/growth", Purpose="prefetch"), "growth")
    assert client.head("/growth").status_code == 200
    assert seen(app, org.pm_a1) == []
    assert is_open(get(client, "/growth"), "growth")  # the person's own visit
    assert seen(app, org.pm_a1) == ["growth"]
    assert not is_open(get(client, "/growth"), "growth")


def test_a_page_refused_for_bad_input_records_nothing(app, client, org):
    sign_in(client, org.pm_a1)
    refused = client.get("/evidence/?since=2026-13-45")
    assert refused.status_code == 400
    assert is_open(refused.get_data(as_text=True), "evidence")
    assert seen(app, org.pm_a1) == []


def test_every_page_with_help_shows_it_open_once(app, client, org):
    publish_and_place(app, [org.pm_a1, org.head])
    sign_in(client, org.head)
    pages = {
        "/evidence/": "evidence",
        "/growth": "growth",
        "/promotions": "promotions",
        "/frameworks/": "frameworks",
        "/team": "team",
    }
    for path, key in pages.items():
        assert is_open(get(client, path), key), path
        assert not is_open(get(client, path), key), path
    assert seen(app, org.head) == sorted(pages.values())


def test_a_busy_database_costs_the_record_not_the_page(app, client, org, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.services import help as help_service

    def locked(*_args, **_kwargs):
        raise OperationalError("INSERT INTO help_seen", {}, Exception("database is locked"))

    sign_in(client, org.manager_a)
    monkeypatch.setattr(help_service, "record_seen", locked)
    assert is_open(get(client, "/team"), "team")  # served, though nothing could be recorded
    assert seen(app, org.manager_a) == []
    monkeypatch.undo()
    assert is_open(get(client, "/team"), "team")  # open once more, and recorded this time
    assert seen(app, org.manager_a) == ["team"]
