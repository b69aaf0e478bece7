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

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from app.services.backups import archive, snapshot

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
        return sum(f["size"] for f in self.manifest["files"])


def default_path(data_dir: Path, now: datetime) -> Path:
    return data_dir / BACKUPS / f"rungs-backup-{now:%Y%m%d-%H%M%S}Z.zip"


def create(engine: sa.Engine, data_dir: Path, output: Path | None = None) -> Created:
    """Write a backup archive (to `output`, or under data_dir/backups) and describe it."""
    started, now = time.monotonic(), datetime.now(UTC)
    target = output or default_path(data_dir, now)
    with tempfile.TemporaryDirectory(prefix="rungs-backup-") as work:
        taken = snapshot.take(engine, Path(work))
        writer = archive.Writer(target)
        try:
            database = writer.add(snapshot.DATABASE_MEMBER[taken.kind], taken.path, deflate=True)
            stored, missing = _copy_files(writer, data_dir, taken.files + _pdf_cache(data_dir))
            manifest = _manifest(taken, now, database, stored, missing)
            size = writer.finish(manifest)
        except BaseException:
            writer.abandon()
            raise
    damaged = still_referenced(engine, [m["path"] for m in missing])
    return Created(target, manifest, size, time.monotonic() - started, damaged)


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
                missing.append({"path": relative, "reason": "gone before it was copied"})
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
    }


def still_referenced(engine: sa.Engine, paths: list[str]) -> list[str]:
    """Of files missing from a backup, those the live database still refers to."""
    if not paths:
        return []
    with engine.connect() as connection:
        live = set(snapshot.referenced_files(connection))
    return [path for path in paths if path in live]
