"""`flask backup restore`: an archive back into an empty database and data folder.

Everything that can be checked is checked before anything is touched: the manifest, every
member's hash, the database kind, the schema revision against the code's, the free space, and
the database copy itself (SQLite: its rows and checksums against the manifest; PostgreSQL:
`pg_restore --list`). A non-empty target is refused unless `replace`, which first keeps the
current state aside in `backups/before-restore-<time>-<random>/`: a backup archive of it
(restorable with the same command) and the data folders themselves, moved there whole, so that
files no row names are kept too. Then the files are extracted and the database is replaced last;
an error from there on says that the target is partial and where the previous data is.

SQLite: the extracted copy is written into the live database file through the backup API, never
by replacing the file: a Rungs still running keeps its connections to the same file and sees the
restored data, instead of writing on into a deleted one. PostgreSQL: the tables are dropped with
a lock timeout (a running Rungs holding them gives a clear error, not a hang), then `pg_restore`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.services.backups import archive, checking, creating, snapshot
from app.services.backups.snapshot import SQLITE, BackupError
from app.services.database import inventory

KEPT_ARCHIVE = "rungs-backup.zip"  # the archive inside a before-restore folder
LOCK_TIMEOUT: float = 30  # seconds the database swap waits for a running Rungs to let go of it
SPARE_BYTES = 64 * 1024 * 1024  # left free on the disk after a restore, at least
# What can go wrong once the target is being changed (each then says where the old data is).
_FAILURES = (BackupError, OSError, zipfile.BadZipFile, sa.exc.SQLAlchemyError, sqlite3.Error)


@dataclass(frozen=True)
class Restored:
    manifest: dict
    tables: dict[str, inventory.TableSummary]  # as restored, before any migration
    files: int
    kept_aside: Path | None  # the before-restore folder, when there was data to keep
    upgraded_from: str | None  # the archive's revision, when migrations ran

    @property
    def kept_archive(self) -> Path | None:
        return self.kept_aside / KEPT_ARCHIVE if self.kept_aside else None


def restore(
    engine: sa.Engine, data_dir: Path, path: Path, script: ScriptDirectory, *, replace: bool
) -> Restored:
    """Restore the archive at `path`; BackupError before anything changes when it cannot, and
    a BackupError saying where the previous data is when it fails partway."""
    zipped, manifest = archive.open_archive(path)
    with zipped, _work_folder(data_dir) as work:
        is_older = _check(engine, zipped, manifest, path, script)
        dump = _preflight(zipped, manifest, data_dir, work)
        kept = _keep_aside_or_explain(engine, data_dir, replace)
        try:
            tables = _put_in_place(engine, zipped, manifest, data_dir, dump, kept)
        except _FAILURES as error:
            raise _partial(error, data_dir, kept) from None
    revision = manifest.get("schema_revision")
    files = len(manifest["files"]) + len(manifest.get("database_files", []))
    return Restored(manifest, tables, files, kept, revision if is_older else None)


@contextmanager
def _work_folder(data_dir: Path) -> Iterator[Path]:
    """A temporary folder on the data folder's disk (not /tmp, which may be small)."""
    root = data_dir / creating.BACKUPS
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restoring-", dir=root) as name:
        yield Path(name)


def _check(engine, zipped, manifest, path: Path, script: ScriptDirectory) -> bool:
    """Kind, revision and members; True when the archive is older than the code."""
    _check_kind(engine, manifest)
    is_older = _check_revision(script, manifest.get("schema_revision"))
    problems = checking.check_members(zipped, manifest)
    if problems:
        raise BackupError(
            f"{path} failed its check, nothing was restored: " + "; ".join(problems[:10])
        )
    return is_older


def _check_kind(engine: sa.Engine, manifest: dict) -> None:
    here, there = snapshot.kind_of(engine), manifest["database"]
    if there == here:
        return
    if there == SQLITE:
        advice = "Restore it into a Rungs on SQLite, then move it with `flask db move-to URL`."
    else:
        advice = (
            "Set DATABASE_URL to an empty PostgreSQL database and restore it there "
            "(Rungs moves from SQLite to PostgreSQL, not back)."
        )
    raise BackupError(
        f"The archive holds a {there} database and this Rungs runs on {here}. {advice}"
    )


def _check_revision(script: ScriptDirectory, revision: str | None) -> bool:
    """True when the archive is older than the code (migrations will run); BackupError when
    it is newer or unknown."""
    head = script.get_current_head()
    if revision == head:
        return False
    known = {r.revision for r in script.walk_revisions()}
    if revision is not None and revision not in known:
        raise BackupError(
            f"The archive's schema revision {revision} is newer than this Rungs knows "
            f"(its newest is {head}): restore it with the Rungs that made it or a newer one."
        )
    return True


def _preflight(zipped: zipfile.ZipFile, manifest: dict, data_dir: Path, work: Path) -> Path:
    """Free space, then the database copy extracted and checked; nothing is changed yet."""
    _check_space(zipped, manifest, data_dir)
    dump = work / "database"
    try:
        archive.extract(zipped, manifest["database_file"]["path"], dump)
    except OSError as error:
        raise BackupError(
            f"Could not extract the database copy ({error}); nothing was changed."
        ) from None
    checking.check_copy(manifest, dump)
    return dump


