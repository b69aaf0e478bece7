"""bench/scale.py's organisation, generated tiny: the rows its bulk inserts write are ones the app
can show, so the bench does not rot when the schema or the pages change (issue 17)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.infra import markdown
from app.models import STORED_MARKDOWN, Evidence, User
from bench import scale, scale_data


def test_a_tiny_generated_organisation_fills_the_key_pages(app):
    with app.app_context():
        made = scale_data.generate(people=20, evidence=300)
        pages = scale.key_pages(scale_data.PASSWORD)
        newest = db.session.scalar(
            select(Evidence.title)
            .join(User, Evidence.owner_id == User.id)
            .where(User.email == pages[1].email, Evidence.deleted_at.is_(None))
            .order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
        )
        # Markdown is stored rendered, as the app stores it when it saves: pages read it as is.
        unrendered = {
            model.__tablename__: db.session.scalar(
                select(func.count()).where(model.markdown_version != markdown.VERSION)
            )
            for model in STORED_MARKDOWN
        }

    assert made.people == 20
    assert set(unrendered.values()) == {0}, unrendered
    assert made.evidence == 300
    for table in (
        "evidence_competencies",
        "kudos",
        "comments",
        "attachments",
        "promotion_cases",
        "case_ratings",
        "calibration_votes",
    ):
        assert made.rows[table] > 0, table
    assert [page.signed_in_as for page in pages] == [
        "manager",
        "candidate",
        "manager",
        "manager",
        "head",
        "facilitator",
        "head",
    ]
    clients = {}
    for page in pages:
        if page.email not in clients:
            clients[page.email] = scale._signed_in(app, page.email, scale_data.PASSWORD)
        response = clients[page.email].get(page.path)
        assert response.status_code == 200, (page.label, page.path)
    # The candidate's own list shows their newest generated item.
    assert newest in clients[pages[1].email].get(pages[1].path).get_data(as_text=True)
