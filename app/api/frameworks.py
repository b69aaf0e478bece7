"""Career frameworks: the catalogue, versions, one version's content and its export files."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pydantic
from flask import Response
from flask_login import current_user

from app.models import CellStatus, DaciRole, FrameworkVersion, IndicatorKind, VersionStatus
from app.services.frameworks import reading
from app.services.frameworks.document import FrameworkDoc
from app.services.frameworks.ladder import FrameworkSummary, VersionSummary

from .core import operation


class VersionOut(pydantic.BaseModel):
    id: int
    framework_id: int
    number: int
    status: VersionStatus
    name: str
    description: str
    changelog: str
    created_at: datetime
    published_at: datetime | None
    archived_at: datetime | None

    @classmethod
    def of(cls, version: FrameworkVersion) -> VersionOut:
        return cls.model_validate(version, from_attributes=True)


class VersionListItem(VersionOut):
    level_count: int
    competency_count: int

    @classmethod
    def of_summary(cls, summary: VersionSummary) -> VersionListItem:
        return cls(
            **VersionOut.of(summary.version).model_dump(),
            level_count=summary.level_count,
            competency_count=summary.competency_count,
        )


class FrameworkOut(pydantic.BaseModel):
    id: int
    slug: str
    name: str
    description: str
    published_version_id: int | None = pydantic.Field(
        description="The version people are placed on; null before the first is published."
    )

    @classmethod
    def of(cls, summary: FrameworkSummary) -> FrameworkOut:
        framework = summary.framework
        published = summary.published
        return cls(
            id=framework.id,
            slug=framework.slug,
            name=framework.name,
            description=framework.description,
            published_version_id=published.version.id if published else None,
        )


class FrameworkList(pydantic.BaseModel):
    items: list[FrameworkOut]


class VersionList(pydantic.BaseModel):
    items: list[VersionListItem] = pydantic.Field(description="Newest first.")


# The content of a version: the same document as the YAML and CSV exports.
class DecisionRightOut(pydantic.BaseModel):
    decision: str
    role: DaciRole
    delegation: int = pydantic.Field(ge=1, le=7)


class LevelOut(pydantic.BaseModel):
    code: str
    title: str
    rank: int
    summary: str
    scope: str
    typical_experience: str
    decision_rights: list[DecisionRightOut]


class TrackOut(pydantic.BaseModel):
    key: str
    name: str
    levels: list[LevelOut]


class IndicatorOut(pydantic.BaseModel):
    kind: IndicatorKind
    text: str


class CellOut(pydantic.BaseModel):
    status: CellStatus
    text: str
    indicators: list[IndicatorOut]


class CompetencyOut(pydantic.BaseModel):
    key: str
    name: str
    short_name: str
    description: str
    tracks: list[str] | None = pydantic.Field(description="Track keys; null for every track.")
    expectations: dict[str, CellOut] = pydantic.Field(description="By level code.")


class AreaOut(pydantic.BaseModel):
    key: str
    name: str
    description: str
    competencies: list[CompetencyOut]


class DocumentOut(pydantic.BaseModel):
    slug: str
    name: str
    description: str
    tracks: list[TrackOut]
    areas: list[AreaOut]

    @classmethod
    def of(cls, doc: FrameworkDoc) -> DocumentOut:
        return cls.model_validate(doc, from_attributes=True)


class VersionDetail(VersionOut):
    document: DocumentOut


@operation(
    "GET",
    "/frameworks",
    tag="Frameworks",
    summary="Career frameworks",
    action="frameworks.view",
    response=FrameworkList,
)
def list_frameworks():
    """Every framework with a version you may read (drafts only for the head of product)."""
    found = reading.frameworks(current_user)
    return FrameworkList(items=[FrameworkOut.of(summary) for summary in found])


@operation(
    "GET",
    "/frameworks/<int:framework_id>",
    tag="Frameworks",
    summary="One framework",
    action="frameworks.view",
    response=FrameworkOut,
)
def get_framework(framework_id: int):
    return FrameworkOut.of(reading.framework(current_user, framework_id))


@operation(
    "GET",
    "/frameworks/<int:framework_id>/versions",
    tag="Frameworks",
    summary="A framework's versions",
    action="frameworks.view",
    response=VersionList,
)
def list_versions(framework_id: int):
    """Published, archived and (for the head of product) draft versions, newest first."""
    summary = reading.framework(current_user, framework_id)
    versions = [summary.published, *summary.drafts, *summary.archived]
    listed = sorted((v for v in versions if v), key=lambda v: v.version.number, reverse=True)
    return VersionList(items=[VersionListItem.of_summary(v) for v in listed])


@operation(
    "GET",
    "/frameworks/<int:framework_id>/versions/<int:version_id>",
    tag="Frameworks",
    summary="One version with its content",
    action="frameworks.view",
    response=VersionDetail,
)
def get_version(framework_id: int, version_id: int):
    """Tracks, levels, decision rights, areas, competencies and every expectation: the JSON
    form of the YAML and CSV exports."""
    version, doc = reading.version_document(current_user, framework_id, version_id)
    return VersionDetail(**VersionOut.of(version).model_dump(), document=DocumentOut.of(doc))


class ExportQuery(pydantic.BaseModel):
    format: Literal["yaml", "csv"] = pydantic.Field(
        default="yaml", description="Rungs' YAML format, or its CSV format."
    )


@operation(
    "GET",
    "/frameworks/<int:framework_id>/versions/<int:version_id>/export",
    tag="Frameworks",
    summary="One version as a file to import",
    action="frameworks.view",
    query=ExportQuery,
    media_types=("text/yaml", "text/csv"),
)
def export_version(framework_id: int, version_id: int, query: ExportQuery):
    """The same file as the page's download, which Rungs (or another instance) can import."""
    download = reading.version_file(current_user, framework_id, version_id, query.format)
    return Response(
        download.text,
        mimetype=download.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )
