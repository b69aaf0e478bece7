"""Organisation-wide settings, one `settings` row per key: stored with who and when, audited."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEvent, Setting, User
from app.models.base import utcnow


def save(
    actor: User | None,
    key: str,
    value: dict[str, Any],
    *,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Setting:
    """Store `value` under `key`, stamped with the actor (None: the command line) and the time,
    and audit `action` from `before` to `after` (what may be shown of it: never a secret) when
    anything changed (a new secret may show as the same hint). Flushed; the caller commits."""
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value={})
        db.session.add(row)
    changed = row.value != value or before != after
    row.value = value
    row.updated_at = utcnow()
    row.updated_by_id = getattr(actor, "id", None)
    if changed:
        # A setting is known by its key (audit.record wants an integer id): it goes in the event.
        db.session.add(
            AuditEvent(
                actor_id=getattr(actor, "id", None),
                action=action,
                entity_type=Setting.__tablename__,
                entity_id=None,
                before={"key": key, **before},
                after={"key": key, **after},
            )
        )
    db.session.flush()
    return row
