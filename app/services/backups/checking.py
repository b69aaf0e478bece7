"""`flask backup verify`: check an archive without restoring it.

Checked: the manifest is there and well-formed; every file and the database copy are in the
archive with the size and SHA-256 the manifest gives; the database copy opens and each table's
row count and checksum equal the manifest's, and its schema revision the manifest's; files the
backup could not copy are noted, or fail the check when this Rungs' database still names them
(lost from the data folder, not purged after the snapshot); files the database holds itself
(RUNGS_FILE_STORAGE=database) are read back from the copy's chunks against the manifest's sizes
and SHA-256. SQLite: the copy is extracted to a
temporary folder and opened read-only. PostgreSQL: `pg_restore --list` reads the dump; when the
app runs on PostgreSQL the dump is also restored into a temporary database (`rungs_verify_…`,
dropped after) and summarised.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from app.services import storage
from app.services.backups import archive, creating, snapshot
from app.services.backups.snapshot import POSTGRESQL, SQLITE, BackupError
from app.services.database import inventory

SCRATCH_PREFIX = "rungs_verify_"  # verify's scratch databases on PostgreSQL (README: Backups)


@dataclass(frozen=True)
class Verified:
    manifest: dict
    tables: dict[str, inventory.TableSummary] | None  # None: the dump was only listed
    notes: list[str] = field(default_factory=list)


def verify(path: Path, engine: sa.Engine | None = None) -> Verified:
    """The archive's manifest and what was checked; BackupError naming every problem found.
    `engine` is this Rungs' database: a PostgreSQL dump is restored beside it to be counted,
    and files missing from the archive that it still names are reported as lost."""
    zipped, manifest = archive.open_archive(path)
    with zipped, tempfile.TemporaryDirectory(prefix="rungs-verify-") as work:
        problems = check_members(zipped, manifest)
        if problems:
            raise BackupError(f"{path} failed its check: " + "; ".join(problems[:10]))
        dump = Path(work) / "database"
        archive.extract(zipped, manifest["database_file"]["path"], dump)
        tables, revision, notes, held = summarise_dump(manifest["database"], dump, engine)
    if tables is not None:
        problems = compare(manifest["tables"], tables)
        problems += _revision_problem(manifest, revision)
        problems += compare_files(manifest.get("database_files", []), held)
        if problems:
            raise BackupError(
                f"{path}: the database copy differs from the manifest: " + "; ".join(problems[:10])
            )
    return Verified(manifest, tables, notes + _missing_files(path, manifest, engine))


def check_copy(manifest: dict, dump: Path) -> None:
    """Before a restore: a SQLite copy equals its manifest (rows, checksums, revision); a
    PostgreSQL dump is readable by `pg_restore --list`. BackupError otherwise."""
    if manifest["database"] != SQLITE:
        list_dump(dump)
        return
    tables, revision, _notes, held = summarise_dump(SQLITE, dump, None)
    problems = compare(manifest["tables"], tables) + _revision_problem(manifest, revision)
    problems += compare_files(manifest.get("database_files", []), held)
    if problems:
        raise BackupError(
            "The archive's database copy differs from its manifest, nothing was restored: "
            + "; ".join(problems[:10])
        )


def _revision_problem(manifest: dict, revision: str | None) -> list[str]:
    if revision == manifest.get("schema_revision"):
        return []
    return [
        f"the copy is at schema revision {revision}, "
        f"the manifest says {manifest.get('schema_revision')}"
    ]


def _missing_files(path: Path, manifest: dict, engine: sa.Engine | None) -> list[str]:
    """Notes for files the backup could not copy; BackupError for those this Rungs' database
    still names (they were lost from the data folder, not purged after the snapshot)."""
    missing = [entry["path"] for entry in manifest.get("missing_files", [])]
    lost = set(_still_named(engine, missing))
    if lost:
        first = sorted(lost)[:5]
        raise BackupError(
            f"{path}: everything in it checks out, but {_files(len(lost))} that this Rungs' "
            f"database still names were not in the data folder when the backup was taken, so "
            f"the archive does not hold them: {', '.join(first)}"
            f"{' …' if len(lost) > 5 else ''}. Find them (an older backup?) and take a new one."
        )
    return [
        f"not in the archive: {name} (removed after the snapshot; no row names it now)"
        for name in missing
    ]


def _still_named(engine: sa.Engine | None, paths: list[str]) -> list[str]:
    if not paths or engine is None:
        return []
    if engine.dialect.name == SQLITE and not Path(engine.url.database or "").exists():
        return []  # no database here yet: nothing names them (and none is created)
    return creating.still_referenced(engine, paths)


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


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
    """(summaries or None, schema revision, notes, held files or None) of an extracted database
    copy; the held files are those it holds itself, {key: (size, sha256)} read from their
    chunks."""
    if kind == SQLITE:
        try:
            with snapshot.opened_sqlite(dump) as connection:
                tables, revision, held = summarise_copy(connection)
                return tables, revision, [], held
        except sa.exc.DBAPIError as error:
            raise BackupError(f"The database copy does not open: {error.orig}") from None
    list_dump(dump)
    if engine is None or engine.dialect.name != POSTGRESQL:
        return (
            None,
            None,
            [
                "pg_restore --list read the dump; counts and revision were not compared "
                "(no PostgreSQL server)."
            ],
            None,
        )
    try:
        with scratch_database(engine) as url:
            restore_dump(url, dump)
            copy = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                with copy.connect() as connection:
                    tables, revision, held = summarise_copy(connection)
                return tables, revision, [], held
            finally:
                copy.dispose()
    except NoScratchDatabase as error:
        return (
            None,
            None,
            [f"pg_restore --list read the dump; counts were not compared: {error.message}"],
            None,
        )


def summarise_copy(connection: sa.Connection):
    """(summaries, schema revision, held files) of a database copy (see summarise_dump)."""
    held = {key: storage.digest_in(connection, key) for key in storage.stored_in(connection)}
    return inventory.summarise(connection), inventory.schema_revision(connection), held


def compare_files(expected: list[dict], held: dict[str, tuple[int, str]] | None) -> list[str]:
    """What differs between a manifest's database_files and the files a copy holds, each read
    back from its chunks (nothing to compare when the copy was not read)."""
    if held is None:
        return []
    wanted = {entry["path"]: (entry["size"], entry["sha256"]) for entry in expected}
    problems = []
    for key in sorted(set(wanted) | set(held)):
        if key not in held:
            problems.append(f"the file {key} is not in the database copy")
        elif key not in wanted:
            problems.append(f"the database copy holds {key}, which the manifest does not list")
        elif held[key] != wanted[key]:
            problems.append(f"the file {key} in the database copy does not match the manifest")
    return problems


def list_dump(dump: Path) -> None:
    """`pg_restore --list` reads the whole table of contents: a BackupError if it cannot."""
    snapshot.run(
        [snapshot.tool("pg_restore"), "--list", str(dump)], dict(os.environ), "pg_restore --list"
    )


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


@contextmanager
def scratch_database(engine: sa.Engine) -> Iterator[sa.URL]:
    """A new database on the engine's server (named SCRATCH_PREFIX + random) for the length of
    a `with`, dropped after; one left behind by a killed verify can be dropped by that name."""
    admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    url = engine.url.set(database=f"{SCRATCH_PREFIX}{secrets.token_hex(6)}")
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        except sa.exc.DBAPIError as error:
            raise NoScratchDatabase(
                f"Could not make a scratch database to check the dump in: {error.orig}"
            ) from None
        try:
            yield url
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        admin.dispose()


def restore_dump(url: sa.URL, dump: Path) -> None:
    """pg_restore a custom-format dump into the (empty) database at `url`, all or nothing."""
    conninfo, env = snapshot.libpq(url)
    snapshot.run(
        [snapshot.tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={conninfo}", str(dump)],
        env,
        "pg_restore",
    )  # fmt: skip
