"""Data for the move to PostgreSQL: a row in every table the demo leaves empty, and many more
in the big ones, written through the models' own column types so the values are the app's.

Minimal on purpose: i18-upgrade's tests/table_filler.py is the generic filler once it lands.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from app import create_app, demo
from app.extensions import db
from app.models.base import Base

TEXT = "Ünïcødé ✓ — 日本語 🎉 «quotes» 'single' \"double\" \\ back\nline"
WHEN = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)  # around a DST change elsewhere


def sqlite_rungs(data_dir, *, evidence: int = 0, demo_org: bool = True, fill: bool = True) -> Flask:
    """A Rungs on a new SQLite file in `data_dir`: migrated, the demo organisation loaded, a row
    in every table, and the evidence table grown to `evidence` rows."""
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir}/rungs.db",
            "RUNGS_DATA_DIR": str(data_dir),
        },
        environ={},
    )
    with app.app_context():
        upgrade()
        if demo_org:
            demo.load()
            db.session.commit()
        if fill:
            with db.engine.begin() as connection:
                fill_empty_tables(connection)
                multiply(connection, "evidence", evidence)
        db.session.remove()
    return app


def app_on(url: sa.URL, data_dir) -> Flask:
    """Rungs on the moved database, with the same data folder: what the operator restarts."""
    return create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "RUNGS_DATA_DIR": str(data_dir),
        },
        environ={},
    )


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def fill_empty_tables(connection: sa.Connection, rows: int = 3) -> None:
    """Give every empty table `rows` rows, parents before children."""
    for table in Base.metadata.sorted_tables:
        if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
            continue
        for i in range(rows):
            connection.execute(table.insert().values(_row(connection, table, i)))


def multiply(connection: sa.Connection, table_name: str, at_least: int) -> int:
    """Copy the table's rows onto itself (new ids) until it holds at least `at_least` rows."""
    table = Base.metadata.tables[table_name]
    columns = [c for c in table.columns if not c.primary_key]
    count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    while count < at_least:
        query = sa.select(*columns).limit(at_least - count)
        connection.execute(table.insert().from_select([c.name for c in columns], query))
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return count


def _row(connection: sa.Connection, table: sa.Table, i: int) -> dict:
    values = {}
    for column in table.columns:
        if column.primary_key and not column.foreign_keys and _is_int(column):
            continue
        values[column.name] = _value(connection, column, i)
    return values


def _is_int(column: sa.Column) -> bool:
    return isinstance(column.type, sa.Integer)


def _value(connection: sa.Connection, column: sa.Column, i: int):
    if column.foreign_keys:
        referred = next(iter(column.foreign_keys)).column
        ids = connection.execute(sa.select(referred).order_by(referred).limit(10)).scalars().all()
        return ids[i % len(ids)] if ids else None
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):  # UTCDateTime
        kind = kind.impl
    if isinstance(kind, sa.Enum):
        members = list(kind.enum_class) if kind.enum_class else list(kind.enums)
        return members[i % len(members)]
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, sa.DateTime):
        return WHEN + timedelta(days=i)
    if isinstance(kind, sa.Date):
        return date(2026, 2, 28) + timedelta(days=i)
    if isinstance(kind, sa.JSON):
        return {"ü": [i, True, None, 1.5], "text": TEXT}
    if isinstance(kind, sa.String):
        text = f"{i}-{TEXT}-{column.name}"
        return text[: kind.length] if kind.length else text
    raise TypeError(f"no sample for {column.table.name}.{column.name} ({kind!r})")
