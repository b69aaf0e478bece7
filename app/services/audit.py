"""Writing to the audit log, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEvent, User


def record(
    actor: User | None,
    action: str,
    entity: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event for `entity` (flushed first so that new rows have an id)."""
    if getattr(entity, "id", None) is None:
        db.session.flush()
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        entity_type=type(entity).__tablename__,
        entity_id=entity.id,
        before=before,
        after=after,
    )
    db.session.add(event)
    return event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
