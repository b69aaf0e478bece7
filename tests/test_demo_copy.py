"""tests.demo_copy: the copied demo organisation is the loaded one, row for row."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON, select, update

from app.extensions import db
from app.models import Base, User
from tests import demo_copy
from tests.conftest import RESTART_SEQUENCES


def everything(app) -> dict:
    """Every row of every table (SQL NULL told apart from JSON null), and PostgreSQL's
    sequence positions."""
    found = {}
    with app.app_context(), db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            nulls = [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
            order = list(table.primary_key.columns) or list(table.columns)
            found[table.name] = [
                tuple(row) for row in connection.execute(select(table, *nulls).order_by(*order))
            ]
        if connection.dialect.name == "postgresql":
            found["sequences"] = connection.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' ORDER BY sequencename"
            ).all()
    return found


def empty(app) -> None:
    """As tests/conftest.py's _empty_tables does between tests."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(update(User).values(manager_id=None, level_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(RESTART_SEQUENCES)


def test_a_copy_of_the_demo_is_the_demo_loaded(app, monkeypatch):
    monkeypatch.setattr(demo_copy, "_copies", {})
    demo_copy.load_demo(app)  # loaded for real, and kept
    loaded = everything(app)
    assert len(demo_copy._copies) == 1
    assert len(loaded["users"]) > 10 and loaded["evidence"] and loaded["level_placements"]

    empty(app)
    demo_copy.load_demo(app)  # copied

    assert everything(app) == loaded


def test_only_into_an_empty_database(app, make, monkeypatch):
    monkeypatch.setattr(demo_copy, "_copies", {})
    make.person()
    with pytest.raises(AssertionError, match="empty database only"):
        demo_copy.load_demo(app)
