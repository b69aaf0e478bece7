"""Counting SQL statements, for the tests that pages use a fixed number of queries."""

from sqlalchemy import event

from app.extensions import db


def count_queries(app, client, path: str) -> int:
    """The statements one GET of `path` sends to the database to answer it (the page must answer
    200). Remembering that the person has now seen the page's help is left out: on a first view
    only, once the page is rendered, the layout records it in a transaction of its own (a BEGIN
    on SQLite, and one INSERT into help_seen; app/layout.py), whatever the page's data."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements) - len(help_recording(statements))


def help_recording(statements: list[str]) -> list[str]:
    """The statements that recorded seen help: the INSERT and the BEGIN just before it."""
    found = []
    for i, statement in enumerate(statements):
        if statement.lstrip().upper().startswith("INSERT INTO HELP_SEEN"):
            found.append(statement)
            if i and statements[i - 1].strip().upper().startswith("BEGIN"):
                found.append(statements[i - 1])
    return found
