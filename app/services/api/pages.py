"""Key-set (cursor) pages for the API's lists: stable under inserts, cheap at any depth.

A list orders its rows by one or more keys ending in a unique one (usually the id); the cursor
is the last row's key values, and the next page starts strictly after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_

from app.core.errors import ValidationError
from app.extensions import db


@dataclass(frozen=True)
class Key:
    """One sort key: a column, and whether it runs from the largest value down."""

    column: Any
    descending: bool = False

    def order(self):
        return self.column.desc() if self.descending else self.column.asc()

    def after(self, value: Any) -> ColumnElement[bool]:
        return self.column < value if self.descending else self.column > value


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_after: tuple | None  # the key values to continue after; None on the last page


def _after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the keys' order: (a > x) or (a = x and b > y) …"""
    clauses = []
    for index, key in enumerate(keys):
        equal = [keys[i].column == values[i] for i in range(index)]
        clauses.append(and_(*equal, key.after(values[index])))
    return or_(*clauses)


CURSOR_REFUSED = "That cursor was not made by this list: use a page's next_cursor as it is."


def _check_after(keys: Sequence[Key], after: Sequence[Any]) -> None:
    """A cursor's values must be of its keys' types (PostgreSQL refuses to compare an integer
    column with text, where SQLite would quietly compare them)."""
    if len(after) != len(keys) or not all(
        _fits(key, value) for key, value in zip(keys, after, strict=True)
    ):
        raise ValidationError(CURSOR_REFUSED, field="cursor")


def _fits(key: Key, value: Any) -> bool:
    try:
        kind = key.column.type.python_type
    except NotImplementedError:  # a type that does not say: let the database judge
        return True
    return isinstance(value, kind) and not isinstance(value, bool)


def keyset_page(
    statement: Select,
    keys: Sequence[Key],
    *,
    after: Sequence[Any] | None,
    limit: int,
    value_of: Any = None,
) -> KeysetPage:
    """One page of `statement`'s entities (scalars), `limit` long, after the key values `after`.

    `value_of(row)` gives a row's key values (default: the key columns' attribute names)."""
    if after is not None:
        _check_after(keys, after)
        statement = statement.where(_after(keys, after))
    statement = statement.order_by(None).order_by(*(key.order() for key in keys)).limit(limit + 1)
    rows = list(db.session.scalars(statement).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return KeysetPage(rows, None)
    last = rows[-1]
    values = value_of(last) if value_of else tuple(getattr(last, k.column.key) for k in keys)
    return KeysetPage(rows, tuple(values))
