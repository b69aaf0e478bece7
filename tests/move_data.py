"""Data for the move to PostgreSQL: the demo organisation, rows in every table (the generic
`tests.table_filler`), and many more evidence rows for the benchmark."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from app import create_app, demo
from app.extensions import db
from app.models.base import Base
from tests import table_filler


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
                table_filler.fill(connection, rows=3)
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
