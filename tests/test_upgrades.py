"""Upgrades lose nothing: a database filled at every released revision keeps every row and value.

For each revision before head: migrate an empty database to it with the real migrations, fill
every table (tests/table_filler.py), upgrade to head, and compare. Every row of every table is
still there, every column that exists at both revisions holds the same values, and a column a
migration adds to a table that already had rows holds what that migration says (NULL unless
listed in ADDED, which names each migration's intended transformation).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, migrate
from app.infra import markdown
from app.services.database.inventory import canonical, reflect, schema_revision, summarise
from tests.table_filler import fill

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
REVISIONS = sorted(path.name[:4] for path in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
HEAD = REVISIONS[-1]
ROWS = 6

Row = dict[str, object]
# A column added to a table that already had rows: what each existing row holds afterwards.
ADDED: dict[tuple[str, str], Callable[[Row], object]] = {
    ("competencies", "short_name"): lambda row: "",  # 0007: the grid derives it from the name
    ("promotion_cycles", "packets_show_goals"): lambda row: False,  # 0008
    ("notifications", "dispatched_at"): lambda row: row["created_at"],  # 0009: already handled
    ("users", "time_zone"): lambda row: "UTC",  # 0009
}
# 0012: each markdown field's HTML, by a frozen copy of the renderer: the app's until it changes.
MARKDOWN_0012 = {
    "evidence": ["body"],
    "comments": ["body"],
    "promotion_cases": ["statement", "self_statement", "outcome_rationale", "decision_rationale"],
    "case_ratings": ["rationale", "reason"],
}
for _table, _fields in MARKDOWN_0012.items():
    ADDED[(_table, "markdown_version")] = lambda row: markdown.VERSION
    for _field in _fields:
        ADDED[(_table, f"{_field}_html")] = lambda row, f=_field: str(markdown.render(row[f]))


def database_for(tmp_path: Path, request) -> str:
    """A new empty database of the suite's kind: a SQLite file, or a PostgreSQL database."""
    if os.environ.get("TEST_DATABASE_URL"):
        return request.getfixturevalue("empty_postgres").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'upgrade.db'}"


def snapshot(
    connection: sa.Connection, tables: list[sa.Table] | None = None
) -> dict[str, dict[tuple, Row]]:
    """Every row of every table, by primary key, values in one canonical form."""
    found = {}
    for table in tables or reflect(connection):
        key = [column.name for column in table.primary_key.columns]
        rows = {}
        for row in connection.execute(sa.select(table)).mappings():
            values = {name: canonical(value) for name, value in row.items()}
            rows[tuple(values[name] for name in key)] = values
        found[table.name] = rows
    return found


def level_placements_made(before: dict[str, dict[tuple, Row]]) -> set[tuple]:
    """0004 starts everyone's level history with the level they held."""
    return {
        (user["id"], user["level_id"], user["created_at"], "placed")
        for user in before["users"].values()
        if user.get("level_id") is not None
    }


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_to_head_keeps_every_row_and_value(revision, tmp_path, request):
    url = database_for(tmp_path, request)
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url}, environ={})
    with app.app_context():
        upgrade(revision=revision)
        with db.engine.begin() as connection:
            tables = reflect(connection)
            inserted = fill(connection, rows=ROWS, seed=int(revision), tables=tables)
            before = snapshot(connection, tables)
        upgrade()
        with db.engine.connect() as connection:
            assert schema_revision(connection) == HEAD
            after = snapshot(connection)
        db.engine.dispose()

    assert set(inserted) == set(before) and all(n == ROWS for n in inserted.values())
    for name, rows in before.items():
        assert name in after, f"table {name} is gone after upgrading from {revision}"
        kept, added = _columns(rows, after[name])
        assert after[name].keys() == rows.keys(), f"{name}: rows lost or added"
        for key, old in rows.items():
            new = after[name][key]
            assert {c: new[c] for c in kept} == {c: old[c] for c in kept}, f"{name} {key}"
            for column in added:
                expected = ADDED.get((name, column), lambda row: None)(new)
                assert new[column] == expected, f"{name}.{column} of {key} after {revision}"
    if revision < "0004":
        placements = {
            (p["user_id"], p["level_id"], p["started_at"], p["source"])
            for p in after["level_placements"].values()
        }
        assert placements == level_placements_made(before)


def _columns(before: dict[tuple, Row], after: dict[tuple, Row]) -> tuple[set[str], set[str]]:
    """Columns kept from the old revision, and columns the upgrade added (on any row)."""
    old = set(next(iter(before.values()), {}))
    new = set(next(iter(after.values()), {}))
    assert old <= new, f"columns dropped: {sorted(old - new)}"
    return old, new - old


def test_every_revision_is_covered(app):
    """The revisions listed from the file names are Alembic's own, head last."""
    with app.app_context():
        scripts = ScriptDirectory.from_config(migrate.get_config())
        assert sorted(r.revision for r in scripts.walk_revisions()) == REVISIONS
        assert scripts.get_current_head() == HEAD


def test_the_filler_gives_the_same_rows_for_the_same_seed(tmp_path, request):
    """Deterministic, and alike on SQLite and PostgreSQL: the inventory's checksums agree for
    a SQLite file and the suite's kind of database filled with the same seed."""
    summaries = []
    for url in (f"sqlite:///{tmp_path / 'one.db'}", database_for(tmp_path, request)):
        if url.startswith("sqlite") and summaries:
            url = f"sqlite:///{tmp_path / 'two.db'}"
        app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url}, environ={})
        with app.app_context():
            upgrade()
            with db.engine.begin() as connection:
                fill(connection, rows=ROWS, seed=7)
                fill(connection, rows=ROWS, seed=8)
                summaries.append(summarise(connection))
            db.engine.dispose()
    assert summaries[0] == summaries[1]
    assert all(summary.rows == 2 * ROWS for summary in summaries[0].values())
