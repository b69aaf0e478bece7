"""The inventory's checksums: equal for the same rows on SQLite and PostgreSQL, different for any
changed value, and blind to row order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.services.database import inventory


def create_sample(connection: sa.Connection, rows: list[tuple]) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "sample",
        metadata,
        sa.Column("key", sa.String(20), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("flag", sa.Boolean),
        sa.Column("value", sa.JSON),
        sa.Column("score", sa.Numeric(6, 2)),
    )
    metadata.create_all(connection)
    table = metadata.tables["sample"]
    connection.execute(
        table.insert(),
        [dict(zip(("key", "at", "flag", "value", "score"), row, strict=True)) for row in rows],
    )


ROWS = [
    ("b", datetime(2026, 3, 1, 9, 30, tzinfo=UTC), True, {"z": 1, "a": [1, "x"]}, "1.50"),
    ("A", None, False, None, None),
    ("ä", datetime(2025, 12, 31, 23, 59, 59, 123456, tzinfo=UTC), None, ["é"], "0"),
]


def summary(url, rows) -> inventory.TableSummary:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            create_sample(connection, rows)
            return inventory.summarise(connection)["sample"]
    finally:
        engine.dispose()


def test_the_same_rows_give_the_same_checksum_on_sqlite_and_postgresql(tmp_path, empty_postgres):
    on_sqlite = summary(f"sqlite:///{tmp_path / 'a.db'}", ROWS)
    on_postgres = summary(empty_postgres, list(reversed(ROWS)))
    assert on_sqlite == on_postgres
    assert on_sqlite.rows == 3


@pytest.mark.parametrize(
    "changed",
    [
        ("b", datetime(2026, 3, 1, 9, 31, tzinfo=UTC), True, {"z": 1, "a": [1, "x"]}, "1.50"),
        ("b", datetime(2026, 3, 1, 9, 30, tzinfo=UTC), False, {"z": 1, "a": [1, "x"]}, "1.50"),
        ("b", datetime(2026, 3, 1, 9, 30, tzinfo=UTC), True, {"z": 1, "a": [1, "y"]}, "1.50"),
        ("b", datetime(2026, 3, 1, 9, 30, tzinfo=UTC), True, {"z": 1, "a": [1, "x"]}, "1.51"),
    ],
)
def test_any_changed_value_changes_the_checksum(tmp_path, changed):
    original = summary(f"sqlite:///{tmp_path / 'a.db'}", ROWS)
    other = summary(f"sqlite:///{tmp_path / 'b.db'}", [changed, *ROWS[1:]])
    assert other.rows == original.rows
    assert other.sha256 != original.sha256


def test_the_apps_database_is_counted_without_alembics_table(app, org):
    with app.app_context(), db.engine.connect() as connection:
        counts = inventory.row_counts(connection)
        assert inventory.schema_revision(connection) is not None
    assert "alembic_version" not in counts
    assert counts["users"] == 8
    assert set(counts) == set(db.metadata.tables)
