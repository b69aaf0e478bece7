"""Page help that folds away after first use.

Each page's paragraphs of explanation sit in one folded block (templates/macros/help.html). The
first time a person is shown a page's help it is open; from then on it is folded, because the
person has read it once (or chosen not to) and the page should start with what they came for.
Which help each person has seen lives in the `help_seen` table: read with the base layout's one
query (app/services/layout.py), written once per page the first time it is shown open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.core.errors import ValidationError
from app.extensions import db
from app.models import HelpSeen, User
from app.models.base import utcnow

# Every page's help, by key. A key is part of what is stored for a person, so only these are
# ever written: a template that asks for another key fails at once instead of storing it.
KEYS = frozenset({"calibration", "evidence", "frameworks", "growth", "promotions", "slack", "team"})
SEPARATOR = " "  # keys hold no spaces, so the layout can read them as one string


def check_key(key: object) -> str:
    """The key, if it names a page's help; otherwise a ValidationError (message bounded)."""
    if not isinstance(key, str) or key not in KEYS:
        shown = repr(key)[:40] + ("…" if len(repr(key)) > 40 else "")
        raise ValidationError(f"There is no page help called {shown}.")
    return key


def seen_keys_subquery(person_id: int) -> ColumnElement[str | None]:
    """The keys the person has seen, as one space-separated string (NULL for none): a column the
    layout's single query selects along with its counts."""
    return (
        select(func.aggregate_strings(HelpSeen.key, SEPARATOR))
        .where(HelpSeen.user_id == person_id)
        .scalar_subquery()
    )


def parse_keys(joined: str | None) -> frozenset[str]:
    """The set behind `seen_keys_subquery`'s string."""
    return frozenset(joined.split(SEPARATOR)) if joined else frozenset()


def seen(person: User) -> frozenset[str]:
    """The help keys the person has seen (one query)."""
    return parse_keys(db.session.execute(select(seen_keys_subquery(person.id))).scalar())


def record_seen(person_id: int, keys: Iterable[str]) -> None:
    """Remember that the person has been shown these pages' help. Recording a key again changes
    nothing (not even when it was first seen), also when two requests race: the insert skips
    rows that exist. Unknown keys are refused before anything is written. The caller commits."""
    wanted = sorted({check_key(key) for key in keys})
    if not wanted:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    moment = utcnow()
    db.session.execute(
        insert(HelpSeen)
        .values([{"user_id": person_id, "key": key, "seen_at": moment} for key in wanted])
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
    )


def seen_with_times(person: User) -> list[tuple[str, datetime]]:
    """Each help the person has seen and when, by key (for their personal data export)."""
    rows = db.session.execute(
        select(HelpSeen.key, HelpSeen.seen_at)
        .where(HelpSeen.user_id == person.id)
        .order_by(HelpSeen.key)
    ).all()
    return [(key, seen_at) for key, seen_at in rows]
