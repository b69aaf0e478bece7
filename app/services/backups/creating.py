"""`flask backup create`: snapshot the database, copy the files its rows refer to, write the
archive and record it as the last backup.

A file that a snapshot row refers to but that is gone by the time it is copied is recorded in
the manifest's `missing_files`, not fatal: when the live database no longer refers to it either
(the evidence was purged from the trash after the snapshot), that is the expected race and the
backup is still the snapshot's faithful copy; when the live database still refers to it, the
data folder itself is damaged, and `create` still writes the archive (the best copy there is)
but says so and exits non-zero.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from app.services.backups import archive, snapshot
from app.services.backups.snapshot import BackupError

PDF_CACHE = "pdf-cache"
BACKUPS = "backups"


@dataclass(frozen=True)
class Created:
    path: Path
    manifest: dict
    size: int
    seconds: float
    damaged: list[str] = field(default_factory=list)  # missing files the live rows still name

    @property
    def rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"].values())

    @property
    def file_bytes(self) -> int:
        entries = self.manifest["files"] + self.manifest["database_files"]
        return sum(f["size"] for f in entries)


def default_path(data_dir: Path, now: datetime) -> Path:
    """A new name under data_dir/backups: the UTC time, and a short random part so that two
    backups started in the same second never pick the same name."""
    return data_dir / BACKUPS / f"rungs-backup-{now:%Y%m%d-%H%M%S}Z-{secrets.token_hex(3)}.zip"


def create(engine: sa.Engine, data_dir: Path, output: Path | None = None) -> Created:
    """Write a backup archive (to `output`, or under data_dir/backups) and describe it; a
    BackupError, with nothing left behind, when it cannot be written."""
    started, now = time.monotonic(), datetime.now(UTC)
    target = (output or default_path(data_dir, now)).absolute()
    if target.exists() or target.is_symlink():
        raise BackupError(
            f"{target} already exists: a backup never writes over a file. Choose another name, "
            "or move that file away first."
        )
    try:
        with tempfile.TemporaryDirectory(prefix="rungs-backup-") as work:
            taken = snapshot.take(engine, Path(work))
            manifest, size = _write(target, data_dir, taken, now)
    except OSError as error:
        raise _not_written(error, target, data_dir) from None
    damaged = still_referenced(engine, [m["path"] for m in manifest["missing_files"]])
    return Created(target, manifest, size, time.monotonic() - started, damaged)


def _write(target: Path, data_dir: Path, taken: snapshot.Snapshot, now: datetime):
    writer = archive.Writer(target)
    try:
        database = writer.add(snapshot.DATABASE_MEMBER[taken.kind], taken.path, deflate=True)
        on_disk = [p for p in taken.files + _pdf_cache(data_dir) if p not in taken.stored]
        stored, missing = _copy_files(writer, data_dir, on_disk)
        manifest = _manifest(taken, now, database, stored, missing)
        return manifest, writer.finish(manifest)
    except BaseException:
        _abandon(writer)
        raise


def _abandon(writer: archive.Writer) -> None:
    """Remove the half-written archive, even when closing it fails too (a full disk)."""
    try:
        writer.abandon()
    except OSError:
        writer.temporary.unlink(missing_ok=True)


def _not_written(error: OSError, target: Path, data_dir: Path) -> BackupError:
    """What went wrong, on which path, and what to check: reading the data folder or writing
    the archive (or the temporary copy of the database)."""
    reason = error.strerror or str(error)
    where = Path(error.filename) if error.filename else None
    if where is not None and _is_data_file(where, data_dir):
        return BackupError(
            f"No backup was written: {where} could not be read ({reason}). Check that the "
            "user running `flask backup create` can read the whole data folder."
        )
    at = f" at {where}" if where is not None and where != target else ""
    return BackupError(
        f"No backup was written to {target}: {reason}{at}. Check that its folder exists or can "
        "be made, that the user running `flask backup create` may write there, and that the "
        "disk has room (and the temporary folder, TMPDIR, for the copy of the database)."
    )


def _is_data_file(path: Path, data_dir: Path) -> bool:
    path, data_dir = path.absolute(), data_dir.absolute()
    return path.is_relative_to(data_dir) and archive.in_data_folders(
        path.relative_to(data_dir).as_posix()
    )


def _pdf_cache(data_dir: Path) -> list[str]:
    folder = data_dir / PDF_CACHE
    if not folder.is_dir():
        return []
    return sorted(f"{PDF_CACHE}/{p.name}" for p in folder.glob("*.pdf") if p.is_file())


def _copy_files(writer, data_dir: Path, paths: list[str]):
    stored, missing = [], []
    for relative in sorted(set(paths)):
        if not archive.in_data_folders(relative):
            missing.append({"path": relative, "reason": "outside the data folders: not copied"})
            continue
        try:
            entry = writer.add(archive.FILES + relative, data_dir / relative)
        except FileNotFoundError:
            if not relative.startswith(PDF_CACHE):  # a cache file may go: it is made again
                missing.append({"path": relative, "reason": "not in the data folder"})
            continue
        stored.append({"path": relative, "size": entry.size, "sha256": entry.sha256})
    return stored, missing


def _manifest(taken, now, database, stored, missing) -> dict:
    return {
        "format": archive.FORMAT,
        "format_version": archive.FORMAT_VERSION,
        "created_at": now.isoformat(timespec="seconds"),
        "database": taken.kind,
        "schema_revision": taken.revision,
        "database_file": {"path": database.path, "size": database.size, "sha256": database.sha256},
        "tables": {
            name: {"rows": summary.rows, "sha256": summary.sha256}
            for name, summary in taken.tables.items()
        },
        "files": stored,
        "missing_files": missing,
        # Files held by the database itself: in the database copy, not under files/.
        "database_files": [
            {"path": key, "size": size, "sha256": sha256}
            for key, (size, sha256) in sorted(taken.stored.items())
        ],
    }


def still_referenced(engine: sa.Engine, paths: list[str]) -> list[str]:
    """Of files missing from a backup, those the live database still refers to."""
    if not paths:
        return []
    with engine.connect() as connection:
        live = set(snapshot.referenced_files(connection))
    return [path for path in paths if path in live]
