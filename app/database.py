"""Engine set-up per dialect: SQLite needs settings to be safe with several workers."""

from pathlib import Path

from sqlalchemy import Engine, event


def configure_engine(engine: Engine, *, foreign_keys: bool = True) -> None:
    """Make SQLite transactional and safe under concurrency (FACTS.md); leave others alone.

    pysqlite's legacy transaction handling loses concurrent updates, and a deferred BEGIN fails with
    "database is locked" when two writers meet. So: no implicit transactions from the driver, an
    explicit BEGIN IMMEDIATE for every transaction, WAL, and a busy timeout.
    Migrations pass foreign_keys=False: batch-mode table rebuilds would cascade-delete child rows.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "do_connect")
    def _make_data_dir(_dialect, _record, cargs, _cparams):
        # The data directory is created on first use, not when the app is built.
        if cargs and cargs[0] not in ("", ":memory:") and not cargs[0].startswith("file:"):
            Path(cargs[0]).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
