"""Bring one's own exported evidence into this Rungs: everything is checked first, then all or none.

Items come in as private drafts for the person importing: whom they were shared with in the
other organisation means nothing here. Tags are mapped by the competency's stable key to the
importer's framework; a tag with no match is dropped and reported, the item is kept. Attachments
come from the export ZIP through the same checks as an upload. Comments, kudos, corroborations
and revisions belong to other people or to the other system's history and are not re-created.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import zipfile
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

ITEMS_MAX = 20_000
PROBLEMS_SHOWN = 200


@dataclass
class _Planned:
    """One item, checked and ready to be stored."""

    title: str
    fields: dict[str, Any]
    links: list
    keys: list[str]
    dropped: list[str]  # tags with no match in the importer's framework, as "Name (key)"
    files: list[tuple[str, str]] = field(default_factory=list)  # (clean name, ZIP entry)
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
        except (zipfile.BadZipFile, ValueError, OSError):
            raise RowErrors(["The ZIP file is damaged; export it again."]) from None
        if not names:
            raise RowErrors([f"The ZIP file has no {JSON_NAME}: is it a Rungs data export?"])
        name = min(names, key=len)  # someone may have unpacked and zipped it again in a folder
        self.prefix = posixpath.dirname(name)
        try:
            return _parse(self.read(name, limit), limit)
        except ValidationError as error:
            raise RowErrors([error.message]) from None

    def read(self, name: str, limit: int) -> bytes:
        assert self.archive is not None
        try:
            with self.archive.open(name) as entry:
                return entry.read(limit + 1)
        except (KeyError, zipfile.BadZipFile, ValueError, OSError, RuntimeError, EOFError):
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
        if plan.fingerprint in existing:
            report.duplicates.append(plan.title)
            continue
        existing.add(plan.fingerprint)
        planned.append(plan)
    if problems:
        raise RowErrors(_shortened(problems))
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


def _items(data: Any, version) -> list:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise RowErrors(
            [f"This is not a Rungs personal data export (format {FORMAT}); found {found!r}."]
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
    links = evidence_service._links(data.links)
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
        raise ValidationError(f"the date {raw.get('occurred_on')!r} is not YYYY-MM-DD.") from None
    try:
        kind = EvidenceKind(raw.get("kind"))
    except ValueError:
        raise ValidationError(f"the kind {raw.get('kind')!r} is not one Rungs knows.") from None
    outcome = raw.get("outcome") or {}
    links = raw.get("links") or []
    if not isinstance(outcome, dict) or not isinstance(links, list):
        raise ValidationError("the outcome or the links are not in the export's format.")
    return evidence_service.EvidenceInput(
        title=_text(raw, "title"),
        occurred_on=occurred_on,
        kind=kind,
        competency_keys=[],
        body=_text(raw, "body"),
        visibility=Visibility.PRIVATE,
        metric=_text(outcome, "metric"),
        metric_before=_text(outcome, "before"),
        metric_after=_text(outcome, "after"),
        metric_unit=_text(outcome, "unit"),
        links=[(_text(link, "url"), _text(link, "label")) for link in links],
    )


def _text(values: Any, key: str) -> str:
    if not isinstance(values, dict):
        raise ValidationError("a value is not in the export's format.")
    value = values.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be text.")
    return value


def _tags(raw: Any) -> list[tuple[str, str]]:
    """(key, name) of each tag; plain keys are accepted too."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("competencies must be a list.")
    tags = []
    for tag in raw:
        key = tag if isinstance(tag, str) else _text(tag, "key")
        if not key:
            raise ValidationError("a competency has no key.")
        name = _text(tag, "name") if isinstance(tag, dict) else ""
        tags.append((key, name or key))
    return tags


def _files(listed: list, source: _Source) -> list[tuple[str, str]]:
    """Check each attachment in the ZIP like an upload, and that it is the file exported."""
    rules = attachments.limits()
    if len(listed) > rules.per_item:
        raise ValidationError(f"it has {len(listed)} attachments; at most {rules.per_item} fit.")
    files = []
    for entry in listed:
        path = _text(entry, "path")
        if not path:
            continue  # missing from storage when it was exported: nothing to bring
        content = source.read(source.entry(path), rules.max_bytes)
        checked = attachments.check_file(_text(entry, "name") or path, content, rules)
        expected = _text(entry, "sha256")
        if expected and hashlib.sha256(content).hexdigest() != expected:
            raise ValidationError(f"{path} is not the file that was exported (checksum differs).")
        files.append((checked.name, source.entry(path)))
    return files


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
    title = " ".join(title.split())[:60] if isinstance(title, str) else ""
    return f" (“{title}”)" if title else ""


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
    for name, entry in plan.files:
        assert source is not None
        checked = attachments.check_file(name, source.read(entry, rules.max_bytes), rules)
        attachments.store(evidence, checked)
    return evidence
