"""PacketData → HTML (Jinja templates in templates/pdf/) → PDF, and the data's version."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from flask import current_app, render_template, url_for

from app.infra import markdown
from app.services.packets.chart import summary_chart
from app.services.packets.data import PacketData

STYLESHEET = "packet.css"
# The PDF fetcher's scheme for the app's own files in app/static/pdf (app/infra/pdf.py, which is
# not imported here: it imports WeasyPrint, which takes ~0.8 s).
ASSET_SCHEME = "rungs-asset:"


def data_version(data: PacketData) -> str:
    """SHA-256 of the data as canonical JSON: equal data, equal version."""
    text = json.dumps(
        dataclasses.asdict(data),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_plain,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON: {type(value).__name__}")


def html(data: PacketData, *, preview: bool = False) -> str:
    """The packet as HTML: the PDF's input, and the browser preview with `preview=True`."""
    version = data_version(data)
    return render_template(
        "pdf/packet.html",
        data=data,
        chart=summary_chart(data),
        numbers={item.id: n for n, item in enumerate(data.appendix, start=1)},
        md=markdown.render,
        excerpt=markdown.plain_excerpt,
        day=_day,
        moment=_moment,
        stamp=data.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        version=version,
        preview=preview,
    )


def preview_stylesheet() -> str:
    """The packet's stylesheet for the browser preview: the PDF's own, with its `rungs-asset:`
    URLs (which only the PDF fetcher knows, and the CSP refuses) turned into the static URLs of
    the same files, so that the preview shows the packet's fonts."""
    css = (Path(current_app.static_folder) / "pdf" / STYLESHEET).read_text(encoding="utf-8")
    return css.replace(f'url("{ASSET_SCHEME}', f'url("{url_for("static", filename="pdf/")}')


def render_html(document: str) -> tuple[bytes, int]:
    """The PDF of a packet's HTML, and its number of pages."""
    from app.infra.pdf import render_pdf_pages  # WeasyPrint takes ~0.8 s to import: only here

    return render_pdf_pages(document, stylesheet=STYLESHEET)


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def _moment(value: datetime) -> str:
    return f"{value.day} {value:%b %Y %H:%M} UTC"
