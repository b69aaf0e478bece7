"""Whole drafts: a new framework from five names, an uploaded file, the other draft."""

from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.core.errors import ValidationError
from app.extensions import db
from app.models import Framework, FrameworkVersion, VersionStatus
from app.services.frameworks import document, files, store
from app.services.frameworks.document import (
    AreaDoc,
    CompetencyDoc,
    FrameworkDoc,
    LevelDoc,
    TrackDoc,
)
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.inputs import KEY_MAX, SLUG_MAX, NewFramework
from app.services.frameworks.keys import slugify

NEW_FRAMEWORK_FIELDS = {
    "slug": "slug",
    "name": "name",
    "tracks[0].key": "track_key",
    "tracks[0].levels[0].code": "level_code",
    "areas[0].key": "area_name",
    "areas[0].competencies[0].key": "competency_name",
}


def create_framework(actor, data: NewFramework) -> FrameworkVersion:
    """A new framework as draft version 1: one track, one level, one area, one competency."""
    policy.authorize(actor, "frameworks.manage")
    slug = _free_slug(data.slug)
    area_name = inputs.line(data.area_name, "area_name", "the name of the first area")
    competency_name = inputs.line(data.competency_name, "competency_name", "the first competency")
    doc = FrameworkDoc(
        slug=slug,
        name=inputs.line(data.name, "name", "a name"),
        description=inputs.prose(data.description, "description"),
        tracks=[_first_track(data)],
        areas=[
            AreaDoc(
                slugify(area_name, "area"),
                area_name,
                competencies=[
                    CompetencyDoc(slugify(competency_name, "competency"), competency_name)
                ],
            )
        ],
    )
    report = document.check(doc, document.Report())
    if report.errors:
        problem = report.errors[0]
        raise ValidationError(problem.message, field=NEW_FRAMEWORK_FIELDS.get(problem.path))
    return store.load_version(store.create_version(actor, doc).id)


def _free_slug(value: str) -> str:
    slug = value.strip()
    if not slug:
        raise ValidationError("Enter a slug.", field="slug")
    if len(slug) > SLUG_MAX:
        raise ValidationError(f"Use at most {SLUG_MAX} characters.", field="slug")
    taken = db.session.execute(select(Framework).where(Framework.slug == slug)).scalar_one_or_none()
    if taken is not None:
        raise ValidationError(
            f'"{slug}" is the slug of {taken.name} already; choose another one.', field="slug"
        )
    return slug


def _first_track(data: NewFramework) -> TrackDoc:
    return TrackDoc(
        inputs.key(data.track_key, data.track_name, "track_key", KEY_MAX),
        inputs.line(data.track_name, "track_name", "the name of the first track"),
        [
            LevelDoc(
                code=inputs.code(data.level_code, "level_code"),
                title=inputs.line(data.level_title, "level_title", "the title of the first level"),
                rank=1,
            )
        ],
    )


def import_upload(
    actor, data: bytes, *, filename: str, fmt: str = "", publish: bool = False, changelog: str = ""
):
    """Import an uploaded file (format from its name or content unless given): files.Imported,
    its version loaded whole."""
    fmt = fmt or files.detect_format(filename, data)
    imported = files.import_text(
        actor, files.decode(data), fmt, filename=filename, publish=publish, changelog=changelog
    )
    version = store.load_version(imported.version.id)
    return files.Imported(version, imported.report, is_new=imported.is_new)


def other_draft(version: FrameworkVersion) -> FrameworkVersion | None:
    """Another draft of the same framework, if there is one (there is one draft at a time)."""
    return (
        db.session.execute(
            select(FrameworkVersion).where(
                FrameworkVersion.framework_id == version.framework_id,
                FrameworkVersion.status == VersionStatus.DRAFT,
                FrameworkVersion.id != version.id,
            )
        )
        .scalars()
        .first()
    )
