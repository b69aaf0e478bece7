"""Attachments on evidence: add, download (always as a file) and remove."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app import access, policy
from app.attachments.forms import AttachmentForm, ConfirmForm
from app.downloads import send_stored
from app.errors import render_error
from app.forms import act, saved, submit
from app.infra import file_types
from app.infra.sizes import size_label
from app.services import evidence as evidence_service
from app.services.evidence import attachments

bp = Blueprint("attachments", __name__)

# The file is never shown by the browser: no scripts, no plugins, no same-origin access.
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


def _actor():
    return current_user._get_current_object()


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    return size_label(size)


@bp.app_template_filter("file_label")
def file_label(content_type: str) -> str:
    return file_types.label_of(content_type)


@bp.errorhandler(413)
def too_large(_error):
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    return render_error(
        413,
        f"Attachments can be at most {attachments.megabytes(limit)}. Make the file smaller "
        "(export a PDF, crop a screenshot) or add a link to it instead. Nothing was saved.",
    )


@bp.route("/evidence/<int:evidence_id>/attachments", methods=["GET", "POST"])
@access.requires("evidence.edit")
def upload(evidence_id: int):
    """Attach a file to one of your evidence items."""
    evidence = evidence_service.get_evidence(evidence_id)
    policy.authorize(_actor(), "evidence.edit", evidence)
    form = AttachmentForm(prefix="attachment")

    def page(status: int, error=None):
        return render_template(
            "attachments/upload.html",
            evidence=evidence,
            files=attachments.panel(_actor(), evidence),
            form=form,
            back=evidence_page(evidence_id),
        ), status

    return submit(
        form,
        lambda: attachments.add_attachment(
            _actor(), evidence, form.file.data.filename, form.file.data.stream
        ),
        page=page,
        done=lambda added: saved(
            f"“{added.original_name}” was attached.",
            "evidence.show",
            evidence_id=evidence_id,
            _anchor="attachments",
        ),
    )


@bp.get("/attachments/<int:attachment_id>")
@access.requires("evidence.view")
def download(attachment_id: int):
    """Download a file of an item you may see; always as a download, never shown in the page."""
    attachment, file = attachments.file_for_download(_actor(), attachment_id)
    response = send_stored(
        file,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=file_types.ascii_name(attachment.original_name),
        etag=attachment.sha256,
    )
    response.headers["Content-Disposition"] = file_types.content_disposition(
        attachment.original_name
    )
    response.headers["Content-Type"] = attachment.content_type  # as stored, charset and all
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/attachments/<int:attachment_id>/delete")
@access.requires("evidence.edit")
def confirm_remove(attachment_id: int):
    """Ask before a file is removed for good."""
    attachment = attachments.get_attachment(attachment_id)
    policy.authorize(_actor(), "evidence.edit", attachment.evidence)
    return render_template(
        "attachments/remove.html",
        attachment=attachment,
        form=ConfirmForm(),
        back=evidence_page(attachment.evidence_id, "attachments"),
    )


@bp.post("/attachments/<int:attachment_id>/delete")
@access.requires("evidence.edit")
def remove(attachment_id: int):
    """Remove a file from one of your items."""
    attachment = attachments.get_attachment(attachment_id)
    name, back = attachment.original_name, evidence_page(attachment.evidence_id, "attachments")
    return act(
        lambda: attachments.remove_attachment(_actor(), attachment),
        back=back,
        done=lambda _: _removed(name, back),
    )


def _removed(name: str, back: str):
    flash(f"“{name}” was removed.", "success")
    return redirect(back)


def evidence_page(evidence_id: int, anchor: str | None = None) -> str:
    """The evidence item's page, at one of its panels."""
    return url_for("evidence.show", evidence_id=evidence_id, _anchor=anchor)
