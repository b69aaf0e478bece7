"""Bring one's own exported evidence into this Rungs: everything is checked first, then all or none.

Items come in as private drafts for the person importing: whom they were shared with in the
other organisation means nothing here. Tags are mapped by the competency's stable key to the
importer's framework; a tag with no match is dropped and reported, the item is kept. Attachments
come from the export ZIP through the same checks as an upload, each exactly the size and SHA-256
the export gives it; the files one import may store are capped in number and bytes, every copy
counted, before a byte is unpacked. Comments, kudos, corroborations and revisions belong to other
people or to the other system's history and are not re-created.
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
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import (
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    EvidenceRevision,
    User,
    Visibility,
)
from app.services import attachments
from app.services import evidence as evidence_service
from app.services.errors import RowErrors, ValidationError
from app.services.personal_data import FORMAT, JSON_NAME
from app.services.text import check_text, unwanted_character

ITEMS_MAX = 20_000
PROBLEMS_SHOWN = 200
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
# The longest outcome texts the columns hold (the evidence form checks the same lengths).
OUTCOME_MAX = {
    "metric": Evidence.metric.type.length,
    "before": Evidence.metric_before.type.length,
    "after": Evidence.metric_after.type.length,
    "unit": Evidence.metric_unit.type.length,
}


@dataclass(frozen=True)
class _File:
    """One attachment to bring from the ZIP: as the export describes it."""

    name: str  # the name the export gives it
    entry: str  # its entry in the ZIP
    size: int  # bytes, as the export says and the ZIP's directory agrees
    sha256: str


@dataclass
class _Planned:
    """One item, checked and ready to be stored."""

    title: str
    fields: dict[str, Any]
    links: list
    keys: list[str]
    dropped: list[str]  # tags with no match in the importer's framework, as "Name (key)"
    number: int = 0  # its place in the export's list, for messages
    files: list[_File] = field(default_factory=list)
    left_behind: int = 0  # attachments listed, but the upload was the JSON alone

    @property
    def fingerprint(self) -> tuple:
        return (self.fields["title"], self.fields["occurred_on"], self.fields["body"])


@dataclass
class ImportReport:
    imported: list[Evidence] = field(default_factory=list)
    dropped_tags: list[str] = field(default_factory=list)  # "“Item”: Name (key)"
    untagged: list[str] = field(default_factory=list)  # titles left with no competency
    duplicates: list[str] = field(default_factory=list)  # titles already here
    in_trash: int = 0  # items that were in the Trash of the export
    attachments: int = 0
    attachments_left_behind: int = 0  # listed in the JSON but the upload was not the ZIP

    def add(self, plan: _Planned) -> None:
        self.dropped_tags.extend(f"“{plan.title}”: {tag}" for tag in plan.dropped)
        if not plan.keys:
            self.untagged.append(plan.title)
        self.attachments += len(plan.files)
        self.attachments_left_behind += plan.left_behind


class _Source:
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
            self.data = _parse(stream.read(limit + 1), limit)

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
            return _parse(self.read(name, limit), limit)
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


def import_upload(actor: User, stream: IO[bytes]) -> ImportReport:
    """Read an uploaded export (JSON or ZIP) and import its items; RowErrors lists every problem."""
    policy.authorize(actor, "account.manage")
    source = _Source(stream)
    return import_items(actor, source.data, source)


def import_items(actor: User, data: Any, source: _Source | None = None) -> ImportReport:
    """Check every item, then create them all as the actor's private drafts, or nothing."""
    policy.authorize(actor, "account.manage")
    version = evidence_service.published_version_of(actor.id)
    items = _items(data, version)
    known = {choice.key: choice.name for choice in evidence_service.competency_choices(actor.id)}
    existing = _existing(actor.id)
    report = ImportReport()
    planned: list[_Planned] = []
    problems: list[str] = []
    for number, raw in enumerate(items, start=1):
        if isinstance(raw, dict) and raw.get("in_trash") is True:
            report.in_trash += 1  # the person deleted it; the export file still has it
            continue
        try:
            plan = _plan(raw, known, source)
        except ValidationError as error:
            problems.append(f"Item {number}{_titled(raw)}: {error.message}")
            continue
        plan.number = number
        if plan.fingerprint in existing:
            report.duplicates.append(plan.title)
            continue
        existing.add(plan.fingerprint)
        planned.append(plan)
    if problems:
        raise RowErrors(_shortened(problems))
    _check_room(planned)
    if source is not None and source.archive is not None:
        _check_contents(planned, source)
    for plan in planned:
        report.imported.append(_create(actor, version.framework_id, plan, source))
        report.add(plan)
    db.session.flush()
    return report


