"""The backup archive: a ZIP of the database copy, the files and a manifest describing them.

ZIP rather than tar: the manifest can be read first without reading the whole archive (the
central directory), every member carries a CRC-32 on top of the manifest's SHA-256, and each
member picks its own compression: the database is deflated (it shrinks several times), the
files are stored as they are (attachments and PDFs are mostly compressed already, deflating them
again costs time for nothing).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.services import storage
from app.services.backups.snapshot import DATABASE_MEMBER, BackupError

FORMAT = "rungs-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = "files/"
# The folders of RUNGS_DATA_DIR a backup holds files from (and a restore writes into).
DATA_FOLDERS = storage.FOLDERS
_CHUNK = 1024 * 1024
MANIFEST_LIMIT = 64 * 1024 * 1024  # far above any real manifest (about 200 bytes per file)


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the data folder (or the member name, for the database)
    size: int
    sha256: str


class Writer:
    """Writes an archive to a temporary name beside `target`; `finish` renames it into place,
    so no half-written archive ever carries the final name."""

    def __init__(self, target: Path):
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        os.close(handle)  # mkstemp made it 0600: backups hold password hashes and secrets
        self.target, self.temporary = target, Path(name)
        self.zip = zipfile.ZipFile(self.temporary, "w", allowZip64=True)

    def add(self, member: str, source: Path, *, deflate: bool = False) -> Stored:
        """Copy a file in, hashing what goes in. FileNotFoundError if it is gone."""
        with source.open("rb") as file:
            info = zipfile.ZipInfo(member, date_time=datetime.now().timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            digest, size = hashlib.sha256(), 0
            with self.zip.open(info, "w", force_zip64=True) as out:
                while chunk := file.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        return Stored(member, size, digest.hexdigest())

    def finish(self, manifest: dict[str, Any]) -> int:
        """Write the manifest last, flush to disk, rename into place; the archive's size."""
        self.zip.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        self.zip.close()
        with self.temporary.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(self.temporary, self.target)
        return self.target.stat().st_size

    def abandon(self) -> None:
        self.zip.close()
        self.temporary.unlink(missing_ok=True)


def open_archive(path: Path) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    """The archive and its manifest, or a BackupError saying what is wrong with the file."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BackupError(
            f"{path} is not a Rungs backup (not a readable ZIP archive: {error}); "
            "it may be truncated or damaged."
        ) from None
    try:
        manifest = json.loads(_read_manifest(archive))
    except KeyError:
        archive.close()
        raise BackupError(f"{path} is not a Rungs backup: it has no {MANIFEST}.") from None
    except (ValueError, zipfile.BadZipFile, OSError) as error:
        archive.close()
        raise BackupError(f"{path}: the manifest cannot be read ({error}).") from None
    try:
        check_manifest(manifest)
    except BackupError:
        archive.close()
        raise
    return archive, manifest


def _read_manifest(archive: zipfile.ZipFile) -> bytes:
    """The manifest's bytes, refused past MANIFEST_LIMIT whatever size its header declares."""
    with archive.open(MANIFEST) as file:
        content = file.read(MANIFEST_LIMIT + 1)
    if len(content) > MANIFEST_LIMIT:
        raise ValueError(f"it is larger than {MANIFEST_LIMIT // (1024 * 1024)} MB")
    return content


def check_manifest(manifest: Any) -> None:
    """A BackupError unless the manifest is one this code wrote (or an older format)."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("The archive is not a Rungs backup (its manifest is someone else's).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"The archive's format version {version!r} is newer than this Rungs reads "
            f"({FORMAT_VERSION}): restore it with the Rungs it came from or a newer one."
        )
    if manifest.get("database") not in DATABASE_MEMBER:
        raise BackupError("The manifest names no database kind this Rungs knows.")
    needed = {"created_at": str, "tables": dict, "files": list, "database_file": dict}
    for key, kind in needed.items():
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"The manifest is damaged: {key!r} is missing or malformed.")
    for entry in [manifest["database_file"], *manifest["files"]]:
        if not _is_entry(entry):
            raise BackupError(f"The manifest is damaged: a file entry is malformed ({entry!r}).")
    _check_missing_files(manifest.get("missing_files", []))
    _check_database_files(manifest.get("database_files", []))
    for entry in manifest["files"]:
        if not in_data_folders(entry["path"]):
            raise BackupError(
                f"The manifest names a file outside the data folders: {entry['path']}"
            )


def _check_missing_files(missing: Any) -> None:
    if not isinstance(missing, list) or not all(
        isinstance(m, dict) and isinstance(m.get("path"), str) for m in missing
    ):
        raise BackupError("The manifest is damaged: 'missing_files' is malformed.")


def _check_database_files(held: Any) -> None:
    """Files the database copy holds itself (RUNGS_FILE_STORAGE=database); none before."""
    if not isinstance(held, list) or not all(
        _is_entry(entry) and in_data_folders(entry["path"]) for entry in held
    ):
        raise BackupError("The manifest is damaged: 'database_files' is malformed.")


def _is_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("path"), str)
        and isinstance(entry.get("size"), int)
        and isinstance(entry.get("sha256"), str)
        and safe_relative(entry["path"])
    )


def safe_relative(path: str) -> bool:
    """A relative path with no way out of the folder it is joined to."""
    parts = Path(path).parts
    return bool(parts) and not Path(path).is_absolute() and ".." not in parts and "\\" not in path


def in_data_folders(path: str) -> bool:
    """A safe path inside one of the folders a backup holds (never the database file itself)."""
    return safe_relative(path) and Path(path).parts[0] in DATA_FOLDERS and len(Path(path).parts) > 1


def check_member(archive: zipfile.ZipFile, member: str, size: int, sha256: str) -> str | None:
    """None when the member has this size and hash; otherwise what is wrong. Reading stops
    past the manifest's size, so a member that inflates far beyond it costs nothing."""
    digest, seen = hashlib.sha256(), 0
    try:
        with archive.open(member) as file:
            while seen <= size and (chunk := file.read(_CHUNK)):
                digest.update(chunk)
                seen += len(chunk)
    except KeyError:
        return f"{member} is missing from the archive"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        return f"{member} cannot be read ({error})"
    if seen != size or digest.hexdigest() != sha256:
        return f"{member} does not match the manifest (size or SHA-256 differs)"
    return None


def extract(archive: zipfile.ZipFile, member: str, target: Path) -> None:
    """Write one member to `target` through a temporary name in the same folder."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
    try:
        with os.fdopen(handle, "wb") as out, archive.open(member) as file:
            while chunk := file.read(_CHUNK):
                out.write(chunk)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
