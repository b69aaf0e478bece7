"""Files attached to evidence: checked, stored outside the web root under random names, removed.

A file is stored (app/services/storage.py) under attachments/<first two characters>/<64 random
hex characters>; the person's name for it is only a column. Storing and deleting belong to the
transaction that adds or deletes the row, so a failed transaction never leaves a row without
its file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.infra import file_types
from app.models import Attachment, Evidence, User
from app.services import storage

FOLDER = "attachments"
STORED_NAME = re.compile(r"[0-9a-f]{64}")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    per_item: int


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    kind: file_types.FileType


def limits() -> Limits:
    config = current_app.config
    return Limits(config["ATTACHMENT_MAX_BYTES"], config["ATTACHMENTS_PER_EVIDENCE"])


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


# --- reading ----------------------------------------------------------------------------------


def attachments_of(evidence: Evidence) -> list[Attachment]:
    """The item's files, oldest first: already loaded with the item, or in one query."""
    if "attachments" not in inspect(evidence).unloaded:
        return list(evidence.attachments)
    return list(
        db.session.execute(
            select(Attachment).where(Attachment.evidence_id == evidence.id).order_by(Attachment.id)
        ).scalars()
    )


@dataclass(frozen=True)
class Panel:
    """What the attachments panel on an evidence page shows (the view adds the upload form when
    `may_manage`)."""

    items: list[Attachment]
    may_manage: bool
    limits: Limits

    @property
    def is_full(self) -> bool:
        return len(self.items) >= self.limits.per_item

    @property
    def hint(self) -> str:
        return (
            "PDF; PNG, JPEG, GIF or WebP images; text, CSV or Markdown; Word, Excel, PowerPoint "
            f"or OpenDocument files. Up to {megabytes(self.limits.max_bytes)} each, "
            f"{self.limits.per_item} files per item. Everyone who can see this item can "
            "download them."
        )


def panel(viewer: User, evidence: Evidence) -> Panel:
    """The item's files (with the item, or one query) and whether the viewer may change them."""
    return Panel(
        items=attachments_of(evidence),
        may_manage=policy.can(viewer, "evidence.edit", evidence) and not evidence.in_trash,
        limits=limits(),
    )


def get_attachment(attachment_id: int) -> Attachment:
    attachment = db.session.execute(
        select(Attachment)
        .where(Attachment.id == attachment_id)
        .options(joinedload(Attachment.evidence))
    ).scalar_one_or_none()
    if attachment is None:
        raise NotFoundError("Not found.")
    return attachment


def file_for_download(actor: User, attachment_id: int) -> tuple[Attachment, BinaryIO]:
    """The attachment and its file, opened for reading, for someone who may see the evidence
    (404 for others)."""
    attachment = get_attachment(attachment_id)
    policy.authorize(actor, "evidence.view", attachment.evidence)
    key = key_of(attachment.stored_name)
    try:
        return attachment, storage.open(key)
    except storage.MissingFileError:
        log.error("attachment %s: file %s is missing", attachment.id, key)
        raise NotFoundError("The file is missing from storage. Tell your administrator.") from None


def key_of(stored_name: str) -> str:
    """The storage key of an attachment's file."""
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"not a stored attachment name: {stored_name!r}")
    return f"{FOLDER}/{stored_name[:2]}/{stored_name}"


# --- changing ---------------------------------------------------------------------------------


def add_attachment(actor: User, evidence: Evidence, filename: str | None, stream: BinaryIO):
    """Check the file (size, count, type by name and by content), store it, record it."""
    policy.authorize(actor, "evidence.edit", evidence)
    if evidence.in_trash:
        raise ValidationError("This item is in the Trash; restore it to add files.", field="file")
    rules = limits()
    count = db.session.execute(
        select(func.count(Attachment.id)).where(Attachment.evidence_id == evidence.id)
    ).scalar_one()
    if count >= rules.per_item:
        raise ValidationError(
            f"An item can carry at most {rules.per_item} files; remove one to add another.",
            field="file",
        )
    checked = check_file(filename, stream.read(rules.max_bytes + 1), rules)
    return store(evidence, checked)


def check_file(filename: str | None, content: bytes, rules: Limits) -> CheckedFile:
    """Everything short of storing: name, size and type (by name and by content)."""
    name = file_types.clean_name(filename)
    if not name:
        raise ValidationError("The file has no name. Rename it and try again.", field="file")
    if len(content) > rules.max_bytes:
        raise ValidationError(
            f"“{name}” is larger than {megabytes(rules.max_bytes)}, the largest file "
            "Rungs accepts. Make it smaller (export a PDF, crop a screenshot) or add a link.",
            field="file",
        )
    return CheckedFile(name, content, file_types.check(name, content))


def store(evidence: Evidence, checked: CheckedFile) -> Attachment:
    """Write the file under a random name and add its row (the caller commits)."""
    stored_name = _write(checked.content)
    attachment = Attachment(
        evidence_id=evidence.id,
        stored_name=stored_name,
        original_name=checked.name,
        content_type=checked.kind.content_type,
        size=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def remove_attachment(actor: User, attachment: Attachment) -> None:
    """Delete the row now and the file once the transaction commits."""
    policy.authorize(actor, "evidence.edit", attachment.evidence)
    if attachment.evidence.in_trash:
        raise ValidationError("This item is in the Trash; restore it to remove files.")
    storage.delete(key_of(attachment.stored_name))
    db.session.delete(attachment)
    db.session.flush()


def delete_files_of(evidence_ids) -> int:
    """Before evidence rows are deleted for good: their files go once the deletion commits."""
    ids = list(evidence_ids)
    if not ids:
        return 0
    names = list(
        db.session.execute(
            select(Attachment.stored_name).where(Attachment.evidence_id.in_(ids))
        ).scalars()
    )
    storage.delete_many(key_of(name) for name in names)
    return len(names)


def _write(content: bytes) -> str:
    """Store the content under a new random name (gone again if the transaction fails)."""
    stored_name = secrets.token_hex(32)
    storage.put(key_of(stored_name), content)
    return stored_name
