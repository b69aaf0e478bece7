"""`flask backup restore`: an archive back into an empty database and data folder.

Everything is checked before anything is touched: the manifest, every member's hash, the
database kind, the schema revision against the code's. A non-empty target is refused unless
`replace`, which first writes a backup of the current state (`backups/before-restore-….zip`,
restorable with the same command) and only then clears it. After the copy, the restored tables
are summarised and compared with the manifest; migrations run last, when the archive is older.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.services.backups import archive, checking, creating, snapshot
from app.services.backups.snapshot import SQLITE, BackupError
from app.services.database import inventory

DATA_FOLDERS = archive.DATA_FOLDERS


@dataclass(frozen=True)
class Restored:
    manifest: dict
    tables: dict[str, inventory.TableSummary]  # as restored, before any migration
    files: int
    kept_aside: Path | None
    upgraded_from: str | None  # the archive's revision, when migrations ran


def restore(
    engine: sa.Engine, data_dir: Path, path: Path, script: ScriptDirectory, *, replace: bool
) -> Restored:
    """Restore the archive at `path`; BackupError before anything changes when it cannot."""
    zipped, manifest = archive.open_archive(path)
    with zipped:
        _check_kind(engine, manifest)
        is_older = _check_revision(script, manifest.get("schema_revision"))
        problems = checking.check_members(zipped, manifest)
        if problems:
            raise BackupError(
                f"{path} failed its check, nothing was restored: " + "; ".join(problems[:10])
            )
        kept_aside = _make_room(engine, data_dir, replace)
        _restore_database(engine, zipped, manifest, data_dir)
        for entry in manifest["files"]:
            archive.extract(zipped, archive.FILES + entry["path"], data_dir / entry["path"])
    with engine.connect() as connection:
        tables = inventory.summarise(connection)
    problems = checking.compare(manifest["tables"], tables)
    if problems:
        raise BackupError(
            "The restored database differs from the manifest: " + "; ".join(problems[:10])
        )
    revision = manifest.get("schema_revision")
    return Restored(
        manifest, tables, len(manifest["files"]), kept_aside, revision if is_older else None
    )


def _check_kind(engine: sa.Engine, manifest: dict) -> None:
    here = snapshot.kind_of(engine)
    if manifest["database"] != here:
        raise BackupError(
            f"The archive holds a {manifest['database']} database and this Rungs runs on {here}. "
            f"Restore it into a Rungs on {manifest['database']}, then move it with "
            f"`flask db move-to DATABASE_URL`."
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


def is_empty(engine: sa.Engine, data_dir: Path) -> list[str]:
    """What the target holds already (empty list: nothing)."""
    held = []
    if snapshot.kind_of(engine) != SQLITE or Path(engine.url.database).exists():
        with engine.connect() as connection:
            rows = sum(inventory.row_counts(connection).values())
        if rows:
            held.append(f"the database has {rows:,} rows")
    files = sum(1 for folder in DATA_FOLDERS for p in (data_dir / folder).rglob("*") if p.is_file())
    if files:
        held.append(f"the data folder {data_dir} has {files:,} files")
    return held


def _make_room(engine: sa.Engine, data_dir: Path, replace: bool) -> Path | None:
    held = is_empty(engine, data_dir)
    if held and not replace:
        raise BackupError(
            f"Refusing to restore over existing data ({', '.join(held)}). Use --replace to keep "
            "a backup of it aside first and then replace it."
        )
    kept = None
    if held:
        now = datetime.now(UTC)
        kept = data_dir / creating.BACKUPS / f"before-restore-{now:%Y%m%d-%H%M%S}Z.zip"
        creating.create(engine, data_dir, kept)
    for folder in DATA_FOLDERS:
        shutil.rmtree(data_dir / folder, ignore_errors=True)
    return kept


def _restore_database(
    engine: sa.Engine, zipped: zipfile.ZipFile, manifest: dict, data_dir: Path
) -> None:
    member = manifest["database_file"]["path"]
    engine.dispose()  # no pooled connection may hold the old file or tables
    if snapshot.kind_of(engine) == SQLITE:
        target = Path(engine.url.database)
        archive.extract(zipped, member, target.with_name(target.name + ".restoring"))
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(target.with_name(target.name + ".restoring"), target)
        return
    _drop_tables(engine)
    with tempfile.TemporaryDirectory(prefix="rungs-restore-") as work:
        dump = Path(work) / "rungs.pgdump"
        archive.extract(zipped, member, dump)
        checking.restore_dump(engine.url, dump)


def _drop_tables(engine: sa.Engine) -> None:
    """Empty tables left by an earlier `flask db upgrade` would clash with the dump's own."""
    with engine.begin() as connection:
        names = sa.inspect(connection).get_table_names()
        if names:  # one statement: the foreign keys have cycles (users and levels)
            quoted = ", ".join(connection.dialect.identifier_preparer.quote(n) for n in names)
            connection.exec_driver_sql(f"DROP TABLE {quoted} CASCADE")
