"""A framework's versions as a history, and what changed between any two of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import AuditEvent, Framework, FrameworkVersion, User, VersionStatus
from app.services.frameworks import store
from app.services.frameworks.diff import VersionDiff, diff_documents


@dataclass(frozen=True)
class HistoryEntry:
    version: FrameworkVersion
    created_by: str | None  # a person's name; None when made at the command line
    published_by: str | None
    based_on: int | None  # the number of the version it was made from, when visible
    previous: int | None  # the next older visible version, to compare with


@dataclass(frozen=True)
class History:
    framework: Framework
    entries: list[HistoryEntry]  # newest first
    may_manage: bool  # the head of product: open the draft or start one from here

    @property
    def numbers(self) -> list[int]:
        return [entry.version.number for entry in self.entries]

    @property
    def draft_number(self) -> int | None:
        """The draft's number (drafts are listed only for those who manage)."""
        return next((e.version.number for e in self.entries if e.version.is_draft), None)

    @property
    def new_draft_from(self) -> int | None:
        """The version a new draft would copy: the published one, else the newest; None when
        the viewer may not start one or a draft exists."""
        if not self.may_manage or self.draft_number is not None or not self.entries:
            return None
        published = [
            e.version.number for e in self.entries if e.version.status is VersionStatus.PUBLISHED
        ]
        return published[0] if published else self.entries[0].version.number


@dataclass(frozen=True)
class Comparison:
    framework: Framework
    old: FrameworkVersion
    new: FrameworkVersion
    diff: VersionDiff
    numbers: list[int]  # every version the actor may see, newest first, to pick another pair


def version_history(actor, slug: str) -> History:
    """Every version of the framework the actor may see (drafts: head of product), newest first.

    Three queries whatever the number of versions: the framework, the versions with their
    creators, and who published them.
    """
    framework = store.get_framework(slug)
    rows = [
        (version, creator)
        for version, creator in _versions_with_creators(framework.id)
        if policy.can(actor, "framework_version.view", version)
    ]
    publishers = _publishers([version.id for version, _ in rows])
    numbers = {version.id: version.number for version, _ in rows}
    entries = [
        HistoryEntry(
            version=version,
            created_by=creator,
            published_by=publishers.get(version.id),
            based_on=numbers.get(version.based_on_id),
            previous=rows[i + 1][0].number if i + 1 < len(rows) else None,
        )
        for i, (version, creator) in enumerate(rows)
    ]
    return History(framework, entries, policy.can(actor, "frameworks.manage"))


def compare_versions(actor, slug: str, old_number: int, new_number: int) -> Comparison:
    """The difference from one version to another; NotFoundError for one the actor may not see."""
    old = store.version_for(actor, slug, old_number)
    new = old if new_number == old_number else store.version_for(actor, slug, new_number)
    numbers = [
        version.number
        for version, _ in _versions_with_creators(old.framework_id)
        if policy.can(actor, "framework_version.view", version)
    ]
    diff = diff_documents(store.to_document(old), store.to_document(new))
    return Comparison(old.framework, old, new, diff, numbers)


def _versions_with_creators(framework_id: int) -> list[tuple[FrameworkVersion, str | None]]:
    return [
        (version, name)
        for version, name in db.session.execute(
            select(FrameworkVersion, User.name)
            .outerjoin(User, User.id == FrameworkVersion.created_by_id)
            .where(FrameworkVersion.framework_id == framework_id)
            .order_by(FrameworkVersion.number.desc())
        )
    ]


def _publishers(version_ids: list[int]) -> dict[int, str]:
    """Who published each version, from the audit log (a person, not the command line)."""
    rows = db.session.execute(
        select(AuditEvent.entity_id, User.name)
        .join(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.action == "framework.version_published",
            AuditEvent.entity_type == FrameworkVersion.__tablename__,
            AuditEvent.entity_id.in_(version_ids),
        )
        .order_by(AuditEvent.id)
    )
    return {version_id: name for version_id, name in rows}
