"""The agreed delegation board as a PDF, rendered once per content and stored once.

As for a framework version's PDF (app/services/frameworks/pdf.py): a render never runs in a web
request. Asking gives the stored PDF when this content was rendered already, or else a job
("delegation_pdf", in its own process) that renders it through app/infra/pdf.py's deny-by-default
fetcher. On SQLite a transaction holds the write lock, so `board_pdf` ends the transaction that
read the board before it renders. The PDF shows the agreed board only, never a pick, so everyone
who may read the board gets the same file.
"""

from __future__ import annotations

import shutil
from typing import Any

from flask import render_template
from sqlalchemy import select

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.infra.pdf_text import bounded
from app.models import DelegationBoard, Job, User
from app.services import jobs, pdf_files, storage
from app.services.delegation import pages

KIND = "delegation_pdf"


def board_html(page: pages.BoardPage) -> str:
    """The HTML of the PDF, from the board page's data (the agreed board and its history)."""
    stamp = page.last_closed_at
    return render_template(
        "pdf/delegation.html",
        page=bounded(page),  # whatever was stored, no field reaches the PDF unbounded
        counts=page.counts(),
        stamp=stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else "",
    )


def _stem(page: pages.BoardPage) -> str:
    return f"delegation-{page.person_id}"


def download_name(page: pages.BoardPage) -> str:
    slug = "-".join(page.person_name.lower().split()) or "person"
    return f"delegation-board-{slug}.pdf"


def cached_pdf(page: pages.BoardPage) -> str | None:
    """The PDF of the board as it is now, if it was rendered already (no render)."""
    return pdf_files.cached(_stem(page), board_html(page))


def board_pdf(page: pages.BoardPage) -> str:
    """The PDF file of the board; the same content is rendered once. Commits the session before
    rendering (see the module's docstring)."""
    return pdf_files.render_once(_stem(page), board_html(page), stylesheet="delegation.css")


def request_pdf(actor: User, page: pages.BoardPage) -> str | Job:
    """The stored PDF's key when this content was rendered already; else the job that makes it: this
    person's unfinished one for the board, or a new one (flushed; the caller commits). The
    caller read `page` with pages.board_page, which checked that the actor may read it."""
    if not page.is_board:
        raise NotFoundError("Not found.")
    key = cached_pdf(page)
    if key is not None:
        return key
    found = jobs.unfinished_for(actor, KIND, person_id=page.person_id)
    return found or jobs.submit(actor, KIND, {"person_id": page.person_id, "actor_id": actor.id})


def _about(viewer: User, all_params: list[dict[str, Any]]) -> list[jobs.About | None]:
    """Names each board ("Sofia Reyes's delegation board") and leads back to it, while the
    viewer may read it: one query."""
    ids = jobs.ids_of(all_params, "person_id")
    found = {
        person_id: jobs.About(
            f"{name}\u2019s delegation board", "delegation.board", {"person_id": person_id}
        )
        for person_id, name in db.session.execute(
            select(DelegationBoard.person_id, User.name)
            .join(User, User.id == DelegationBoard.person_id)
            .where(
                DelegationBoard.person_id.in_(set(ids) - {None}),
                policy.where("delegation.view", viewer),
            )
        )
    }
    return [found.get(person_id) for person_id in ids]


@jobs.register(KIND, label="Delegation board PDF", about=_about)
def render_board(params: dict[str, Any], progress: jobs.Progress) -> jobs.Result:
    """The board's PDF for the person who asked; access is checked again (the job may run a
    while after the request)."""
    actor_id, person_id = params.get("actor_id"), params.get("person_id")
    actor = db.session.get(User, actor_id) if isinstance(actor_id, int) else None
    if actor is None or not actor.is_active or not isinstance(person_id, int):
        raise NotFoundError("Not found.")
    progress(10, "Reading the board")
    page = pages.board_page(actor, person_id)
    if not page.is_board:
        raise NotFoundError("Not found.")
    name = download_name(page)
    progress(30, "Rendering the agreed board")
    cached = board_pdf(page)
    progress(95, "Rendered")
    path, relative = jobs.output_file(".pdf")
    with storage.open(cached) as source, path.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return jobs.Result(relative, name)
