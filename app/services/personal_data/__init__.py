"""A person's own data as a ZIP they can keep: JSON, one Markdown file per item, the attachments.

docs/personal-data-export.md describes the format. Everything is read in a fixed number of
queries whatever the amount of evidence, and listed in a fixed order, so two exports of the same
data hold the same entries in the same places. Importing such a file: personal_data_import.py.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import yaml
from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.infra import file_types
from app.models import (
    Attachment,
    Comment,
    Corroboration,
    Evidence,
    EvidenceCompetency,
    EvidenceLink,
    EvidenceRevision,
    Framework,
    FrameworkVersion,
    Kudos,
    Level,
    User,
)
from app.models.base import utcnow
from app.services import evidence as evidence_service
from app.services import help as help_service
from app.services import storage
from app.services.evidence import attachments
from app.services.messages import export as messages_export
from app.services.personal_data import coaching
from app.services.personal_data.naming import slug

FORMAT = "rungs-personal-data/1"
JSON_NAME = "rungs-export.json"
UNSAFE_IN_PATHS = re.compile(r'[<>:"/\\|?*]')


@dataclass(frozen=True)
class Summary:
    """What an export will hold, for the page that offers it."""

    items: int
    in_trash: int
    attachments: int
    attachment_bytes: int
    # one_on_ones, meetings, goals, rounds, feedback_requests, thanks (coaching.counts)
    coaching: dict[str, int] = field(default_factory=dict)


@dataclass
class _Children:
    """Everything hanging off the person's items, grouped by item id."""

    tags: dict[int, list]
    links: dict[int, list]
    files: dict[int, list]
    revisions: dict[int, list]
    comments: dict[int, list]
    kudos: dict[int, list]
    corroborations: dict[int, list]


def summary(person: User) -> Summary:
    items, in_trash = db.session.execute(
        select(func.count(Evidence.id), func.count(Evidence.deleted_at)).where(
            Evidence.owner_id == person.id
        )
    ).one()
    files, size = db.session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0))
        .join(Evidence, Evidence.id == Attachment.evidence_id)
        .where(Evidence.owner_id == person.id)
    ).one()
    return Summary(items, in_trash, files, int(size), coaching.counts(person))


# --- export -------------------------------------------------------------------------------------


def export_document(person: User) -> dict[str, Any]:
    """Everything the person owns in Rungs, as JSON-ready data."""
    return _build(person, utcnow())[0]


def export_zip(actor: User) -> IO[bytes]:
    """The ZIP, in a temporary file that disappears when it is closed."""
    policy.authorize(actor, "account.manage")
    moment = utcnow()
    document, files = _build(actor, moment)
    stamp = moment.timetuple()[:6]
    output = tempfile.TemporaryFile()  # noqa: SIM115 - the caller sends it, then it is closed
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        _write(archive, JSON_NAME, stamp, text.encode())
        for item in document["evidence"]:
            _write(archive, item["markdown_file"], stamp, item_markdown(item).encode())
        for pair in document["one_on_ones"]:
            _write(archive, pair["markdown_file"], stamp, coaching.pair_markdown(pair).encode())
        for name, key in files:
            with storage.open(key) as source, archive.open(_info(name, stamp), "w") as target:
                shutil.copyfileobj(source, target)
    output.seek(0)
    return output


