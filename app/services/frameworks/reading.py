"""Frameworks by id, for machines (the API): the catalogue, one framework, its versions, one
version as a document and as a file. The same rules as the pages: drafts only for those who
manage frameworks (framework_version.view), and a framework with nothing readable is not found."""

from __future__ import annotations

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import FrameworkVersion
from app.services.frameworks import ladder, store
from app.services.frameworks.document import FrameworkDoc
from app.services.frameworks.ladder import Download, FrameworkSummary


def frameworks(actor) -> list[FrameworkSummary]:
    """Every framework the actor may read something of, by name."""
    return ladder.catalogue(actor)


def framework(actor, framework_id: int) -> FrameworkSummary:
    for summary in ladder.catalogue(actor):
        if summary.framework.id == framework_id:
            return summary
    raise NotFoundError("Not found.")


def _readable(actor, framework_id: int, version_id: int) -> FrameworkVersion:
    version = db.session.get(FrameworkVersion, version_id)
    if version is None or version.framework_id != framework_id:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "framework_version.view", version)
    return version


def version_document(
    actor, framework_id: int, version_id: int
) -> tuple[FrameworkVersion, FrameworkDoc]:
    """One version with everything it holds, as the document its exports are made from."""
    _readable(actor, framework_id, version_id)
    version = store.load_version(version_id)
    return version, store.to_document(version)


def version_file(actor, framework_id: int, version_id: int, fmt: str) -> Download:
    """One version as a YAML or CSV file, the formats Rungs imports (as the page's download)."""
    version = store.load_version(_readable(actor, framework_id, version_id).id)
    return ladder.export_file(actor, version.framework.slug, version.number, fmt)
