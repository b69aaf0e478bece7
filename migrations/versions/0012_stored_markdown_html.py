"""stored markdown HTML: evidence and comment bodies, case statements and rationales, rating rationales

Busy pages rendered the same markdown on every view. Each markdown field gets a `<field>_html`
column with the sanitised HTML, and each table a `markdown_version` naming the renderer that made
it (app/models/stored_markdown.py). Existing rows are rendered here with a frozen copy of the
renderer as it was at this revision (app/infra/markdown.py, rules 1): if the app's renderer has
changed since, its VERSION differs and the app renders those rows afresh when showing them, until
`flask markdown refresh` stores them again.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 04:00:00.000000

"""

from importlib.metadata import version

import markdown_it
import nh3
import sqlalchemy as sa
from alembic import op
from markdown_it import MarkdownIt

from app.infra import migration_guard


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FIELDS = {
    "evidence": ["body"],
    "comments": ["body"],
    "promotion_cases": ["statement", "self_statement", "outcome_rationale", "decision_rationale"],
    "case_ratings": ["rationale", "reason"],
}
BATCH = 500

# The renderer of app/infra/markdown.py at this revision (rules 1), frozen.
_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.disable("image")
_TAGS = {
    "a",
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "del",
    "s",
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_URL_SCHEMES = {"http", "https", "mailto"}
_VERSION = f"1:markdown-it-py {markdown_it.__version__}:nh3 {version('nh3')}"


def _render(text):
    return nh3.clean(
        _parser.render(text or ""),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def upgrade():
    for name, fields in FIELDS.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            for field in fields:
                batch_op.add_column(sa.Column(f"{field}_html", sa.Text(), nullable=True))
            batch_op.add_column(
                sa.Column(
                    "markdown_version", sa.String(length=80), server_default="", nullable=False
                )
            )
    for name, fields in FIELDS.items():
        _fill(name, fields)


def _fill(name, fields):
    """Every row's HTML, in batches by id (a large evidence table is not read at once)."""
    table = sa.table(
        name,
        sa.column("id", sa.Integer),
        sa.column("markdown_version", sa.String),
        *[sa.column(field, sa.Text) for field in fields],
        *[sa.column(f"{field}_html", sa.Text) for field in fields],
    )
    connection = op.get_bind()
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(
            markdown_version=sa.bindparam("version"),
            **{f"{field}_html": sa.bindparam(f"new_{field}") for field in fields},
        )
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, *[table.c[field] for field in fields])
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {
                    "row_id": row.id,
                    "version": _VERSION,
                    **{f"new_{field}": _render(row._mapping[field]) for field in fields},
                }
                for row in rows
            ],
        )
        after = rows[-1].id


def downgrade():
    # The HTML is made from the text, which stays; the guard still names every column dropped.
    migration_guard.refuse_data_loss(
        columns={
            name: [f"{field}_html" for field in fields] + [("markdown_version", "")]
            for name, fields in FIELDS.items()
        },
    )
    for name, fields in FIELDS.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("markdown_version")
            for field in reversed(fields):
                batch_op.drop_column(f"{field}_html")
