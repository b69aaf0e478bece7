"""Fill every table of a database at any revision with rows its own constraints accept.

`fill(connection, rows=5, seed=0)` reflects the tables present (SQLite or PostgreSQL, revision
0001 to head) and inserts `rows` rows into each: NOT NULL, unique (partial unique indexes taken
as full ones), CHECK ranges and one-of groups, and foreign keys hold. Tables are filled targets
first; a nullable foreign key that closes a cycle (users.level_id → levels → … → users) or points
into its own table is filled afterwards with UPDATEs. Values are what the app would store where it
reads them: enum-like strings take the head models' allowed values (they have no CHECK on the
database), JSON has the app's shapes, datetimes are UTC. Otherwise they vary on purpose (Unicode,
quotes, long text, NULLs where allowed) so that a lost or mangled value shows. Deterministic for a
seed; callable again on the same database (it adds rows). Returns rows inserted per table.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from app.services.database.inventory import reflect

SAMPLES = (
    "plain words",
    "Zoë's “quoted” 'single' \"double\" words",
    "日本語のテキスト、そして한국어",
    "emoji 🚀🧭 and a combining é",
    "line one\nline two\ttabbed",
    "back\\slash 100% _under_ ; DROP TABLE users; --",
    "<b>markup</b> & <script>alert(1)</script>",
    "",
    "Ünïcödé " * 3,
    "long text " + "lorem ipsum dolor sit amet, " * 300,
)
TIME_ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide")
BASE_TIME = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
NULL_SHARE = 0.2


@cache
def head_enums() -> dict[tuple[str, str], tuple[str, ...]]:
    """Allowed values of every enum-like column at head, by (table, column)."""
    import app.models  # noqa: F401  (registers the models on the metadata)
    from app.extensions import db

    return {
        (table.name, column.name): tuple(column.type.enums)
        for table in db.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, sa.Enum)
    }


def fill(
    connection: sa.Connection, rows: int = 5, seed: int = 0, tables: list[sa.Table] | None = None
) -> dict[str, int]:
    """Insert `rows` rows into every table (reflected, unless the caller has just done so);
    rows inserted per table."""
    tables = {table.name: table for table in (tables or reflect(connection))}
    order, deferred = _plan(tables)
    rng = random.Random(f"rungs-filler:{seed}")
    inserted: dict[str, int] = {}
    new_keys: dict[str, list[dict]] = {}
    for name in order:
        filler = _TableFiller(connection, tables[name], deferred, rng, seed)
        new_keys[name] = filler.insert(rows)
        inserted[name] = rows
    for name in order:
        _fill_deferred(connection, tables[name], deferred, new_keys[name], rng)
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, tables.values())
    return inserted


def _plan(tables: dict[str, sa.Table]) -> tuple[list[str], set[tuple[str, str]]]:
    """Tables in an order where targets come first, and the (table, column) foreign keys that
    must wait for an UPDATE: self references and the nullable ones that close a cycle."""
    deferred: set[tuple[str, str]] = set()
    needs: dict[str, dict[str, tuple[str, bool]]] = {}
    for name, table in tables.items():
        needs[name] = {}
        for fk in _foreign_keys(table):
            column = fk.parent
            if fk.column.table.name == name:
                deferred.add((name, column.name))
            elif fk.column.table.name in tables:
                needs[name][column.name] = (fk.column.table.name, column.nullable)
    order: list[str] = []
    while len(order) < len(tables):
        placed = set(order)
        ready = [
            n
            for n in sorted(tables)
            if n not in placed and all(t in placed for t, _ in needs[n].values())
        ]
        if not ready:
            ready = [_break_cycle(tables, needs, placed, deferred)]
        order.extend(ready)
    return order, deferred


def _break_cycle(tables, needs, placed, deferred) -> str:
    """The first table whose unplaced targets are all through nullable columns; those wait."""
    for name in sorted(tables):
        if name in placed:
            continue
        waiting = {c: nullable for c, (t, nullable) in needs[name].items() if t not in placed}
        if all(waiting.values()):
            deferred.update((name, column) for column in waiting)
            return name
    raise RuntimeError("foreign-key cycle through NOT NULL columns: cannot fill")


@dataclass
class _Checks:
    """What the table's CHECK constraints allow: integer ranges, exactly-one-of groups."""

    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    one_of: list[tuple[str, ...]] = field(default_factory=list)

    @classmethod
    def of(cls, table: sa.Table) -> _Checks:
        checks = cls()
        names = {column.name for column in table.columns}
        texts = sorted(
            str(c.sqltext) for c in table.constraints if isinstance(c, sa.CheckConstraint)
        )
        for text in texts:
            checks.add(text, names)
        return checks

    def add(self, text: str, names: set[str]) -> None:
        group = re.findall(r"WHEN\s*\(*\s*(\w+)\s+IS\s+NULL", text, re.IGNORECASE)
        if group:
            self.one_of.append(tuple(group))
            return
        numbers = [int(n) for n in re.findall(r"(?<![\w.])-?\d+(?![\w.])", text)]
        for column in set(re.findall(r"\w+", text)) & names:
            if len(numbers) >= 2:
                self.ranges[column] = (min(numbers), max(numbers))


