"""PDFs rendered once per content and stored (app/services/storage.py) under pdf-cache/.

A file's key holds a digest of the HTML it was rendered from, so changed content gets a new
file and the same content is never rendered twice. Used by the framework and delegation-board
PDFs (their modules say why a render never runs in a web request).
"""

from __future__ import annotations

import hashlib

from app.extensions import db
from app.services import storage

FOLDER = "pdf-cache"


def cache_key(stem: str, html: str) -> str:
    """Where the PDF of this HTML is kept: `pdf-cache/<stem>-<digest>.pdf`."""
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    return f"{FOLDER}/{stem}-{digest}.pdf"


def cached(stem: str, html: str) -> str | None:
    """The key of the PDF of this HTML, if it was rendered already (no render)."""
    key = cache_key(stem, html)
    return key if storage.exists(key) else None


def render_once(stem: str, html: str, *, stylesheet: str) -> str:
    """The key of the PDF of this HTML, rendered and stored unless it is stored already.
    Commits the session before rendering (on SQLite an open transaction holds the write lock
    for the whole render) and after storing it."""
    key = cache_key(stem, html)
    if storage.exists(key):
        return key
    db.session.commit()
    from app.infra.pdf import render_pdf  # WeasyPrint takes ~0.8 s to import: only here

    storage.put(key, render_pdf(html, stylesheet=stylesheet))
    db.session.commit()
    return key
