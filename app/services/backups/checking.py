"""`flask backup verify`: check an archive without restoring it.

Checked: the manifest is there and well-formed; every file and the database copy are in the
archive with the size and SHA-256 the manifest gives; the database copy opens and each table's
row count and checksum equal the manifest's. SQLite: the copy is extracted to a temporary folder
and opened read-only. PostgreSQL: `pg_restore --list` reads the dump; when the app runs on
PostgreSQL the dump is also restored into a temporary database (dropped after) and summarised.
"""

from __future__ import annotations

import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from app.services.backups import archive, snapshot
from app.services.backups.snapshot import POSTGRESQL, SQLITE, BackupError
from app.services.database import inventory


@dataclass(frozen=True)
class Verified:
    manifest: dict
    tables: dict[str, inventory.TableSummary] | None  # None: the dump was only listed
    notes: list[str] = field(default_factory=list)


def verify(path: Path, engine: sa.Engine | None = None) -> Verified:
    """The archive's manifest and what was checked; BackupError naming every problem found."""
    zipped, manifest = archive.open_archive(path)
    with zipped, tempfile.TemporaryDirectory(prefix="rungs-verify-") as work:
        problems = check_members(zipped, manifest)
        if problems:
            raise BackupError(f"{path} failed its check: " + "; ".join(problems[:10]))
        dump = Path(work) / "database"
        archive.extract(zipped, manifest["database_file"]["path"], dump)
        tables, notes = summarise_dump(manifest["database"], dump, engine)
    if tables is not None:
        problems = compare(manifest["tables"], tables)
        if problems:
            raise BackupError(
                f"{path}: the database copy differs from the manifest: " + "; ".join(problems[:10])
            )
    return Verified(manifest, tables, notes)


def check_members(zipped: zipfile.ZipFile, manifest: dict) -> list[str]:
    database = manifest["database_file"]
    expected = [(database["path"], database)] + [
        (archive.FILES + entry["path"], entry) for entry in manifest["files"]
    ]
    problems = [
        problem
        for member, entry in expected
        if (problem := archive.check_member(zipped, member, entry["size"], entry["sha256"]))
    ]
    known = {member for member, _entry in expected} | {archive.MANIFEST}
    problems += [
        f"{name} is not in the manifest" for name in zipped.namelist() if name not in known
    ]
    return problems


def summarise_dump(kind: str, dump: Path, engine: sa.Engine | None):
    """(summaries or None, notes) of an extracted database copy."""
    if kind == SQLITE:
        try:
            with snapshot.opened_sqlite(dump) as connection:
                return inventory.summarise(connection), []
        except sa.exc.DBAPIError as error:
            raise BackupError(f"The database copy does not open: {error.orig}") from None
    snapshot.run([snapshot.tool("pg_restore"), "--list", str(dump)], {}, "pg_restore --list")
    if engine is None or engine.dialect.name != POSTGRESQL:
        return None, [
            "pg_restore --list read the dump; counts were not compared (no PostgreSQL server)."
        ]
    try:
        with scratch_database(engine) as url:
            return _restored_summary(url, dump), []
    except NoScratchDatabase as error:
        return None, [f"pg_restore --list read the dump; counts were not compared: {error.message}"]


def _restored_summary(url: sa.URL, dump: Path) -> dict[str, inventory.TableSummary]:
    restore_dump(url, dump)
    restored = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with restored.connect() as connection:
            return inventory.summarise(connection)
    finally:
        restored.dispose()


def compare(expected: dict, found: dict[str, inventory.TableSummary]) -> list[str]:
    """What differs between a manifest's tables and a database's summaries."""
    problems = []
    for name in sorted(set(expected) | set(found)):
        want, got = expected.get(name), found.get(name)
        if want is None or got is None:
            problems.append(
                f"table {name} is only in the {'database' if want is None else 'manifest'}"
            )
        elif want["rows"] != got.rows:
            problems.append(f"{name}: {got.rows} rows, the manifest says {want['rows']}")
        elif want["sha256"] != got.sha256:
            problems.append(f"{name}: same {got.rows} rows but a different checksum")
    return problems


class NoScratchDatabase(BackupError):
    """The server would not make a database to check a dump in (no CREATEDB right)."""


class scratch_database:
    """A new database on the engine's server for the length of a `with`, dropped after."""

    def __init__(self, engine: sa.Engine):
        self.admin = sa.create_engine(
            engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        self.url = engine.url.set(database=f"rungs_verify_{secrets.token_hex(6)}")

    def __enter__(self) -> sa.URL:
        try:
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{self.url.database}"')
        except sa.exc.DBAPIError as error:
            self.admin.dispose()
            raise NoScratchDatabase(
                f"Could not make a scratch database to check the dump in: {error.orig}"
            ) from None
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(
                f'DROP DATABASE IF EXISTS "{self.url.database}" WITH (FORCE)'
            )
        self.admin.dispose()


def restore_dump(url: sa.URL, dump: Path) -> None:
    """pg_restore a custom-format dump into the (empty) database at `url`, all or nothing."""
    conninfo, env = snapshot.libpq(url)
    snapshot.run(
        [snapshot.tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={conninfo}", str(dump)],
        env,
        "pg_restore",
    )  # fmt: skip
