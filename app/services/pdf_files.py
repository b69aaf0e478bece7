"""PDFs rendered once per content and kept on disk, under RUNGS_DATA_DIR/pdf-cache.

A file's name holds a digest of the HTML it was rendered from, so changed content gets a new
file and the same content is never rendered twice. Used by the framework and delegation-board
PDFs (their modules say why a render never runs in a web request).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app

from app.extensions import db


def cache_path(stem: str, html: str) -> Path:
    """Where the PDF of this HTML is kept: `<stem>-<digest>.pdf`."""
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    return Path(current_app.config["RUNGS_DATA_DIR"]) / "pdf-cache" / f"{stem}-{digest}.pdf"


def cached(stem: str, html: str) -> Path | None:
    """The PDF of this HTML, if it was rendered already (no render)."""
    path = cache_path(stem, html)
    return path if path.is_file() else None


def render_once(stem: str, html: str, *, stylesheet: str) -> Path:
    """The PDF file of this HTML, rendered unless it is on disk already. Commits the session
    before rendering: on SQLite an open transaction holds the write lock for the whole render."""
    path = cache_path(stem, html)
    if path.exists():
        return path
    db.session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    from app.infra.pdf import render_pdf  # WeasyPrint takes ~0.8 s to import: only here

    data = render_pdf(html, stylesheet=stylesheet)
    # Write then rename, so a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.replace(temporary, path)
    return path
