"""The demo organisation for tests that need a full organisation to work on, loaded once per
process and copied in afterwards.

`flask demo load` runs every service the demo goes through (frameworks, evidence, cycles,
coaching) and took 5 to 12 s; about twenty tests start from it. The first of them in a process
loads it for real and keeps its rows (and PostgreSQL's sequence positions); the next ones insert
those rows into the emptied database in well under a second. What the loader itself does is
tested through it in tests/test_cli.py and tests/test_demo_*.py, which load it for real.

A copy is what a fresh load would have written, but a few minutes older: its times are those of
the first load. A copy is therefore kept per day and per clock (real, or a test's `midday`
clock), and per setting the loader reads (email on or off), so that no test sees another day's
demo or one loaded under other settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, bindparam, func, insert, select, update
from time_machine import escape_hatch

from app import demo
from app.extensions import db
from app.models import Base
from app.models.base import utcnow

# Settings the demo's services read while loading (email on queues invitations and the like).
SETTINGS_READ = ("MAIL_SERVER",)


@dataclass
class Copy:
    # table → its rows in primary-key order, grouped by the JSON columns that hold SQL NULL
    # (left out of the insert) rather than JSON null: both read back as None.
    rows: dict[str, dict[tuple[str, ...], list[dict]]]
    sequences: dict[str, int]  # PostgreSQL: sequence → its last value


_copies: dict[tuple, Copy] = {}


def load_demo(app) -> None:
    """The demo organisation in the empty database of `app`, as `flask demo load` leaves it."""
    with app.app_context():
        assert _empty(), "load_demo loads the demo into an empty database only"
        key = (
            app.config["SQLALCHEMY_DATABASE_URI"],
            escape_hatch.is_travelling(),
            utcnow().date(),
            *(app.config.get(name) for name in SETTINGS_READ),
        )
        copy = _copies.get(key)
        if copy is not None:
            _insert(copy)
            return
        demo.load()
        db.session.commit()
        _copies[key] = _read()


def _empty() -> bool:
    with db.engine.connect() as connection:
        return not any(
            connection.execute(select(func.count()).select_from(table)).scalar()
            for table in Base.metadata.sorted_tables
        )


def _read() -> Copy:
    rows = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            nullable_json = [c for c in table.columns if isinstance(c.type, JSON) and c.nullable]
            flags = [c.is_(None).label(f"sql_null_{c.name}") for c in nullable_json]
            groups: dict[tuple[str, ...], list[dict]] = {}
            for row in connection.execute(select(table, *flags).order_by(*order)):
                values = {c.name: row._mapping[c] for c in table.columns}
                left_out = tuple(
                    c.name for c in nullable_json if row._mapping[f"sql_null_{c.name}"]
                )
                for name in left_out:
                    del values[name]
                groups.setdefault(left_out, []).append(values)
            rows[table.name] = groups
        sequences = {}
        if connection.dialect.name == "postgresql":
            sequences = dict(
                connection.exec_driver_sql(
                    "SELECT sequencename, last_value FROM pg_sequences "
                    "WHERE schemaname = 'public' AND last_value IS NOT NULL"
                ).all()
            )
    return Copy(rows, sequences)


def _insert(copy: Copy) -> None:
    """The rows in foreign-key order; a column that points at its own table or a later one
    (users → levels, a comment's parent) is filled in afterwards, once every row exists."""
    tables = Base.metadata.sorted_tables
    rank = {table.name: index for index, table in enumerate(tables)}
    later: list[tuple] = []
    with db.engine.begin() as connection:
        for table in tables:
            deferred = [
                fk.parent.name
                for fk in table.foreign_keys
                if rank[fk.column.table.name] >= rank[table.name]
            ]
            for rows in copy.rows[table.name].values():
                if deferred:
                    later.append((table, deferred, rows))
                    rows = [{**row, **dict.fromkeys(deferred)} for row in rows]
                connection.execute(insert(table), rows)
        for table, columns, rows in later:
            keys = [column.name for column in table.primary_key.columns]
            pointing = [row for row in rows if any(row[name] is not None for name in columns)]
            if not pointing:
                continue
            statement = (
                update(table)
                .where(*(table.c[name] == bindparam(f"key_{name}") for name in keys))
                .values({name: bindparam(f"new_{name}") for name in columns})
            )
            connection.execute(
                statement,
                [
                    {
                        **{f"key_{name}": row[name] for name in keys},
                        **{f"new_{name}": row[name] for name in columns},
                    }
                    for row in pointing
                ],
            )
        for sequence, value in copy.sequences.items():
            connection.exec_driver_sql("SELECT setval(%s, %s)", (sequence, value))
