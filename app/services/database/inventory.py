"""What a database holds, table by table: row counts and content checksums.

Backups write them into their manifest, restores and the move to PostgreSQL compare them. A
checksum is the same for the same rows on SQLite and on PostgreSQL: values are read through the
reflected schema and written in one canonical form (UTC datetimes without a zone, JSON with
sorted keys), and the rows' digests are sorted, so neither row order nor collation matters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

# Alembic's bookkeeping: its revision is reported on its own, not counted as data.
VERSION_TABLE = "alembic_version"
_BATCH = 5_000
# Rows read at once from a table with binary columns (stored files' chunks, up to 1 MB each).
BINARY_BATCH = 8


@dataclass(frozen=True)
class TableSummary:
    rows: int
    sha256: str


def reflect(connection: sa.Connection) -> list[sa.Table]:
    """The database's own tables (not Alembic's), by name. (Not by dependency: the schema has
    foreign-key cycles, users ↔ levels through framework versions.)"""
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    return sorted(
        (t for t in metadata.tables.values() if t.name != VERSION_TABLE), key=lambda t: t.name
    )


def schema_revision(connection: sa.Connection) -> str | None:
    """The Alembic revision the database is at; None for one never migrated."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def summarise_at(url: str | sa.URL) -> tuple[str | None, dict[str, TableSummary]]:
    """The schema revision and every table's summary of the database at `url`, read on a
    connection of its own."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return schema_revision(connection), summarise(connection)
    finally:
        engine.dispose()


def row_counts(connection: sa.Connection) -> dict[str, int]:
    """Rows per table, by table name."""
    return {
        table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in reflect(connection)
    }


def summarise(
    connection: sa.Connection, names: Iterable[str] | None = None
) -> dict[str, TableSummary]:
    """Row count and checksum of every table (or of the named ones), by table name."""
    wanted = None if names is None else set(names)
    tables = [t for t in reflect(connection) if wanted is None or t.name in wanted]
    return {table.name: summarise_table(connection, table) for table in tables}


def summarise_table(connection: sa.Connection, table: sa.Table) -> TableSummary:
    columns = sorted(table.columns, key=lambda c: c.name)
    batch = batch_size(table, _BATCH)
    result = connection.execution_options(yield_per=batch).execute(sa.select(*columns))
    digests = sorted(_row_digest(row) for row in result)
    whole = hashlib.sha256()
    for digest in digests:
        whole.update(digest)
    return TableSummary(rows=len(digests), sha256=whole.hexdigest())


def batch_size(table: sa.Table, usual: int) -> int:
    """How many rows to read at once: `usual`, or BINARY_BATCH when a row may be large."""
    if any(isinstance(column.type, sa.LargeBinary) for column in table.columns):
        return BINARY_BATCH
    return usual


def _row_digest(row: sa.Row) -> bytes:
    text = json.dumps([canonical(value) for value in row], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).digest()


def canonical(value: Any) -> Any:
    """One form per value whatever the database returned it as."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return value


def drop_all_tables(connection: sa.Connection) -> None:
    """Drop every table, Alembic's included, in one `DROP TABLE … CASCADE` statement (PostgreSQL:
    one statement needs no dependency order, and foreign-key cycles do not matter)."""
    names = sa.inspect(connection).get_table_names()
    if not names:
        return
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"DROP TABLE {', '.join(quote(n) for n in sorted(names))} CASCADE")
