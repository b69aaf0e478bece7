"""Reading an uploaded "Your data" export: the JSON alone, or the ZIP with its attachments.

A ZIP's sizes are claims. Each attachment must be what the export says it is (size and SHA-256),
an entry is read no further than its claimed size, and before any entry is unpacked the files
an import would store are counted, every copy included, against the limits of one import.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app

from app.core.errors import RowErrors, ValidationError
from app.infra.text import check_text
from app.services.evidence import attachments
from app.services.personal_data import JSON_NAME

SHA256 = re.compile(r"[0-9a-f]{64}")
# What a damaged or hostile ZIP entry raises while it is read (zlib, bz2 and lzma streams,
# encryption, a compression method Python does not have).
ZIP_READ_ERRORS = (
    KeyError,
    zipfile.BadZipFile,
    ValueError,
    OSError,
    RuntimeError,
    EOFError,
    NotImplementedError,
    zlib.error,
    lzma.LZMAError,
)


@dataclass(frozen=True)
class ExportFile:
    """One attachment to bring from the ZIP: as the export describes it."""

    name: str  # the name the export gives it
    entry: str  # its entry in the ZIP
    size: int  # bytes, as the export says and the ZIP's directory agrees
    sha256: str


class Upload:
    """The uploaded JSON, or the export ZIP with its attachments."""

    def __init__(self, stream: IO[bytes]):
        self.archive: zipfile.ZipFile | None = None
        self.prefix = ""
        limit = current_app.config["PERSONAL_DATA_IMPORT_MAX_BYTES"]
        if stream.read(4) == b"PK\x03\x04":
            stream.seek(0)
            self.data = self._from_zip(stream, limit)
        else:
            stream.seek(0)
            self.data = parse_json(stream.read(limit + 1), limit)

    def _from_zip(self, stream: IO[bytes], limit: int) -> Any:
        try:
            self.archive = zipfile.ZipFile(stream)
            names = [n for n in self.archive.namelist() if posixpath.basename(n) == JSON_NAME]
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            raise RowErrors(["The ZIP file is damaged; export it again."]) from None
        if not names:
            raise RowErrors([f"The ZIP file has no {JSON_NAME}: is it a Rungs data export?"])
        name = min(names, key=len)  # someone may have unpacked and zipped it again in a folder
        self.prefix = posixpath.dirname(name)
        try:
            if self.size_of(name) > limit:  # refused unread; a smaller claim bounds the read
                raise RowErrors([f"{JSON_NAME} is larger than {attachments.megabytes(limit)}."])
            return parse_json(self.read(name, limit), limit)
        except ValidationError as error:
            raise RowErrors([error.message]) from None

    def size_of(self, name: str) -> int:
        """The entry's size as the ZIP's directory gives it (a claim, checked when read)."""
        assert self.archive is not None
        try:
            return self.archive.getinfo(name).file_size
        except KeyError:
            raise ValidationError(f"{name} is missing from the ZIP.") from None

    def read(self, name: str, limit: int) -> bytes:
        """At most limit + 1 bytes of the entry: a ZIP's sizes are claims, so reading stops
        there whatever the entry would unpack to."""
        assert self.archive is not None
        try:
            with self.archive.open(name) as entry:
                return entry.read(limit + 1)
        except ZIP_READ_ERRORS:
            raise ValidationError(f"{name} is missing from the ZIP or damaged.") from None

    def entry(self, path: str) -> str:
        return posixpath.join(self.prefix, path) if self.prefix else path


def parse_json(content: bytes, limit: int) -> Any:
    if len(content) > limit:
        raise RowErrors([f"The file is larger than {attachments.megabytes(limit)}."])
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise RowErrors(["The file is neither a ZIP nor UTF-8 JSON."]) from None
    except RecursionError:
        raise RowErrors(["The JSON is nested too deeply to be a Rungs export."]) from None
    except json.JSONDecodeError as error:
        raise RowErrors(
            [
                f"The file is not valid JSON (line {error.lineno}, "
                f"column {error.colno}: {error.msg})."
            ]
        ) from None
    except ValueError:  # a number of more than 4,300 digits: Python refuses to convert it
        raise RowErrors(["The JSON holds a number too long to be a Rungs export's."]) from None


def text_at(values: Any, key: str, where: str = "") -> str:
    """The text at values[key] ("" when absent), refused when it is not text or holds a
    control character; where names the part of the item ("link 2") in the message."""
    name = f"{where}'s {key}" if where else key
    if not isinstance(values, dict):
        raise ValidationError(f"{where or 'a value'} is not in the export's format.")
    value = values.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text.")
    return check_text(value, name)


def listed_files(listed: list, source: Upload) -> list[ExportFile]:
    """Each attachment as the export describes it, agreeing with the ZIP's directory; nothing
    is read yet (check_room, then checked_content, read them)."""
    rules = attachments.limits()
    if len(listed) > rules.per_item:
        raise ValidationError(f"it has {len(listed)} attachments; at most {rules.per_item} fit.")
    files = []
    for number, entry in enumerate(listed, start=1):
        where = f"attachment {number}"
        path = text_at(entry, "path", where)
        if not path:
            continue  # missing from storage when it was exported: nothing to bring
        name = text_at(entry, "name", where) or path
        size = _declared_size(entry, where, rules)
        sha256 = text_at(entry, "sha256", where)
        if not SHA256.fullmatch(sha256):
            raise ValidationError(
                f"{where} ({path}) has no sha256 checksum (64 hexadecimal digits), which every "
                "Rungs export gives; export it again."
            )
        in_zip = source.size_of(source.entry(path))
        if in_zip != size:
            raise ValidationError(
                f"{path} is {in_zip:,} bytes in the ZIP but the export says {size:,}: it is not "
                "the file that was exported."
            )
        files.append(ExportFile(name, source.entry(path), size, sha256))
    return files


def _declared_size(entry: dict, where: str, rules: attachments.Limits) -> int:
    size = entry.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValidationError(f"{where}'s size must be a whole number of bytes.")
    if size > rules.max_bytes:
        raise ValidationError(
            f"{where} is {attachments.megabytes(size)}; files can be at most "
            f"{attachments.megabytes(rules.max_bytes)}."
        )
    return size


def check_room(files: list[ExportFile]) -> None:
    """Refuse the whole import, before a byte is unpacked, when its files would take more room
    than one import may (every copy counts), or when attachments share a ZIP entry: an export
    gives each attachment its own, so a shared one is a crafted file multiplying one entry."""
    config = current_app.config
    most_files = config["PERSONAL_DATA_IMPORT_MAX_FILES"]
    most_bytes = config["PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"]
    entries = Counter(file.entry for file in files)
    shared = [entry for entry, count in entries.items() if count > 1]
    if shared:
        raise RowErrors(
            [
                f"{len(files) - len(entries):,} attachments name a file in the ZIP that another "
                f"attachment names already ({_listed(shared)}); a Rungs export gives each "
                "attachment its own file. Export the data again."
            ]
        )
    total = sum(file.size for file in files)
    if len(files) > most_files or total > most_bytes:
        raise RowErrors(
            [
                f"This import would store {len(files):,} attachments, "
                f"{attachments.megabytes(total)} in all; one import may store at most "
                f"{most_files:,} files and {attachments.megabytes(most_bytes)}. Import the "
                f"{JSON_NAME} alone to bring the items without their files, or ask your "
                "administrator about the limits PERSONAL_DATA_IMPORT_MAX_FILES and "
                "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES."
            ]
        )


def _listed(names: list[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def checked_content(
    file: ExportFile, source: Upload, rules: attachments.Limits
) -> attachments.CheckedFile:
    """The file's bytes, when they are exactly what the export describes, checked as an upload."""
    content = source.read(file.entry, file.size)
    if len(content) != file.size or hashlib.sha256(content).hexdigest() != file.sha256:
        raise ValidationError(
            f"{file.entry} is not the file that was exported (size or checksum differs)."
        )
    return attachments.check_file(file.name, content, rules)
