"""The move to PostgreSQL: copy every table of the current database into an empty PostgreSQL one.

The target is first brought to the source's schema revision by the real migrations, then every
table is copied in batches (ids kept), sequences are set past the copied ids, and both sides are
compared table by table (`inventory.summarise`) before the copy commits. The copy is one target
transaction; the migrations commit on their own (Alembic runs them in its own transaction), so a
failure after them drops what they created: the target is left empty either way.

Foreign-key cycles (users → levels → tracks → framework_versions → users, and self references)
are broken without superuser rights or deferrable constraints: nullable foreign keys that point
at a table not yet copied (or at their own table) are inserted empty and filled in afterwards.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.core.errors import DomainError
from app.services.database import inventory

BATCH = 2_000

# Brings the empty target at a URL to a schema revision with the real migrations (the caller
# knows how: the CLI runs Alembic through a bare app bound to the target).
UpgradeTarget = Callable[[sa.URL, str], None]


class MoveError(DomainError):
    """The move was refused or failed; the target holds nothing of it."""


@dataclass(frozen=True)
class TableComparison:
    name: str
    source: inventory.TableSummary
    target: inventory.TableSummary | None

    @property
    def equal(self) -> bool:
        return self.source == self.target


@dataclass
class MoveResult:
    revision: str
    tables: list[TableComparison] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, by name

    @property
    def rows(self) -> int:
        return sum(t.source.rows for t in self.tables)


def target_url(text: str) -> sa.URL:
    """The target as a PostgreSQL URL (through psycopg 3), or a MoveError saying why not."""
    try:
        url = sa.make_url(text.strip())
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise MoveError(
            "The target is not a database URL; write it as postgresql://user@host:5432/name "
            "(the port, if given, a number)."
        ) from None
    if url.get_backend_name() != "postgresql" and url.drivername != "postgres":
        raise MoveError(
            f"The target must be a PostgreSQL database (postgresql://…), not {url.drivername}."
        )
    if not url.database:
        raise MoveError("The target URL names no database (postgresql://user@host/NAME).")
    return url.set(drivername="postgresql+psycopg")


def move(
    source: sa.Engine,
    target: sa.URL,
    migrations: str,
    upgrade_target: UpgradeTarget,
    on_table: Callable[[str, int], None] | None = None,
) -> MoveResult:
    """Copy everything from `source` into the empty PostgreSQL database at `target`, after
    `upgrade_target` has brought it to the source's schema revision."""
    started = clock.monotonic()
    _refuse_same(source.url, target)
    engine = sa.create_engine(target, poolclass=sa.pool.NullPool)
    try:
        with _snapshot(source) as src:
            revision = _source_revision(src, migrations)
            _refuse_unusable(engine, revision)
            _upgrade(engine, upgrade_target, target, revision)
            migrated = clock.monotonic()
            try:
                result = _copy_and_compare(src, engine, revision, on_table)
            except BaseException:
                _empty(engine)
                raise
    except sa.exc.DBAPIError as error:
        raise MoveError(f"The move failed, and {LEFT_EMPTY}: {reason(error)}") from error
    finally:
        engine.dispose()
    result.seconds = clock.monotonic() - started
    result.phases = {"migrations": migrated - started} | result.phases
    return result


LEFT_EMPTY = "the target was left empty"


def reason(error: sa.exc.DBAPIError) -> str:
    """The database's own first line about what went wrong."""
    return str(error.orig or error).strip().splitlines()[0]


def _snapshot(source: sa.Engine) -> sa.Connection:
    """One read of the whole source: on SQLite the app's BEGIN IMMEDIATE holds off writers for
    the move; on PostgreSQL a repeatable-read transaction sees one moment throughout."""
    connection = source.connect()
    if source.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


def _refuse_same(source: sa.URL, target: sa.URL) -> None:
    if source.get_backend_name() != "postgresql":
        return
    where = (source.host or "localhost", source.port or 5432, source.database)
    if where == (target.host or "localhost", target.port or 5432, target.database):
        raise MoveError("The target is the current database; name a new, empty one.")


