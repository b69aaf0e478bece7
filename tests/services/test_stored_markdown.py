"""Markdown's HTML kept beside it: made by the renderer when the text is saved, shown from there,
and rendered afresh when another renderer made it (app/models/stored_markdown.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.extensions import db
from app.infra import markdown
from app.models import Comment, Evidence, User
from app.services import evidence as evidence_service
from app.services import stored_markdown
from tests.evidence_helpers import evidence_input, publish_and_place, record
from tests.xss_corpus import PAYLOADS, assert_inert

BODY = "We shipped **CSV import**. <script>alert(1)</script> [docs](javascript:alert(1))"


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1])
    return org


def test_saving_stores_the_renderers_html_and_an_edit_renders_it_again(app, placed):
    item_id = record(app, placed.pm_a1, body=BODY)
    with app.app_context():
        item = evidence_service.get_evidence(item_id)
        assert item.body_html == str(markdown.render(BODY))
        assert item.markdown_version == markdown.VERSION
        assert "<strong>CSV import</strong>" in item.body_html
        assert_inert(item.body_html)
        evidence_service.update_evidence(
            db.session.get(User, placed.pm_a1.id),
            item,
            evidence_input(body="Now _in beta_"),
            expected_revision=item.revision,
        )
        db.session.add(Comment(evidence_id=item.id, author_id=placed.pm_a1.id, body="**yes**"))
        db.session.commit()
        item = db.session.get(Evidence, item_id)
        assert item.html("body") == "<p>Now <em>in beta</em></p>\n"
        comment = db.session.query(Comment).one()
        assert comment.body_html == "<p><strong>yes</strong></p>\n"


def test_html_another_renderer_made_is_not_shown_and_refresh_stores_it_again(app, placed):
    item_id = record(app, placed.pm_a1, body=BODY)
    with app.app_context():
        db.session.execute(
            update(Evidence)
            .where(Evidence.id == item_id)
            .values(body_html="<script>alert(1)</script>", markdown_version="0:older")
        )
        db.session.commit()
        assert db.session.get(Evidence, item_id).html("body") == markdown.render(BODY)
        assert stored_markdown.refresh() == 1
        db.session.commit()
        assert stored_markdown.refresh() == 0
        db.session.expire_all()
        item = db.session.get(Evidence, item_id)
        assert (item.body_html, item.markdown_version) == (
            str(markdown.render(BODY)),
            markdown.VERSION,
        )
        assert item.revision == 1  # the text did not change: no edit conflict for anyone


@pytest.mark.parametrize("length", [30, 180, 320])
def test_an_excerpt_read_from_the_html_is_the_excerpt_of_the_markdown(length):
    texts = [*PAYLOADS, BODY, "# Title\n\n> quote\n\n1. a\n2. b\n\n    code <x>\n\n---\n\n&amp; x"]
    for text in texts:
        assert markdown.html_excerpt(markdown.render(text), length) == markdown.plain_excerpt(
            text, length
        ), text
