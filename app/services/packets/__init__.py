"""Promotion packets: a case's record as a designed, reproducible, safe PDF.

The functions a job, the CLI and the pages call:
- `assemble(case_id, view)` → PacketData (plain frozen values, stable order);
- `html(data)` → the HTML of the templates in templates/pdf/ (also the browser preview);
- `preview_stylesheet()` → the packet's CSS for that preview, its fonts at static URLs;
- `render(case_id, view)` → PDF bytes; `data_version(data)` → SHA-256 of the data;
- `generate(actor, case_id, view)` → the Packet on record (made only when the data changed);
- `versions(actor, case_id)`, `download(actor, packet_id)` (audited), `download_name(packet)`;
- `authorize(actor, case_id, view)` / `may_get(actor, case, view)` / `views_for(actor, case)`;
- `case_panel(actor, case)` → what the case page's packet panel shows.
"""

from __future__ import annotations

from app.models import PacketView

# The job tasks ("packet", "cycle_packets") register when the app imports this package, so that
# jobs.submit knows them in the web process; a job's own process imports the module again.
from app.services.packets import jobs as jobs
from app.services.packets.access import authorize, case_panel, may_get, views_for
from app.services.packets.assembly import assemble
from app.services.packets.data import PacketData
from app.services.packets.rendering import data_version, html, preview_stylesheet, render_html
from app.services.packets.store import download, download_name, generate, versions


def render(case_id: int, view: PacketView | str) -> bytes:
    """The PDF of the case's packet in this view, as of its data now (not stored)."""
    return render_html(html(assemble(case_id, view)))[0]


__all__ = [
    "PacketData",
    "assemble",
    "authorize",
    "case_panel",
    "data_version",
    "download",
    "download_name",
    "generate",
    "html",
    "may_get",
    "preview_stylesheet",
    "render",
    "render_html",
    "versions",
    "views_for",
]
