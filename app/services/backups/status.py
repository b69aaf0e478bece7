"""The last backup, as the head of product sees it: recorded in a `settings` row once an
archive is complete, read by the backups page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.extensions import db
from app.models import Setting
from app.models.base import utcnow
from app.services import org_settings

SETTING_KEY = "backups.last"
STALE_AFTER = timedelta(days=2)
CRON_LINE = (
    "15 2 * * * cd /srv/rungs && RUNGS_ENV=production .venv/bin/flask backup create "
    ">> /var/log/rungs-backup.log 2>&1"
)


@dataclass(frozen=True)
class LastBackup:
    taken_at: datetime
    path: str
    size: int
    files: int
    rows: int
    seconds: float
    missing_files: int


@dataclass(frozen=True)
class BackupsPage:
    last: LastBackup | None
    is_stale: bool  # none at all, or older than STALE_AFTER
    age: timedelta | None
    stale_after_days: int
    cron_line: str


def record(created) -> None:
    """Remember a completed archive as the last backup (flushes; the caller commits)."""
    value = {
        "taken_at": created.manifest["created_at"],
        "path": str(created.path),
        "size": created.size,
        "files": len(created.manifest["files"]),
        "rows": created.rows,
        "seconds": round(created.seconds, 2),
        "missing_files": len(created.manifest["missing_files"]),
    }
    previous = db.session.get(Setting, SETTING_KEY)
    before = {"taken_at": previous.value.get("taken_at")} if previous else {}
    # Audited too: who can read the audit log sees when each backup was taken, and where to.
    org_settings.save(
        None,
        SETTING_KEY,
        value,
        action="backups.taken",
        before=before,
        after={"taken_at": value["taken_at"], "path": value["path"], "size": value["size"]},
    )


def backups_page() -> BackupsPage:
    """What the backups page shows: the last backup, and whether it is too old."""
    row = db.session.get(Setting, SETTING_KEY)
    last = _from_json(row.value) if row is not None else None
    age = utcnow() - last.taken_at if last else None
    return BackupsPage(
        last=last,
        is_stale=age is None or age > STALE_AFTER,
        age=age,
        stale_after_days=STALE_AFTER.days,
        cron_line=CRON_LINE,
    )


def _from_json(value) -> LastBackup | None:
    try:
        return LastBackup(
            taken_at=datetime.fromisoformat(value["taken_at"]),
            path=str(value["path"]),
            size=int(value["size"]),
            files=int(value["files"]),
            rows=int(value["rows"]),
            seconds=float(value["seconds"]),
            missing_files=int(value.get("missing_files", 0)),
        )
    except (KeyError, TypeError, ValueError):
        return None  # a damaged row reads as no backup: the page then warns