def _source_revision(src: sa.Connection, migrations: str) -> str:
    revision = inventory.schema_revision(src)
    known = {script.revision for script in ScriptDirectory(migrations).walk_revisions()}
    if revision not in known:
        raise MoveError(
            f"The current database is at no known schema revision ({revision or 'none'}); "
            "run `flask db upgrade` on it first."
        )
    return revision


def _refuse_unusable(engine: sa.Engine, revision: str) -> None:
    try:
        with engine.connect() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
            at = inventory.schema_revision(conn)
    except sa.exc.OperationalError as error:
        raise MoveError(f"Cannot reach the target database: {reason(error)}") from None
    if at is not None:
        raise MoveError(
            f"The target already holds a Rungs database (revision {at}): a move goes only into "
            "an empty database. Was the move run before? Name a new, empty one."
        )
    if tables:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        raise MoveError(f"The target database is not empty (tables: {shown}); name an empty one.")


def _upgrade(engine: sa.Engine, upgrade_target: UpgradeTarget, target: sa.URL, revision: str):
    """The real migrations on the target; if they fail partway, what they made is dropped."""
    try:
        upgrade_target(target, revision)
    except Exception as error:
        _empty(engine)
        if isinstance(error, MoveError | sa.exc.DBAPIError):
            raise
        raise MoveError(
            f"Migrating the target failed, and {LEFT_EMPTY}: {error or type(error).__name__}"
        ) from error


def _copy_and_compare(src, engine, revision, on_table) -> MoveResult:
    started = clock.monotonic()
    source_tables = {t.name: t for t in inventory.reflect(src)}
    with engine.begin() as dst:
        target_tables = {t.name: t for t in inventory.reflect(dst)}
        missing = sorted(set(source_tables) ^ set(target_tables))
        if missing:
            raise MoveError(f"The schemas differ after migrating (tables: {', '.join(missing)}).")
        order, late = _plan(list(target_tables.values()))
        for table in order:
            with _naming(table.name, "copying"):
                rows = _copy_table(src, dst, source_tables[table.name], table, late[table.name])
            if on_table:
                on_table(table.name, rows)
        for table in order:
            with _naming(table.name, "linking the rows of"):
                _fill_late(src, dst, source_tables[table.name], table, late[table.name])
        for table in order:
            with _naming(table.name, "setting the id sequence of"):
                _continue_sequences(dst, table)
        copied = clock.monotonic()
        result = MoveResult(revision, _compare(src, dst))
        result.phases = {"copy": copied - started, "comparison": clock.monotonic() - copied}
        broken = [t.name for t in result.tables if not t.equal]
        if broken:
            raise MoveDiffers(result, broken)
    return result


