"""A framework version as a PDF."""

import io

from flask import Blueprint, send_file
from flask_login import current_user

from app import policy
from app.services.frameworks import pdf, store

bp = Blueprint("framework_pdf", __name__, url_prefix="/frameworks")


@bp.route("/<slug>/v<int:number>.pdf")
@policy.requires("frameworks.view")
def download(slug: str, number: int):
    """The version as a printable PDF (rendered on first request, then served from disk)."""
    version = store.version_for(current_user._get_current_object(), slug, number)
    data = pdf.version_pdf(version).read_bytes()
    return send_file(
        io.BytesIO(data), mimetype="application/pdf", download_name=f"{slug}-v{number}.pdf"
    )
