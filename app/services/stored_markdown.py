"""Storing again the HTML of markdown fields made by another renderer (models/stored_markdown.py).

After an upgrade that changes the renderer (its rules, markdown-it-py or nh3), pages render such
rows when they show them; this stores the new HTML once, so that they are read again.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.infra import markdown
from app.models import STORED_MARKDOWN

BATCH = 500


def refresh() -> int:
    """Render and store the HTML of every row whose stored HTML another renderer made; the
    number of rows. The rows' own revision is left alone: the text did not change."""
    return sum(_refresh(model) for model in STORED_MARKDOWN)


def _refresh(model) -> int:
    table = model.__table__
    fields = model.markdown_fields
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            markdown_version=markdown.VERSION,
            **{f"{field}_html": bindparam(f"new_{field}") for field in fields},
        )
    )
    done, after = 0, 0
    while True:
        rows = db.session.execute(
            select(table.c.id, *[table.c[field] for field in fields])
            .where(table.c.id > after, table.c.markdown_version != markdown.VERSION)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return done
        values = [
            {"row_id": row.id}
            | {f"new_{field}": str(markdown.render(row._mapping[field])) for field in fields}
            for row in rows
        ]
        db.session.execute(statement, values, execution_options={"synchronize_session": False})
        db.session.flush()
        done, after = done + len(rows), rows[-1].id