class _TableFiller:
    """Rows for one table: unique where the schema says so, within its checks."""

    def __init__(self, connection, table: sa.Table, deferred, rng: random.Random, seed: int):
        self.connection, self.table, self.rng, self.seed = connection, table, rng, seed
        self.checks = _Checks.of(table)
        self.enums = {c: v for (t, c), v in head_enums().items() if t == table.name}
        self.unique_sets = _unique_sets(table)
        self.seen = {cols: self._existing(cols) for cols in self.unique_sets}
        self.serial = _serial_key(table)
        self.next_id = self._max_id() + 1 if self.serial is not None else 0
        self.k = self._count()
        self.targets = {}
        for fk in _foreign_keys(table):
            if (table.name, fk.parent.name) not in deferred:
                self.targets[fk.parent.name] = _values(connection, fk.column)
        self.offsets = {name: rng.randrange(1000) for name in self.targets}
        self.skip = {name for t, name in deferred if t == table.name}

    def insert(self, rows: int) -> list[dict]:
        batch = [self._unique_row() for _ in range(rows)]
        if batch:
            self.connection.execute(self.table.insert(), batch)
        pk = [column.name for column in self.table.primary_key.columns]
        return [{name: row[name] for name in pk} for row in batch]

    def _unique_row(self) -> dict[str, Any]:
        for _ in range(10_000):
            row = self._row()
            self.k += 1
            keys = {cols: tuple(row[c] for c in cols) for cols in self.unique_sets}
            if all(None in key or key not in self.seen[cols] for cols, key in keys.items()):
                for cols, key in keys.items():
                    self.seen[cols].add(key)
                return row
        raise RuntimeError(f"no unique row found for {self.table.name}")

    def _row(self) -> dict[str, Any]:
        chosen = {group: self.rng.choice(group) for group in self.checks.one_of}
        row = {}
        for column in self.table.columns:
            group = next((g for g in chosen if column.name in g), None)
            if column.name in self.skip or (group and chosen[group] != column.name):
                row[column.name] = None
            else:
                row[column.name] = self._value(column, must=group is not None)
        return row

    def _value(self, column: sa.Column, must: bool) -> Any:
        if column.name == self.serial:
            self.next_id += 1
            return self.next_id - 1
        if column.nullable and not must and self.rng.random() < NULL_SHARE:
            return None
        if column.name in self.targets:
            return self._target(column)
        if column.name in self.enums:
            return self.rng.choice(self.enums[column.name])
        return _Values(self, column).make()

    def _target(self, column: sa.Column) -> Any:
        values = self.targets[column.name]
        if not values:
            if column.nullable:
                return None
            raise RuntimeError(f"{self.table.name}.{column.name}: its target table is empty")
        return values[(self.k + self.offsets[column.name]) % len(values)]

    def unique(self, column: sa.Column) -> bool:
        return any(column.name in cols for cols in self.unique_sets)

    def _existing(self, cols: tuple[str, ...]) -> set[tuple]:
        columns = [self.table.c[c] for c in cols]
        return {tuple(row) for row in self.connection.execute(sa.select(*columns))}

    def _max_id(self) -> int:
        column = self.table.c[self.serial]
        return self.connection.execute(sa.select(sa.func.max(column))).scalar() or 0

    def _count(self) -> int:
        query = sa.select(sa.func.count()).select_from(self.table)
        return self.connection.execute(query).scalar_one()