# --- checking -----------------------------------------------------------------------------------


def _parse(content: bytes, limit: int) -> Any:
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


def _items(data: Any, version) -> list:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise RowErrors(
            [f"This is not a Rungs personal data export (format {FORMAT}); found {_shown(found)}."]
        )
    items = data.get("evidence")
    if not isinstance(items, list):
        raise RowErrors(["The export has no list of evidence."])
    if len(items) > ITEMS_MAX:
        raise RowErrors([f"The export has more than {ITEMS_MAX:,} items; split it."])
    if version is None and items:
        raise RowErrors(
            [
                "You are not placed on a level of a published career framework yet, so the "
                "items' competencies cannot be mapped. Ask your head of product to place you, "
                "then import again."
            ]
        )
    return items


def _plan(raw: Any, known: dict[str, str], source: _Source | None) -> _Planned:
    if not isinstance(raw, dict):
        raise ValidationError("is not an object.")
    data = _input(raw)
    fields = evidence_service._fields(data)  # the same rules as the form
    try:
        links = evidence_service._links(data.links)
    except ValueError as error:  # urlsplit refuses some addresses outright ("http://[::1")
        raise ValidationError(f"a link is not a valid web address ({error}).") from None
    tags = _tags(raw.get("competencies"))
    keys = sorted({key for key, _name in tags if key in known})
    dropped = [f"{name} ({key})" for key, name in tags if key not in known]
    plan = _Planned(fields["title"], fields, links, keys, dropped)
    listed = raw.get("attachments") or []
    if not isinstance(listed, list):
        raise ValidationError("attachments must be a list.")
    if source is None or source.archive is None:
        plan.left_behind = len(listed)
    else:
        plan.files = _files(listed, source)
    return plan


def _input(raw: dict) -> evidence_service.EvidenceInput:
    try:
        occurred_on = date.fromisoformat(_text(raw, "occurred_on"))
    except ValueError:
        raise ValidationError(
            f"the date {_shown(raw.get('occurred_on'))} is not YYYY-MM-DD."
        ) from None
    try:
        kind = EvidenceKind(raw.get("kind"))
    except (ValueError, TypeError):
        raise ValidationError(
            f"the kind {_shown(raw.get('kind'))} is not one Rungs knows."
        ) from None
    outcome = raw.get("outcome") or {}
    links = raw.get("links") or []
    if not isinstance(outcome, dict) or not isinstance(links, list):
        raise ValidationError("the outcome or the links are not in the export's format.")
    measure = {key: _text(outcome, key, "the outcome") for key in OUTCOME_MAX}
    for key, longest in OUTCOME_MAX.items():
        if len(measure[key].strip()) > longest:
            raise ValidationError(f"the outcome's {key} is longer than {longest} characters.")
    return evidence_service.EvidenceInput(
        title=_text(raw, "title"),
        occurred_on=occurred_on,
        kind=kind,
        competency_keys=[],
        body=_text(raw, "body"),
        visibility=Visibility.PRIVATE,
        metric=measure["metric"],
        metric_before=measure["before"],
        metric_after=measure["after"],
        metric_unit=measure["unit"],
        links=[
            (_text(link, "url", f"link {n}"), _text(link, "label", f"link {n}"))
            for n, link in enumerate(links, start=1)
        ],
    )


def _text(values: Any, key: str, where: str = "") -> str:
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


