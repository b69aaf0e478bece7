"""The last backup, as the head of product sees it: recorded in a `settings` row once an
archive is complete (or once one is restored), read by the backups page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.extensions import db
from app.infra.sizes import size_label
from app.models import Setting
from app.models.base import utcnow
from app.services import org_settings

SETTING_KEY = "backups.last"
STALE_AFTER = timedelta(days=2)
CRON_LINE = (
    "15 2 * * * cd /srv/rungs && RUNGS_ENV=production .venv/bin/flask backup create "
    ">> /var/log/rungs-backup.log 2>&1"
)
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class LastBackup:
    taken_at: datetime
    path: str
    size: int
    files: int
    rows: int
    seconds: float | None  # None: not known (recorded from a restored archive's manifest)
    missing_files: int  # not in the archive: lost ones and ones deleted while it was taken
    lost_files: int = 0  # of those, the ones the database still names: a damaged data folder
    database: str | None = None  # "sqlite" / "postgresql"; None: recorded before it was kept
    restored_at: datetime | None = None  # set when this data was restored from the archive

    @property
    def deleted_files(self) -> int:
        return self.missing_files - self.lost_files

    @property
    def size_label(self) -> str:
        return size_label(self.size)

    @property
    def database_name(self) -> str:
        return KIND_NAMES.get(self.database or "", self.database or "an unknown database")


@dataclass(frozen=True)
class BackupsPage:
    last: LastBackup | None
    is_stale: bool  # none at all, or older than STALE_AFTER
    age: timedelta | None
    stale_after_days: int
    cron_line: str
    running: str  # the database kind Rungs runs on now

    @property
    def is_other_kind(self) -> bool:
        """The last backup is of another database kind than the running one (taken before a
        move): it cannot be restored here, a new one is needed."""
        return bool(self.last and self.last.database and self.last.database != self.running)

    @property
    def running_name(self) -> str:
        return KIND_NAMES.get(self.running, self.running)


def record(created) -> None:
    """Remember a completed archive as the last backup (flushes; the caller commits)."""
    manifest = created.manifest
    value = {
        **_described(manifest, created.path, created.size),
        "seconds": round(created.seconds, 2),
        "lost_files": len(created.damaged),
    }
    _save(value, action="backups.taken")


def record_restore(manifest: dict, archive_path: Path) -> None:
    """Remember the archive this data was restored from as its last backup, with when it was
    restored: the row the archive brought back describes the backup before it, or another
    install's. Call it once the schema is upgraded (the settings table may be newer than the
    archive). Flushes; the caller commits."""
    path = Path(archive_path).absolute()
    described = _described(manifest, path, path.stat().st_size if path.is_file() else 0)
    value = {
        **described,
        "seconds": None,
        # The restored rows still name every file the archive lacks: all of them are lost here.
        "lost_files": described["missing_files"],
        "restored_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _save(value, action="backups.restored")


def _described(manifest: dict, path: Path, size: int) -> dict:
    return {
        "taken_at": manifest["created_at"],
        "path": str(path),
        "size": size,
        # Files copied into the archive and files the database copy holds itself alike.
        "files": len(manifest["files"]) + len(manifest.get("database_files", [])),
        "rows": sum(table["rows"] for table in manifest["tables"].values()),
        "missing_files": len(manifest.get("missing_files", [])),
        "database": manifest["database"],
    }


def _save(value: dict, *, action: str) -> None:
    previous = db.session.get(Setting, SETTING_KEY)
    before = {"taken_at": previous.value.get("taken_at")} if previous else {}
    after = {"taken_at": value["taken_at"], "path": value["path"], "size": value["size"]}
    if "restored_at" in value:
        after["restored_at"] = value["restored_at"]
    # Audited too: who can read the audit log sees when each backup was taken, and where to.
    org_settings.save(None, SETTING_KEY, value, action=action, before=before, after=after)


def backups_page() -> BackupsPage:
    """What the backups page shows: the last backup, and whether it is too old or of another
    database kind than the one Rungs runs on now."""
    row = db.session.get(Setting, SETTING_KEY)
    last = _from_json(row.value) if row is not None else None
    age = utcnow() - last.taken_at if last else None
    return BackupsPage(
        last=last,
        is_stale=age is None or age > STALE_AFTER,
        age=age,
        stale_after_days=STALE_AFTER.days,
        cron_line=CRON_LINE,
        running=db.engine.dialect.name,
    )


def _from_json(value) -> LastBackup | None:
    try:
        seconds, restored_at = value.get("seconds"), value.get("restored_at")
        missing = int(value.get("missing_files", 0))
        return LastBackup(
            taken_at=datetime.fromisoformat(value["taken_at"]),
            path=str(value["path"]),
            size=int(value["size"]),
            files=int(value["files"]),
            rows=int(value["rows"]),
            seconds=None if seconds is None else float(seconds),
            missing_files=missing,
            # Recorded before lost and deleted files were told apart: all may be lost.
            lost_files=min(int(value.get("lost_files", missing)), missing),
            database=value.get("database"),
            restored_at=datetime.fromisoformat(restored_at) if restored_at else None,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # a damaged row reads as no backup: the page then warns
