"""Backups: one archive of the database and its files, checked, restored, and the last one
recorded for the head of product (see README "Backups")."""

from app.services.backups.checking import Verified, verify
from app.services.backups.creating import Created, create, default_path
from app.services.backups.restoring import Restored, restore
from app.services.backups.snapshot import BackupError
from app.services.backups.status import backups_page, record

__all__ = [
    "BackupError",
    "Created",
    "Restored",
    "Verified",
    "backups_page",
    "create",
    "default_path",
    "record",
    "restore",
    "verify",
]