def _tags(raw: Any) -> list[tuple[str, str]]:
    """(key, name) of each tag; plain keys are accepted too."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("competencies must be a list.")
    tags = []
    for number, tag in enumerate(raw, start=1):
        where = f"competency {number}"
        key = (
            check_text(tag, f"{where}'s key") if isinstance(tag, str) else _text(tag, "key", where)
        )
        if not key:
            raise ValidationError("a competency has no key.")
        name = _text(tag, "name", where) if isinstance(tag, dict) else ""
        tags.append((key, name or key))
    return tags


def _files(listed: list, source: _Source) -> list[_File]:
    """Each attachment as the export describes it, agreeing with the ZIP's directory; nothing
    is read yet (see _check_room and _check_contents)."""
    rules = attachments.limits()
    if len(listed) > rules.per_item:
        raise ValidationError(f"it has {len(listed)} attachments; at most {rules.per_item} fit.")
    files = []
    for number, entry in enumerate(listed, start=1):
        where = f"attachment {number}"
        path = _text(entry, "path", where)
        if not path:
            continue  # missing from storage when it was exported: nothing to bring
        name = _text(entry, "name", where) or path
        size = _declared_size(entry, where, rules)
        sha256 = _text(entry, "sha256", where)
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
        files.append(_File(name, source.entry(path), size, sha256))
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


def _check_room(planned: list[_Planned]) -> None:
    """Refuse the whole import, before a byte is unpacked, when its files would take more room
    than one import may (every copy counts), or when attachments share a ZIP entry: an export
    gives each attachment its own, so a shared one is a crafted file multiplying one entry."""
    config = current_app.config
    most_files = config["PERSONAL_DATA_IMPORT_MAX_FILES"]
    most_bytes = config["PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"]
    files = [file for plan in planned for file in plan.files]
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


def _check_contents(planned: list[_Planned], source: _Source) -> None:
    """Read every file (no more than its declared size) and check it like an upload."""
    rules = attachments.limits()
    problems = []
    for plan in planned:
        for file in plan.files:
            try:
                _content(file, source, rules)
            except ValidationError as error:
                problems.append(f"Item {plan.number} (“{plan.title[:60]}”): {error.message}")
    if problems:
        raise RowErrors(_shortened(problems))


def _content(file: _File, source: _Source, rules: attachments.Limits) -> attachments.CheckedFile:
    """The file's bytes, when they are exactly what the export describes, checked as an upload."""
    content = source.read(file.entry, file.size)
    if len(content) != file.size or hashlib.sha256(content).hexdigest() != file.sha256:
        raise ValidationError(
            f"{file.entry} is not the file that was exported (size or checksum differs)."
        )
    return attachments.check_file(file.name, content, rules)


def _existing(person_id: int) -> set[tuple]:
    """Items the person already has: importing the same file twice adds nothing."""
    rows = db.session.execute(
        select(Evidence.title, Evidence.occurred_on, Evidence.body).where(
            Evidence.owner_id == person_id, Evidence.deleted_at.is_(None)
        )
    ).all()
    return {tuple(row) for row in rows}


def _titled(raw: Any) -> str:
    title = raw.get("title") if isinstance(raw, dict) else None
    if not isinstance(title, str) or unwanted_character(title):
        return ""  # a title with a control character is not repeated in the message
    title = " ".join(title.split())[:60]
    return f" (“{title}”)" if title else ""


def _shown(value: Any) -> str:
    """A value from the file, short and printable (repr escapes control characters)."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "…"


def _shortened(problems: list[str]) -> list[str]:
    if len(problems) <= PROBLEMS_SHOWN:
        return problems
    return [*problems[:PROBLEMS_SHOWN], f"… and {len(problems) - PROBLEMS_SHOWN} more."]


# --- storing ------------------------------------------------------------------------------------


def _create(actor: User, framework_id: int, plan: _Planned, source: _Source | None) -> Evidence:
    evidence = Evidence(owner_id=actor.id, **plan.fields)
    evidence.competencies = [
        EvidenceCompetency(framework_id=framework_id, competency_key=key) for key in plan.keys
    ]
    evidence.links = plan.links
    db.session.add(evidence)
    db.session.flush()
    db.session.add(
        EvidenceRevision(
            evidence_id=evidence.id,
            number=1,
            action="created",
            snapshot=evidence_service.snapshot(evidence),
            changed_by_id=actor.id,
        )
    )
    rules = attachments.limits()
    for file in plan.files:
        assert source is not None
        attachments.store(evidence, _content(file, source, rules))
    return evidence