def _check_space(zipped: zipfile.ZipFile, manifest: dict, data_dir: Path) -> None:
    database = zipped.getinfo(manifest["database_file"]["path"]).file_size
    copies = 2 if manifest["database"] == SQLITE else 1  # SQLite: the extracted and the live one
    needed = database * copies + sum(f["size"] for f in manifest["files"]) + SPARE_BYTES
    free = shutil.disk_usage(data_dir).free
    if free < needed:
        raise BackupError(
            f"Not enough free space in {data_dir}: the restore needs about {needed:,} bytes "
            f"and {free:,} are free; nothing was changed."
        )


def held_data(engine: sa.Engine, data_dir: Path) -> list[str]:
    """What the target holds already (empty list: nothing)."""
    held = []
    if snapshot.kind_of(engine) != SQLITE or Path(engine.url.database).exists():
        with engine.connect() as connection:
            rows = sum(inventory.row_counts(connection).values())
        if rows:
            held.append(f"the database has {rows:,} rows")
    files = sum(
        1 for folder in archive.DATA_FOLDERS for p in (data_dir / folder).rglob("*") if p.is_file()
    )
    if files:
        held.append(f"the data folder {data_dir} has {files:,} files")
    return held


def _keep_aside_or_explain(engine: sa.Engine, data_dir: Path, replace: bool) -> Path | None:
    try:
        return _keep_aside(engine, data_dir, replace)
    except sa.exc.OperationalError as error:  # SQLite: a writer holds the lock past busy_timeout
        raise BackupError(
            f"The database could not be read ({str(error.orig).strip()}); nothing was changed. "
            "If a running Rungs or its workers hold it, stop them first."
        ) from None


def _keep_aside(engine: sa.Engine, data_dir: Path, replace: bool) -> Path | None:
    """The before-restore folder holding a backup of what is here (None: nothing is here)."""
    held = held_data(engine, data_dir)
    if not held:
        return None
    if not replace:
        raise BackupError(
            f"Refusing to restore over existing data ({', '.join(held)}). Use --replace to keep "
            "it aside first (a backup and the data folders, under backups/) and then replace it."
        )
    now = datetime.now(UTC)
    kept = (
        data_dir
        / creating.BACKUPS
        / (f"before-restore-{now:%Y%m%d-%H%M%S}Z-{secrets.token_hex(3)}")
    )
    kept.mkdir(mode=0o700, parents=True)
    try:
        creating.create(engine, data_dir, kept / KEPT_ARCHIVE)
    except BaseException:
        shutil.rmtree(kept, ignore_errors=True)  # nothing was changed: no empty folder left
        raise
    return kept


def _put_in_place(engine, zipped, manifest, data_dir: Path, dump: Path, kept: Path | None):
    """Folders aside, files out, the database last; the restored tables, checked."""
    for folder in archive.DATA_FOLDERS:
        if kept is not None and (data_dir / folder).exists():
            os.rename(data_dir / folder, kept / folder)  # same disk: whole, every file kept
        else:
            shutil.rmtree(data_dir / folder, ignore_errors=True)  # empty (no file was held)
    for entry in manifest["files"]:
        archive.extract(zipped, archive.FILES + entry["path"], data_dir / entry["path"])
    _restore_database(engine, dump)
    with engine.connect() as connection:
        tables, _revision, held = checking.summarise_copy(connection)
    problems = checking.compare(manifest["tables"], tables)
    problems += checking.compare_files(manifest.get("database_files", []), held)
    if problems:
        raise BackupError(
            "the restored database differs from the manifest: " + "; ".join(problems[:10])
        )
    return tables


def _restore_database(engine: sa.Engine, dump: Path) -> None:
    engine.dispose()  # no pooled connection of ours may hold the old tables
    if snapshot.kind_of(engine) == SQLITE:
        _copy_into_sqlite(dump, Path(engine.url.database))
        return
    _drop_tables(engine)
    checking.restore_dump(engine.url, dump)


def _copy_into_sqlite(copy: Path, live: Path) -> None:
    """Write the copy's pages into the live file (its own lock, WAL kept): connections open
    on it see the restored data; nothing is unlinked, so nothing writes into a deleted file."""
    live.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_TIMEOUT

    def give_up_when_locked(status: int, _remaining: int, _total: int) -> None:
        # Python retries a busy backup step for ever: a writer that never lets go would hang it.
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise _held_by_another()

    with (
        closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(live, timeout=1)) as target,
    ):
        source.backup(target, progress=give_up_when_locked)


def _drop_tables(engine: sa.Engine) -> None:
    """Empty the target for pg_restore; a running Rungs holding a table stops it in time."""
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}s'")
            inventory.drop_all_tables(connection)
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise _held_by_another(str(error.orig).strip()) from None


def _held_by_another(reason: object = "database is locked") -> BackupError:
    return BackupError(
        f"could not replace the database within {LOCK_TIMEOUT} s ({reason}): another "
        "connection holds it (a running Rungs or its workers?). Stop them first"
    )


def _partial(error: Exception, data_dir: Path, kept: Path | None) -> BackupError:
    reason = error.message if isinstance(error, BackupError) else f"{type(error).__name__}: {error}"
    if kept is None:
        previous = "There was nothing here before; fix the cause and restore again with --replace."
    else:
        previous = (
            f"Your previous data is in {kept}: `flask backup restore {kept / KEPT_ARCHIVE} "
            f"--replace` puts it back, and its folders ({', '.join(archive.DATA_FOLDERS)}) hold "
            f"every file that was in {data_dir}, to move back by hand if you need more."
        )
    return BackupError(
        f"The restore stopped partway: {reason}. The database and the data folder are now "
        f"partial or empty. {previous}"
    )
