"""A framework version as a printable PDF, rendered once per content and kept on disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from pathlib import Path

from flask import current_app, render_template

from app.models import FrameworkVersion


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
    )


def version_pdf(version: FrameworkVersion) -> Path:
    """The PDF file of the version. The same content is rendered only once."""
    html = version_html(version)
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    directory = Path(current_app.config["RUNGS_DATA_DIR"]) / "pdf-cache"
    path = directory / f"{version.framework.slug}-v{version.number}-{digest}.pdf"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        from app.services.pdf import render_pdf  # WeasyPrint takes ~0.8 s to import: only here

        data = render_pdf(html, stylesheet="framework.css")
        # Write then rename, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    return path
