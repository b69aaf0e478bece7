"""Evidence test data: a published sample framework with everyone placed on it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import EvidenceKind, Level, User, Visibility
from app.policy import SYSTEM
from app.services import evidence as evidence_service
from app.services.frameworks import files
from tests.framework_samples import framework_yaml


def publish_and_place(app, people, code: str = "L1") -> None:
    """Publish the sample framework (skills skill-0-0 … skill-1-1) and place `people` on `code`."""
    with app.app_context():
        files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True)
        level_id = db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()
        for person in people:
            db.session.get(User, person.id).level_id = level_id
        db.session.commit()


def evidence_input(**changes) -> evidence_service.EvidenceInput:
    values = {
        "title": "Launched CSV import",
        "occurred_on": date(2026, 10, 1),
        "kind": EvidenceKind.LAUNCH,
        "competency_keys": ["skill-0-0", "skill-1-0"],
        "body": "We shipped **CSV import** to all accounts.",
        "visibility": Visibility.SHARED,
        "metric": "Activation",
        "metric_before": "31",
        "metric_after": "38",
        "metric_unit": "%",
        "links": [("https://example.com/launch", "Launch notes")],
    }
    values.update(changes)
    return evidence_service.EvidenceInput(**values)


def record(app, owner, **changes) -> int:
    """Record an item as `owner` and return its id."""
    with app.app_context():
        actor = db.session.get(User, owner.id)
        item = evidence_service.record_evidence(actor, evidence_input(**changes))
        db.session.commit()
        return item.id
