"""A framework version as a printable PDF, rendered once per content and stored once.

The render takes seconds for a large framework, so it never runs in a web request: the version
page asks `request_pdf`, which gives the stored PDF when this content was rendered already, or
else a job ("framework_pdf", run in its own process with the job runner's time and memory limits)
that renders it. On SQLite a transaction holds the write lock (BEGIN IMMEDIATE), and a render
inside one made other people's requests fail with "database is locked" (bench/framework_pdf.py),
so `version_pdf` ends the transaction that read the version before it renders.
`flask frameworks pdf` calls `version_pdf` directly.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from typing import Any

from flask import render_template
from sqlalchemy import select

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.infra.pdf_text import bounded_text
from app.models import Framework, FrameworkVersion, Job, User
from app.services import jobs, pdf_files, storage
from app.services.frameworks import store

KIND = "framework_pdf"


def version_html(version: FrameworkVersion) -> str:
    """The HTML of the PDF; needs a version loaded with store.load_version."""
    cells: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for area in version.areas:
        for competency in area.competencies:
            for cell in competency.expectations:
                cells[cell.level_id][area.id].append((competency, cell))
    moment = version.published_at or version.created_at
    return render_template(
        "pdf/framework.html",
        version=version,
        cells_by_level=cells,
        status=f"published {moment:%d %B %Y}" if version.published_at else version.status.value,
        stamp=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        clip=bounded_text,  # whatever was stored, no field reaches the PDF unbounded
    )


def _stem(version: FrameworkVersion) -> str:
    return f"{version.framework.slug}-v{version.number}"


def cached_pdf(version: FrameworkVersion) -> str | None:
    """The PDF of the version's content as it is now, if it was rendered already (no render)."""
    return pdf_files.cached(_stem(version), version_html(version))


def version_pdf(version: FrameworkVersion) -> str:
    """The PDF file of the version. The same content is rendered only once.

    Commits the session before a render (see the module's docstring): call it with nothing
    else pending, and load the version again to use it after a render (the commit expired it)."""
    return pdf_files.render_once(_stem(version), version_html(version), stylesheet="framework.css")


def download_name(version: FrameworkVersion) -> str:
    return f"{version.framework.slug}-v{version.number}.pdf"


def request_pdf(actor: User, version: FrameworkVersion) -> str | Job:
    """The stored PDF's key when this content was rendered already; else the job that makes it: this
    person's unfinished one for the version, or a new one (flushed; the caller commits).

    Whoever may view the version may ask (the caller loaded it with store.version_for)."""
    key = cached_pdf(version)
    if key is not None:
        return key
    return jobs.unfinished_for(actor, KIND, version_id=version.id) or jobs.submit(
        actor, KIND, {"version_id": version.id, "actor_id": actor.id}
    )


def _about(viewer: User, all_params: list[dict[str, Any]]) -> list[jobs.About | None]:
    """Names each version ("Product Management, version 2") and leads back to its matrix, while
    the viewer may read it: one query."""
    ids = jobs.ids_of(all_params, "version_id")
    found = {
        version.id: jobs.About(
            f"{version.name}, version {version.number}",
            "frameworks.version",
            {"slug": slug, "number": version.number},
        )
        for version, slug in db.session.execute(
            select(FrameworkVersion, Framework.slug)
            .join(Framework, Framework.id == FrameworkVersion.framework_id)
            .where(
                FrameworkVersion.id.in_(set(ids) - {None}),
                policy.where("framework_version.view", viewer),
            )
        )
    }
    return [found.get(version_id) for version_id in ids]


@jobs.register(KIND, label="Career path PDF", about=_about)
def render_version(params: dict[str, Any], progress: jobs.Progress) -> jobs.Result:
    """The version's PDF, for the person who asked: rendered unless this content was rendered
    already; the job's file is a copy. Access is checked again: the job may run a while after
    the request (a draft published or replaced, a person deactivated)."""
    actor_id, version_id = params.get("actor_id"), params.get("version_id")
    actor = db.session.get(User, actor_id) if isinstance(actor_id, int) else None
    if actor is None or not actor.is_active or not isinstance(version_id, int):
        raise NotFoundError("Not found.")
    progress(5, "Reading the career path")
    version = store.load_version(version_id)
    policy.authorize(actor, "framework_version.view", version)
    name = download_name(version)
    progress(15, f"Rendering {version.name}, version {version.number}")
    cached = version_pdf(version)
    progress(95, "Rendered")
    path, relative = jobs.output_file(".pdf")
    with storage.open(cached) as source, path.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return jobs.Result(relative, name)