class _Values:
    """A value for one column of one row, by its type and what the app reads it as."""

    def __init__(self, filler: _TableFiller, column: sa.Column):
        self.filler, self.column, self.rng, self.k = filler, column, filler.rng, filler.k
        self.unique = filler.unique(column)

    def make(self) -> Any:
        kind = self.column.type
        for types, method in (
            (sa.Boolean, self.boolean),
            (sa.Integer, self.integer),
            (sa.DateTime, self.datetime),
            (sa.Date, self.date),
            (sa.JSON, self.json),
            (sa.String, self.string),
            (sa.Float | sa.Numeric, self.number),
        ):
            if isinstance(kind, types):
                return method()
        if isinstance(kind, sa.LargeBinary):
            return self.rng.randbytes(16)
        raise TypeError(f"no filler for {self.filler.table.name}.{self.column.name}: {kind!r}")

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def integer(self) -> int:
        if self.column.name in self.filler.checks.ranges:
            return self.rng.randint(*self.filler.checks.ranges[self.column.name])
        if self.unique:
            return self.k + 1
        return self.rng.choice((0, 1, 2, 7, 42, 100, 65_535, 2**31 - 1))

    def number(self) -> float:
        return round(self.rng.uniform(-1000, 1000), 3)

    def datetime(self) -> datetime:
        jitter = timedelta(seconds=self.rng.randrange(86_400 * 365), microseconds=0)
        if self.unique:
            return BASE_TIME + timedelta(minutes=self.k) + timedelta(microseconds=self.k % 997)
        return BASE_TIME + jitter

    def date(self) -> date:
        if self.unique:
            return date(2026, 1, 1) + timedelta(days=self.k)
        return date(2025, 1, 1) + timedelta(days=self.rng.randrange(800))

    def json(self) -> Any:
        if self.column.name.endswith("_keys"):
            return [f"competency-{self.rng.randrange(50)}", "Zoë\u2019s key"][
                : self.rng.randint(0, 2)
            ]
        return {
            "title": self.rng.choice(SAMPLES[:7]),
            "n": self.rng.randrange(1000),
            "list": [1, "two", None, True],
            "nested": {"ünï": "cödé", "quote": "\"'"},
        }

    def string(self) -> str:
        name, length = self.column.name, getattr(self.column.type, "length", None)
        special = self._special(name)
        text = special if special is not None else self.rng.choice(SAMPLES)
        if self.unique and special is None:
            text = f"{text[:40]} #{self.k}-{self.filler.seed}"
        if length is not None and len(text) > length:
            suffix = f"#{self.k}" if self.unique else ""
            text = text[: max(0, length - len(suffix))] + suffix
        return text

    def _special(self, name: str) -> str | None:
        tag = f"{self.filler.seed}:{self.filler.table.name}:{self.k}"
        if name == "email":
            return f"person{self.k}.s{self.filler.seed}@example.org"
        if name == "time_zone":
            return self.rng.choice(TIME_ZONES)
        if name.endswith("_hash") or name == "stored_name" or name == "session_token":
            return hashlib.sha256(tag.encode()).hexdigest()
        if name in ("slug", "key", "code") or name.endswith("_key"):
            return f"{name.replace('_', '-')}-{self.k}-{self.filler.seed}"
        return None


def _unique_sets(table: sa.Table) -> list[tuple[str, ...]]:
    sets = {tuple(c.name for c in table.primary_key.columns)}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            sets.add(tuple(c.name for c in constraint.columns))
    for index in table.indexes:
        if index.unique:
            sets.add(tuple(c.name for c in index.columns))
    return sorted(s for s in sets if s)


def _foreign_keys(table: sa.Table) -> list[sa.ForeignKey]:
    """In a fixed order (the table keeps a set): the same seed gives the same rows."""
    return sorted(table.foreign_keys, key=lambda fk: (fk.parent.name, fk.target_fullname))


def _serial_key(table: sa.Table) -> str | None:
    """The name of a single integer primary key (ids the filler hands out), else None."""
    columns = list(table.primary_key.columns)
    if (
        len(columns) == 1
        and isinstance(columns[0].type, sa.Integer)
        and not columns[0].foreign_keys
    ):
        return columns[0].name
    return None


def _values(connection: sa.Connection, column: sa.Column) -> list:
    return list(connection.execute(sa.select(column).distinct().order_by(column)).scalars())


def _fill_deferred(connection, table: sa.Table, deferred, keys: list[dict], rng) -> None:
    """Point the columns that waited (cycles, self references) at rows that now exist."""
    for fk in _foreign_keys(table):
        column = fk.parent
        if (table.name, column.name) not in deferred or not keys:
            continue
        values = _values(connection, fk.column)
        params = []
        for index, key in enumerate(keys):
            value = values[(index * 7 + rng.randrange(len(values))) % len(values)]
            if fk.column.table.name == table.name and value == key.get(fk.column.name):
                value = None
            if column.nullable and rng.random() < NULL_SHARE:
                value = None
            params.append({**{f"k_{n}": v for n, v in key.items()}, "v": value})
        where = [table.c[n] == sa.bindparam(f"k_{n}") for n in keys[0]]
        statement = table.update().where(*where).values({column.name: sa.bindparam("v")})
        connection.execute(statement, params)


def _advance_sequences(connection: sa.Connection, tables) -> None:
    """Ids were handed out explicitly: move PostgreSQL's sequences past them."""
    for table in tables:
        serial = _serial_key(table)
        if serial is None:
            continue
        sequence = connection.execute(
            sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": serial}
        ).scalar()
        if sequence:
            top = sa.select(sa.func.coalesce(sa.func.max(table.c[serial]), 0) + 1).scalar_subquery()
            connection.execute(sa.select(sa.func.setval(sequence, top, False)))


def dumps(value: Any) -> str:
    """JSON for comparing values read back (datetimes and dates as ISO text)."""
    return json.dumps(value, sort_keys=True, default=str)