@contextmanager
def _naming(table: str, step: str) -> Iterator[None]:
    """A database error in one table's step says which table (and the copy is rolled back)."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise MoveError(
            f"The move failed {step} table {table}, and {LEFT_EMPTY}: {reason(error)}"
        ) from error


class MoveDiffers(MoveError):
    """The copy differs from the source in some tables; nothing was kept."""

    def __init__(self, result: MoveResult, tables: list[str]):
        super().__init__(
            f"The copy differs from the current database in {', '.join(tables)}; "
            "nothing was kept in the target."
        )
        self.result = result


def _plan(tables: list[sa.Table]) -> tuple[list[sa.Table], dict[str, list[str]]]:
    """A copy order where every required foreign key points at a table already copied, and per
    table the nullable foreign-key columns to fill in after every table is copied."""
    by_name = {t.name: t for t in tables}
    needs = {
        t.name: {
            fk.referred_table.name
            for fk in t.foreign_key_constraints
            if not any(c.nullable for c in fk.columns) and fk.referred_table.name != t.name
        }
        for t in tables
    }
    order: list[sa.Table] = []
    done: set[str] = set()
    while len(order) < len(tables):
        ready = sorted(n for n in needs if n not in done and needs[n] <= done)
        if not ready:
            cycle = sorted(set(needs) - done)
            raise MoveError(f"Required foreign keys form a cycle among {', '.join(cycle)}.")
        for name in ready:
            order.append(by_name[name])
            done.add(name)
    position = {t.name: i for i, t in enumerate(order)}
    late = {
        t.name: sorted(
            c.name
            for fk in t.foreign_key_constraints
            if position[fk.referred_table.name] >= position[t.name]
            for c in fk.columns
        )
        for t in order
    }
    return order, late


def _batches(src: sa.Connection, query, size: int = BATCH) -> Iterator[list[sa.Row]]:
    result = src.execution_options(yield_per=size).execute(query)
    yield from result.partitions(size)


def _copy_table(src, dst, source: sa.Table, target: sa.Table, late: list[str]) -> int:
    names = [c.name for c in target.columns]
    convert = {c.name: _converter(target.name, c) for c in target.columns}
    copied = 0
    query = sa.select(*(source.c[n] for n in names))
    for rows in _batches(src, query, inventory.batch_size(target, BATCH)):
        values = []
        for row in rows:
            record = {n: convert[n](v, row) for n, v in zip(names, row, strict=True)}
            for name in late:
                record[name] = None
            values.append(record)
        dst.execute(target.insert(), values)
        copied += len(values)
    return copied


def _fill_late(src, dst, source: sa.Table, target: sa.Table, late: list[str]) -> None:
    if not late:
        return
    keys = [c.name for c in target.primary_key.columns]
    wanted = sa.or_(*(source.c[n].isnot(None) for n in late))
    query = sa.select(*(source.c[n] for n in keys + late)).where(wanted)
    statement = (
        target.update()
        .where(*(target.c[k] == sa.bindparam(f"k_{k}") for k in keys))
        .values({n: sa.bindparam(f"v_{n}") for n in late})
    )
    for rows in _batches(src, query):
        dst.execute(
            statement,
            [
                {f"k_{k}": row[i] for i, k in enumerate(keys)}
                | {f"v_{n}": row[len(keys) + i] for i, n in enumerate(late)}
                for row in rows
            ],
        )


def _converter(table: str, column: sa.Column) -> Callable:
    """How one column's values are written: datetimes in UTC with their zone; text without NUL
    and within the column's length; whole numbers only in integer columns. SQLite stores any
    value in any column; PostgreSQL refuses these, so the row is named before it is sent."""
    if isinstance(column.type, sa.DateTime) and column.type.timezone:
        return _aware
    if isinstance(column.type, sa.String):
        return lambda value, row: _text(table, column, value, row)
    if isinstance(column.type, sa.Integer):
        return lambda value, row: _whole(table, column.name, value, row)
    return lambda value, row: value


def _aware(value, row):
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _text(table: str, column: sa.Column, value, row):
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        _refuse(table, column.name, row, "holds a NUL character, which PostgreSQL cannot store")
    length = column.type.length
    if length is not None and len(value) > length:
        _refuse(
            table,
            column.name,
            row,
            f"holds {len(value):,} characters, more than the column's {length:,} on PostgreSQL",
        )
    return value


def _whole(table: str, column: str, value, row):
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    _refuse(table, column, row, f"holds {value!r}, not a whole number, in an integer column")


def _refuse(table: str, column: str, row, problem: str):
    where = f"row id {row.id}" if "id" in row._fields else "a row"
    raise MoveError(
        f"{table}.{column} ({where}) {problem}; correct it in the current database and run the "
        "move again. Nothing was moved."
    )


def _continue_sequences(dst: sa.Connection, table: sa.Table) -> None:
    """New rows continue after the copied ids: every serial or identity column's sequence is set
    to the column's largest value (or restarts at 1 for an empty table)."""
    for column in table.primary_key.columns:
        sequence = dst.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        if sequence is None:
            continue
        largest = sa.func.max(column)
        dst.execute(
            sa.select(
                sa.func.setval(sequence, sa.func.coalesce(largest, 1), largest.isnot(None))
            ).select_from(table)
        )


def _compare(src: sa.Connection, dst: sa.Connection) -> list[TableComparison]:
    before = inventory.summarise(src)
    after = inventory.summarise(dst)
    return [TableComparison(name, before[name], after.get(name)) for name in sorted(before)]


def _empty(engine: sa.Engine) -> None:
    """Drop what the migrations created in the (previously empty) target."""
    with engine.begin() as conn:
        inventory.drop_all_tables(conn)
