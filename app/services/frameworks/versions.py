"""A version's life: draft → published → archived, new drafts, and moving people on publish."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app import policy
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.models import FrameworkVersion, Level, User, VersionStatus
from app.models.base import utcnow
from app.services import audit
from app.services.frameworks import document, store
from app.services.people import level_history


@dataclass(frozen=True)
class Stranded:
    """A person whose level code does not exist in the version being published."""

    person_id: int
    name: str
    level_code: str


class LevelMappingRequiredError(ValidationError):
    def __init__(self, stranded: list[Stranded]):
        names = ", ".join(f"{s.name} ({s.level_code})" for s in stranded)
        super().__init__(
            f"{len(stranded)} people are on levels this version removes: {names}. "
            "Choose a level in the new version for each of them, then publish."
        )
        self.stranded = stranded


def published_version(framework_id: int) -> FrameworkVersion | None:
    return db.session.execute(
        select(FrameworkVersion).where(
            FrameworkVersion.framework_id == framework_id,
            FrameworkVersion.status == VersionStatus.PUBLISHED,
        )
    ).scalar_one_or_none()


def stranded_people(version: FrameworkVersion) -> list[Stranded]:
    """People on the published version whose level code the draft does not have."""
    current = published_version(version.framework_id)
    if current is None:
        return []
    new_codes = select(Level.code).where(Level.version_id == version.id)
    rows = db.session.execute(
        select(User.id, User.name, Level.code)
        .join(Level, User.level_id == Level.id)
        .where(Level.version_id == current.id, Level.code.not_in(new_codes))
        .order_by(User.name)
    ).all()
    return [Stranded(*row) for row in rows]


def publish(
    actor,
    version: FrameworkVersion,
    *,
    changelog: str,
    mapping: dict[int, int] | None = None,
    expected_revision: int | None = None,
) -> FrameworkVersion:
    """Publish a draft; the published version before it is archived and its people move along.

    People keep their level code. Where the code disappears, `mapping` (person id → level id of
    this version) must say where they go, or LevelMappingRequiredError lists them. With
    `expected_revision`, a draft changed since the publisher looked at it is refused.
    """
    policy.authorize(actor, "frameworks.manage")
    if not version.is_draft:
        raise ValidationError(
            f"Version {version.number} is {version.status.value}; only a draft can be published."
        )
    if expected_revision is not None and version.revision != expected_revision:
        raise ConflictError(
            "Someone changed this draft after you opened this page. "
            "Look over their change, then publish again."
        )
    report = document.check(store.to_document(store.load_version(version.id)), document.Report())
    if report.errors:
        raise ValidationError("This draft has errors: " + "; ".join(map(str, report.errors)))
    mapping = mapping or {}
    stranded = [s for s in stranded_people(version) if s.person_id not in mapping]
    if stranded:
        raise LevelMappingRequiredError(stranded)
    current = published_version(version.framework_id)
    moved = _move_people(current, version, mapping) if current else 0
    now = utcnow()
    if current is not None:
        current.status, current.archived_at = VersionStatus.ARCHIVED, now
        db.session.flush()  # one published version per framework, also while switching
    version.status, version.published_at = VersionStatus.PUBLISHED, now
    version.changelog = changelog.strip()
    db.session.flush()
    audit.record(
        actor,
        "framework.version_published",
        version,
        after={
            "number": version.number,
            "changelog": version.changelog,
            "archived": current.number if current else None,
            "people_moved": moved,
        },
    )
    return version


def _move_people(
    current: FrameworkVersion, version: FrameworkVersion, mapping: dict[int, int]
) -> int:
    new_levels = {
        level.code: level.id
        for level in db.session.execute(
            select(Level).where(Level.version_id == version.id)
        ).scalars()
    }
    valid_targets = set(new_levels.values())
    rows = db.session.execute(
        select(User, Level.code)
        .join(Level, User.level_id == Level.id)
        .where(Level.version_id == current.id)
    ).all()
    for person, code in rows:
        target = mapping.get(person.id) or new_levels.get(code)
        if target not in valid_targets:
            raise ValidationError(f"Choose a level of version {version.number} for {person.name}.")
        level_history.move(person, target, source="framework")
    db.session.flush()
    return len(rows)


def archive(actor, version: FrameworkVersion) -> FrameworkVersion:
    policy.authorize(actor, "frameworks.manage")
    if version.status is VersionStatus.ARCHIVED:
        raise ValidationError(f"Version {version.number} is already archived.")
    if version.status is VersionStatus.PUBLISHED:
        placed = db.session.execute(
            select(User.id)
            .join(Level, User.level_id == Level.id)
            .where(Level.version_id == version.id)
            .limit(1)
        ).first()
        if placed:
            raise ValidationError(
                "People are placed on this version's levels; publish a newer "
                "version before archiving this one."
            )
    version.status, version.archived_at = VersionStatus.ARCHIVED, utcnow()
    db.session.flush()
    audit.record(actor, "framework.version_archived", version, after={"number": version.number})
    return version


def new_draft(actor, version: FrameworkVersion) -> FrameworkVersion:
    """Start editing: a new draft with the content of `version`, which stays as it is."""
    policy.authorize(actor, "frameworks.manage")
    existing = (
        db.session.execute(
            select(FrameworkVersion).where(
                FrameworkVersion.framework_id == version.framework_id,
                FrameworkVersion.status == VersionStatus.DRAFT,
            )
        )
        .scalars()
        .first()
    )
    if existing is not None:
        raise ValidationError(
            f"Version {existing.number} is already a draft; edit that one, or archive it first."
        )
    doc = store.to_document(store.load_version(version.id))
    return store.create_version(actor, doc, based_on=version)
