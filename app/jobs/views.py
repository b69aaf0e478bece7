"""Job pages: a job's progress and its download (for whoever started it), and the list of yours."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, jsonify, render_template, url_for
from flask_login import current_user

from app import access
from app.downloads import send_stored
from app.extensions import db
from app.forms import act, saved
from app.infra import file_types
from app.request_input import page_number
from app.services import jobs

bp = Blueprint("jobs", __name__)

# The file is never shown by the browser: no scripts, no plugins, no same-origin access.
DOWNLOAD_POLICY = "default-src 'none'; sandbox"
# Jobs are private to the person who started them: the policy's job.view (404 for anyone else).
ROUTE_RULE = "job.view"


def _actor():
    return current_user._get_current_object()


@bp.get("/jobs")
@access.requires(ROUTE_RULE)
def index():
    """The jobs you started, newest first."""
    view = jobs.jobs_page(_actor(), page_number())
    return render_template(
        "jobs/index.html", page=view.page, labels=view.labels, abouts=view.abouts
    )


@bp.get("/jobs/<int:job_id>")
@access.requires(ROUTE_RULE)
def show(job_id: int):
    """A job's progress; its file or its error once finished."""
    page = jobs.job_page(_actor(), job_id)
    if not page.job.status.is_finished:
        jobs.ensure_dispatching()
    return render_template(
        "jobs/show.html",
        job=page.job,
        label=page.label,
        about=page.about,
        may_cancel=page.may_cancel,
    )


@bp.post("/jobs/<int:job_id>/cancel")
@access.requires(ROUTE_RULE)
def cancel(job_id: int):
    """Cancel a job that has not finished (an export of the wrong packets, say); back to its
    page, which says so or why it could not be."""
    return act(
        lambda: jobs.cancel(_actor(), job_id),
        back=url_for("jobs.show", job_id=job_id),
        done=lambda _job: saved("The job was cancelled.", "jobs.show", job_id=job_id),
    )


@bp.get("/jobs/<int:job_id>/status")
@access.requires(ROUTE_RULE)
def status(job_id: int):
    """A job's progress as JSON, polled by the job page's script."""
    job = jobs.get_for(_actor(), job_id)
    response = jsonify(
        status=job.status.value,
        label=job.status.label,
        progress=job.progress,
        message=job.message,
        finished=job.status.is_finished,
        url=url_for("jobs.show", job_id=job.id),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/download")
@access.requires(ROUTE_RULE)
def download(job_id: int):
    """The file a finished job made, always as a download."""
    job, file = jobs.file_for_download(_actor(), job_id)
    db.session.commit()  # the audit entry
    name = job.result_name or job.result_path.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = send_stored(
        file, mimetype=content_type, as_attachment=True, download_name=name, max_age=0
    )
    response.headers["Content-Disposition"] = file_types.content_disposition(name)
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response
