"""A framework version as a PDF: served from disk once made, made by a job otherwise.

Nothing here renders: asking for the PDF (a POST, since it may start a job) sends the person to
the file when this content was rendered already, or else to the page of the job that makes it
(app/services/frameworks/pdf.py).
"""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app import access
from app.downloads import send_stored
from app.extensions import db
from app.models import Job
from app.services import storage
from app.services.frameworks import pdf, store

bp = Blueprint("framework_pdf", __name__, url_prefix="/frameworks")


def _actor():
    return current_user._get_current_object()


@bp.get("/<slug>/v<int:number>.pdf")
@access.requires("frameworks.view")
def download(slug: str, number: int):
    """The version as a PDF when it was made already; otherwise a page that offers to make it."""
    version = store.version_for(_actor(), slug, number)
    key = pdf.cached_pdf(version)
    if key is None:
        return render_template("frameworks/pdf.html", version=version, slug=slug)
    return send_stored(
        storage.open(key),
        mimetype="application/pdf",
        download_name=pdf.download_name(version),
        max_age=0,
    )


@bp.post("/<slug>/v<int:number>/pdf")
@access.requires("frameworks.view")
def make(slug: str, number: int):
    """Ask for the version's PDF: the file when it exists, else the job that makes it."""
    version = store.version_for(_actor(), slug, number)
    outcome = pdf.request_pdf(_actor(), version)
    if not isinstance(outcome, Job):
        return redirect(url_for(".download", slug=slug, number=number), 303)
    db.session.commit()  # the job is handed to a worker after the commit
    return redirect(url_for("jobs.show", job_id=outcome.id), 303)
