"""Counting SQL statements, for the tests that pages use a fixed number of queries."""

from sqlalchemy import event

from app.extensions import db


def count_queries(app, client, path: str) -> int:
    """The statements one GET of `path` sends to the database (the page must answer 200)."""
    statements = []

    def record(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)
