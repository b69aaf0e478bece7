"""The database part of a backup: one transaction's view, copied, summarised and read for files
(the files its rows refer to, and the files it holds itself with RUNGS_FILE_STORAGE=database).

SQLite: the online backup API copies the live (WAL) database in one step into a new file, which
is then opened on its own: its summary and the files it refers to are the copy's, not the live
database's. PostgreSQL: a REPEATABLE READ transaction exports its snapshot, `pg_dump --snapshot`
dumps exactly that view while the same transaction summarises it and lists its files.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.core.errors import DomainError
from app.services import storage
from app.services.database import inventory

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DATABASE_MEMBER = {SQLITE: "database/rungs.sqlite3", POSTGRESQL: "database/rungs.pgdump"}
# How long a client program (pg_dump, pg_restore) may run before it is stopped: generous (a
# large organisation dumps in minutes), but a dump stuck on a lock or a dead server must not
# hold its snapshot open, and keep the nightly job running, for ever. Change it here.
CLIENT_TIMEOUT_SECONDS = 3 * 60 * 60
# How long pg_dump waits for a table lock (ACCESS SHARE) that, say, a running migration holds,
# and libpq for the server to answer at all, before giving up with a message.
LOCK_WAIT_TIMEOUT = "60s"
CONNECT_TIMEOUT_SECONDS = 30


class BackupError(DomainError):
    """A backup, check or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    kind: str
    path: Path  # the database file that goes into the archive
    revision: str | None
    tables: dict[str, inventory.TableSummary]
    files: list[str]  # paths relative to the data folder that the snapshot's rows refer to
    # The files the database itself holds (RUNGS_FILE_STORAGE=database): {key: (size, sha256)}.
    # They travel in the database copy; the rest of `files` are copied from the data folder.
    stored: dict[str, tuple[int, str]]


def kind_of(engine: sa.Engine) -> str:
    name = engine.dialect.name
    if name not in DATABASE_MEMBER:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def take(engine: sa.Engine, workdir: Path) -> Snapshot:
    """A consistent copy of the database in `workdir`, with its summary and its files."""
    kind = kind_of(engine)
    target = workdir / Path(DATABASE_MEMBER[kind]).name
    if kind == SQLITE:
        return _take_sqlite(engine, target)
    return _take_postgresql(engine, target)


def _take_sqlite(engine: sa.Engine, target: Path) -> Snapshot:
    try:
        _copy_sqlite(engine.url.database, target)
    except sqlite3.Error as error:
        raise BackupError(
            f"The SQLite database {engine.url.database} could not be copied to {target}: "
            f"{error}. Nothing was written. Check the free space there (the temporary folder: "
            "TMPDIR) and that the database can be read."
        ) from None
    with opened_sqlite(target) as connection:
        return Snapshot(SQLITE, target, *_describe(connection))


def _copy_sqlite(database: str, target: Path) -> None:
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)  # one step (pages=-1): one read transaction's view
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, read-only
        finally:
            copy.close()
    finally:
        source.close()


def _take_postgresql(engine: sa.Engine, target: Path) -> Snapshot:
    pg_dump = tool("pg_dump")
    with engine.connect() as live:
        connection = live.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot_id = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            url, env = libpq(engine.url)
            run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--no-owner",
                 "--no-password", f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
                 f"--file={target}", f"--dbname={url}"],
                env,
                "pg_dump",
            )  # fmt: skip
            return Snapshot(POSTGRESQL, target, *_describe(connection))


def _describe(connection: sa.Connection):
    revision = inventory.schema_revision(connection)
    files = referenced_files(connection)
    return revision, inventory.summarise(connection), files, storage.stored_in(connection)


def referenced_files(connection: sa.Connection) -> list[str]:
    """Every file the rows refer to (attachments, stored packets, job results), relative to the
    data folder, sorted."""
    tables = set(sa.inspect(connection).get_table_names())
    paths: set[str] = set()
    if "attachments" in tables:
        for (name,) in connection.exec_driver_sql("SELECT stored_name FROM attachments"):
            paths.add(f"attachments/{name[:2]}/{name}")
    if "packets" in tables:
        paths.update(p for (p,) in connection.exec_driver_sql("SELECT file_path FROM packets"))
    if "jobs" in tables:
        query = "SELECT result_path FROM jobs WHERE result_path IS NOT NULL"
        paths.update(p for (p,) in connection.exec_driver_sql(query))
    return sorted(paths)


@contextmanager
def opened_sqlite(path: Path) -> Iterator[sa.Connection]:
    """A read-only SQLAlchemy connection to a SQLite file (a snapshot or an extracted copy)."""
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a BackupError saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client programs of the "
            f"server's version or newer (Debian: apt-get install postgresql-client) and try again."
        )
    return found


def libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the client programs, the password in the environment
    (never on a command line others can read with ps)."""
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", str(CONNECT_TIMEOUT_SECONDS))
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def run(command: list[str], env: dict[str, str], name: str) -> str:
    """Run a client program; a BackupError with its own words when it fails, and one saying
    so when it runs past CLIENT_TIMEOUT_SECONDS (it is stopped then)."""
    try:
        done = subprocess.run(  # noqa: S603
            command,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise BackupError(
            f"{name} was still running after {CLIENT_TIMEOUT_SECONDS / 3600:g} hours and was "
            "stopped. Check that the database server is up and not blocked (pg_stat_activity), "
            "then try again; for a database that really needs longer, raise "
            "CLIENT_TIMEOUT_SECONDS in app/services/backups/snapshot.py."
        ) from None
    except OSError as error:
        raise BackupError(f"{name} could not be started: {error}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BackupError(
            f"{name} failed (exit {done.returncode}): " + " / ".join(said) + _hint(said)
        )
    return done.stdout


def _hint(said: list[str]) -> str:
    text = " ".join(said)
    # pg_dump waits for its table locks under a statement timeout of --lock-wait-timeout.
    if "lock timeout" in text or ("statement timeout" in text and "LOCK TABLE" in text):
        return (
            f". Another session held a table lock for more than {LOCK_WAIT_TIMEOUT} (a "
            "migration, or a long ALTER): try again once it is done."
        )
    if "no password supplied" in text or "password authentication failed" in text:
        return (
            ". Give the password in DATABASE_URL, PGPASSWORD or ~/.pgpass (the client programs "
            "never ask for one)."
        )
    return ""