def item_markdown(item: dict[str, Any]) -> str:
    """One item as Markdown with YAML front matter: readable anywhere, parseable by tools."""
    front = {
        "title": item["title"],
        "date": item["occurred_on"],
        "kind": item["kind"],
        "visibility": item["visibility"],
        "in_trash": item["in_trash"],
        "competencies": [
            f"{c['name']} ({c['framework']}/{c['key']})" for c in item["competencies"]
        ],
        "outcome": item["outcome"],
        "links": item["links"],
        "attachments": [f"../{a['path']}" for a in item["attachments"] if a["path"]],
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    return f"---\n{header}---\n\n{item['body']}\n"


def _build(person: User, moment: datetime) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    items = list(
        db.session.execute(
            select(Evidence)
            .where(Evidence.owner_id == person.id)
            .order_by(Evidence.occurred_on, Evidence.id)
        ).scalars()
    )
    children = _children(person.id)
    framework_ids = {tag.framework_id for tags in children.tags.values() for tag in tags}
    slugs = _framework_slugs(framework_ids)
    names = evidence_service.competency_names(framework_ids)
    files: list[tuple[str, str]] = []  # (name in the ZIP, storage key)
    stored = storage.present(
        attachments.key_of(a.stored_name) for listed in children.files.values() for a in listed
    )
    evidence = []
    for item in items:
        data = _item(item, children, slugs, names)
        data["attachments"] = _attachments(item, children.files[item.id], stored, files)
        evidence.append(data)
    places = {item.id: number for number, item in enumerate(items, start=1)}
    document = {
        "format": FORMAT,
        "exported_at": _when(moment),
        "person": _person(person),
        "evidence": evidence,
        **coaching.sections(person, places),
        "contributions": _contributions(person.id) | coaching.contributions(person),
        # Which pages' help the person has seen (folded for them since): keys and times only.
        "help_seen": [
            {"key": key, "seen_at": _when(at)} for key, at in help_service.seen_with_times(person)
        ],
        # How the person chose to get messages, and the emails and Slack messages sent to them.
        **messages_export.sections(person),
    }
    return document, files


def _item(item: Evidence, children: _Children, slugs, names) -> dict[str, Any]:
    outcome = None
    if item.metric:
        outcome = {
            "metric": item.metric,
            "before": item.metric_before,
            "after": item.metric_after,
            "unit": item.metric_unit,
        }
    return {
        "id": item.id,
        "title": item.title,
        "occurred_on": item.occurred_on.isoformat(),
        "kind": item.kind.value,
        "visibility": item.visibility.value,
        "in_trash": item.in_trash,
        "created_at": _when(item.created_at),
        "updated_at": _when(item.updated_at),
        "shared_at": _when(item.shared_at),
        "lesson_shared_at": _when(item.lesson_shared_at),
        "deleted_at": _when(item.deleted_at),
        "markdown_file": f"evidence/{item.occurred_on.isoformat()}-{slug(item.title)}-{item.id}.md",
        "body": item.body,
        "outcome": outcome,
        "links": [{"url": link.url, "label": link.label} for link in children.links[item.id]],
        "competencies": [
            {
                "framework": slugs.get(tag.framework_id, ""),
                "key": tag.competency_key,
                "name": names.get((tag.framework_id, tag.competency_key), tag.competency_key),
            }
            for tag in children.tags[item.id]
        ],
        "revisions": [
            {
                "number": revision.number,
                "action": revision.action,
                "changed_at": _when(revision.changed_at),
                "changed_by": who,
                "snapshot": revision.snapshot,
            }
            for revision, who in children.revisions[item.id]
        ],
        "comments": [
            {
                "id": comment.id,
                "parent_id": comment.parent_id,
                "author": who,
                "created_at": _when(comment.created_at),
                "body": comment.body,
            }
            for comment, who in children.comments[item.id]
        ],
        "kudos": [
            {"giver": who, "given_at": _when(kudos.created_at)}
            for kudos, who in children.kudos[item.id]
        ],
        "corroborations": [
            _corroboration(c, who, "peer") for c, who in children.corroborations[item.id]
        ],
    }


def _attachments(
    item: Evidence, of_item: list[Attachment], stored: set[str], files: list
) -> list[dict[str, Any]]:
    """The item's files (those in `stored`: the keys storage has); each gets a path in the ZIP
    (unique within the item)."""
    taken: set[str] = set()
    listed = []
    for attachment in of_item:
        key = attachments.key_of(attachment.stored_name)
        path = None
        if key in stored:
            name = _unique(safe_file_name(attachment.original_name), taken)
            path = f"attachments/{item.id}/{name}"
            files.append((path, key))
        listed.append(
            {
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "uploaded_at": _when(attachment.uploaded_at),
                "path": path,  # None: the file was missing from storage when exported
            }
        )
    return listed


def _corroboration(corroboration: Corroboration, who: str, role: str) -> dict[str, Any]:
    return {
        role: who,
        "status": corroboration.status.value,
        "note": corroboration.note,
        "requested_at": _when(corroboration.requested_at),
        "answered_at": _when(corroboration.answered_at),
    }


def _person(person: User) -> dict[str, Any]:
    level = None
    if person.level_id is not None:
        row = db.session.execute(
            select(Level.code, Level.title, Framework.slug, Framework.name)
            .join(FrameworkVersion, FrameworkVersion.id == Level.version_id)
            .join(Framework, Framework.id == FrameworkVersion.framework_id)
            .where(Level.id == person.level_id)
        ).one()
        level = {"code": row[0], "title": row[1], "framework": row[2], "framework_name": row[3]}
    return {
        "name": person.name,
        "email": person.email,
        "role": person.role.value,
        "level": level,
        "time_zone": person.time_zone,
    }


def _children(person_id: int) -> _Children:
    """Seven queries, each joined on the owner: no IN lists that grow with the evidence."""
    mine = Evidence.owner_id == person_id
    return _Children(
        tags=_objects(
            select(EvidenceCompetency)
            .join(Evidence, Evidence.id == EvidenceCompetency.evidence_id)
            .where(mine)
            .order_by(EvidenceCompetency.framework_id, EvidenceCompetency.competency_key)
        ),
        links=_objects(
            select(EvidenceLink)
            .join(Evidence, Evidence.id == EvidenceLink.evidence_id)
            .where(mine)
            .order_by(EvidenceLink.position)
        ),
        files=_objects(
            select(Attachment)
            .join(Evidence, Evidence.id == Attachment.evidence_id)
            .where(mine)
            .order_by(Attachment.id)
        ),
        revisions=_named(
            select(EvidenceRevision, User.name)
            .join(Evidence, Evidence.id == EvidenceRevision.evidence_id)
            .outerjoin(User, User.id == EvidenceRevision.changed_by_id)
            .where(mine)
            .order_by(EvidenceRevision.number)
        ),
        comments=_named(
            select(Comment, User.name)
            .join(Evidence, Evidence.id == Comment.evidence_id)
            .join(User, User.id == Comment.author_id)
            .where(mine)
            .order_by(Comment.created_at, Comment.id)
        ),
        kudos=_named(
            select(Kudos, User.name)
            .join(Evidence, Evidence.id == Kudos.evidence_id)
            .join(User, User.id == Kudos.giver_id)
            .where(mine)
            .order_by(Kudos.created_at, Kudos.id)
        ),
        corroborations=_named(
            select(Corroboration, User.name)
            .join(Evidence, Evidence.id == Corroboration.evidence_id)
            .join(User, User.id == Corroboration.peer_id)
            .where(mine)
            .order_by(Corroboration.requested_at, Corroboration.id)
        ),
    )


def _contributions(person_id: int) -> dict[str, list]:
    """What the person wrote on other people's items (without those items' content)."""
    others = Evidence.owner_id != person_id
    comments = db.session.execute(
        select(Comment, User.name)
        .join(Evidence, Evidence.id == Comment.evidence_id)
        .join(User, User.id == Evidence.owner_id)
        .where(Comment.author_id == person_id, others)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    kudos = db.session.execute(
        select(Kudos, User.name)
        .join(Evidence, Evidence.id == Kudos.evidence_id)
        .join(User, User.id == Evidence.owner_id)
        .where(Kudos.giver_id == person_id, others)
        .order_by(Kudos.created_at, Kudos.id)
    ).all()
    corroborations = db.session.execute(
        select(Corroboration, User.name)
        .join(Evidence, Evidence.id == Corroboration.evidence_id)
        .join(User, User.id == Evidence.owner_id)
        .where(Corroboration.peer_id == person_id)
        .order_by(Corroboration.requested_at, Corroboration.id)
    ).all()
    return {
        "comments": [
            {"on_item_of": owner, "created_at": _when(c.created_at), "body": c.body}
            for c, owner in comments
        ],
        "kudos_given": [{"to": owner, "given_at": _when(k.created_at)} for k, owner in kudos],
        "corroborations_given": [_corroboration(c, owner, "for") for c, owner in corroborations],
    }


def _framework_slugs(framework_ids: set[int]) -> dict[int, str]:
    if not framework_ids:
        return {}
    rows = db.session.execute(
        select(Framework.id, Framework.slug).where(Framework.id.in_(framework_ids))
    ).all()
    return dict(rows)


def _objects(statement) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in db.session.execute(statement).scalars():
        grouped[row.evidence_id].append(row)
    return grouped


def _named(statement) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row, name in db.session.execute(statement).all():
        grouped[row.evidence_id].append((row, name))
    return grouped


# --- small helpers ------------------------------------------------------------------------------


def safe_file_name(name: str) -> str:
    """A name that every file system accepts: no path parts, no characters Windows refuses."""
    cleaned = UNSAFE_IN_PATHS.sub("_", file_types.clean_name(name)).strip(" .")
    return cleaned or f"attachment.{file_types.extension(name) or 'bin'}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}.{ext}" if dot and stem else f"{name}-{number}"
    taken.add(candidate.lower())
    return candidate


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _info(name: str, stamp) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write(archive: zipfile.ZipFile, name: str, stamp, data: bytes) -> None:
    archive.writestr(_info(name, stamp), data)
