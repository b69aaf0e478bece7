"""Run in child processes by test_evidence_api: one PATCH of an evidence item through the API,
sent when every process is ready, so that the saves meet."""

from __future__ import annotations

from app import create_app
from app.extensions import db


def patch_at_once(database_uri: str, secret: str, evidence_id: int, title: str, barrier) -> int:
    """PATCH the item's title with version 1 once all processes are ready; the answer's status."""
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_uri}, environ={})
    client = app.test_client()
    barrier.wait()
    response = client.patch(
        f"/api/v1/evidence/{evidence_id}",
        json={"version": 1, "title": title},
        headers={"Authorization": f"Bearer {secret}"},
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return response.status_code
