"""Promotion packets in the browser: the HTML preview, the case's packet panel (generate as a job,
the versions on record, their download) and a cycle's ZIP export (as a job).

Nothing here renders a PDF: generating and exporting submit a job (app/services/packets/jobs.py)
and send the person to its page, which shows the progress and offers the file.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user

from app import access, policy
from app.core.errors import NotFoundError
from app.downloads import send_stored
from app.extensions import db
from app.infra import file_types
from app.packets.forms import ExportForm, GenerateForm
from app.services import jobs, packets
from app.services.promotions import loading

bp = Blueprint("packets", __name__)

# A downloaded packet is never shown by the browser: no scripts, no plugins (as job downloads).
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


def _actor():
    return current_user._get_current_object()


@bp.get("/cases/<int:case_id>/packet/preview")
@access.requires("case.view")
def preview(case_id: int):
    """The packet of a case as HTML, in the view asked for (committee by default)."""
    view = request.args.get("view", "committee")
    packets.authorize(current_user, case_id, view)
    return packets.html(packets.assemble(case_id, view), preview=True)


@bp.get("/packets/preview.css")
@access.requires("home.view")
def preview_stylesheet():
    """The packet's stylesheet for the preview (signed-in people only, like the preview), its
    fonts served from the app's static files."""
    return Response(packets.preview_stylesheet(), mimetype="text/css")


@bp.post("/cases/<int:case_id>/packet")
@access.requires("case.view")
def generate(case_id: int):
    """Generate the case's packet in one view, as a job; its page shows the progress."""
    form = GenerateForm()
    view = form.view.data or ""
    packets.authorize(_actor(), case_id, view)  # 404 unless this person may have this view
    job = jobs.submit(
        _actor(), "packet", {"case_id": case_id, "view": view, "actor_id": current_user.id}
    )
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.post("/promotions/<int:cycle_id>/packets")
@access.requires("cycles.manage")
def export(cycle_id: int):
    """Every packet of the cycle in one view, as a ZIP made by a job."""
    cycle = loading.cycle(cycle_id)
    policy.authorize(_actor(), "cycles.manage", cycle)
    form = ExportForm()
    if not form.validate():
        raise NotFoundError("Not found.")  # only a forged form sends another view
    job = jobs.submit(
        _actor(),
        "cycle_packets",
        {"cycle_id": cycle.id, "view": form.view.data, "actor_id": current_user.id},
    )
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.get("/packets/<int:packet_id>/download")
@access.requires("case.view")
def download(packet_id: int):
    """A stored packet, always as a download; who downloaded which is in the audit log."""
    packet, file = packets.download(_actor(), packet_id)
    name = packets.download_name(packet)
    db.session.commit()  # the audit entry
    response = send_stored(
        file, mimetype="application/pdf", as_attachment=True, download_name=name, max_age=0
    )
    response.headers["Content-Disposition"] = file_types.content_disposition(name)
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response
