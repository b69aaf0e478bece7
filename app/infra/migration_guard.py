"""Downgrades that would drop data stop and say what, unless forced.

A migration's `downgrade()` calls `refuse_data_loss(tables=..., columns=...)` with the tables it
drops and the columns it removes before it touches anything. Rows in those tables, or values in
those columns (non-NULL, and different from the default an upgrade would put back), stop the
downgrade with an error naming them; `flask db downgrade --x-arg force=yes <revision>` goes ahead.
The whole downgrade runs in one transaction, so a refusal leaves the database as it was. An
offline downgrade (`--sql`) cannot count anything: it is refused likewise unless forced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

FORCE_ARGUMENT = "force"
FORCE_VALUES = {"yes", "true", "1"}
# A removed column: its name, or its name and the default an upgrade would put back.
Column = str | tuple[str, Any]


class DataLossRefused(CommandError):
    """A downgrade would drop data; Flask-Migrate prints the message and exits with status 1."""

    def __init__(
        self,
        revision: str | None,
        losses: list[str],
        target: str | None = None,
        *,
        checked: bool = True,
    ):
        self.losses = losses
        below = f"below {revision} " if revision else ""
        what = "would delete data" if checked else "drops, unchecked (--sql reads no data)"
        super().__init__(
            f"Downgrading {below}{what}: {'; '.join(losses)}. Nothing was changed. "
            "Back up first (flask backup create); to downgrade anyway, run: "
            f"flask db downgrade --x-arg {FORCE_ARGUMENT}=yes {target or '<revision>'}"
        )


def refuse_data_loss(
    tables: Iterable[str] = (), columns: Mapping[str, Iterable[Column]] | None = None
) -> None:
    """Stop the downgrade if the dropped tables hold rows or the removed columns hold values.
    Called with nothing (a step that drops only indexes, which hold no data), it lets the step
    go ahead, offline too: there is nothing to count."""
    tables = list(tables)
    if forced() or not (tables or any(columns.values() if columns else ())):
        return
    if context.is_offline_mode():
        # `--sql` prints the statements without a database to count rows in: it cannot tell.
        raise DataLossRefused(
            _revision(),
            [f"table {name}" for name in tables]
            + [
                f"column {t}.{c if isinstance(c, str) else c[0]}"
                for t, cs in (columns or {}).items()
                for c in cs
            ],
            _target(),
            checked=False,
        )
    connection = op.get_bind()
    losses = data_in(connection, tables, columns or {})
    if losses:
        raise DataLossRefused(_revision(), losses, _target())


def forced() -> bool:
    value = context.get_x_argument(as_dictionary=True).get(FORCE_ARGUMENT, "")
    return value.strip().lower() in FORCE_VALUES


def data_in(
    connection: sa.Connection, tables: Iterable[str], columns: Mapping[str, Iterable[Column]]
) -> list[str]:
    """What would be lost, one phrase each: "table goals (3 rows)", "column users.x (2 values)"."""
    losses = []
    for name in tables:
        rows = _count(connection, sa.table(name))
        if rows:
            losses.append(f"table {name} ({_plural(rows, 'row')})")
    for name, removed in columns.items():
        for entry in removed:
            column, default = (entry, None) if isinstance(entry, str) else entry
            values = _count(connection, sa.table(name), _holds_value(column, default))
            if values:
                losses.append(f"column {name}.{column} ({_plural(values, 'value')})")
    return losses


def _holds_value(column: str, default: Any) -> sa.ColumnElement[bool]:
    value = sa.column(column)
    if default is None:
        return value.is_not(None)
    return sa.and_(value.is_not(None), value != sa.literal(default))


def _count(connection: sa.Connection, table: sa.TableClause, where=None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    return connection.execute(query).scalar_one()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _target() -> str | None:
    """The revision the downgrade was asked to reach, as typed ("0008", "-1", "base")."""
    try:
        target = context.get_revision_argument()
    except Exception:  # only the message's wording depends on it
        return None
    return target if isinstance(target, str) else None


def _revision() -> str | None:
    try:
        return context.get_context().get_current_revision()
    except Exception:  # only the message's wording depends on it
        return None
