"""Attachments on evidence (add, remove, download) and a person's data export and import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.routing import BuildError

from app import access, policy
from app.errors import render_error
from app.evidence_files.forms import AttachmentForm, ConfirmForm, ImportForm
from app.extensions import csrf, db
from app.forms import apply_domain_error
from app.models import Attachment, Evidence
from app.services import attachments, file_types, personal_data, personal_data_import
from app.services import evidence as evidence_service
from app.services.errors import RowErrors, ValidationError

bp = Blueprint("evidence_files", __name__)

# The file is never shown by the browser: no scripts, no plugins, no same-origin access.
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


@dataclass(frozen=True)
class AttachmentPanel:
    """What the attachments panel on an evidence page shows."""

    items: list[Attachment]
    may_manage: bool
    form: AttachmentForm | None
    limits: attachments.Limits

    @property
    def is_full(self) -> bool:
        return len(self.items) >= self.limits.per_item

    @property
    def hint(self) -> str:
        return (
            "PDF; PNG, JPEG, GIF or WebP images; text, CSV or Markdown; Word, Excel, PowerPoint "
            f"or OpenDocument files. Up to {attachments.megabytes(self.limits.max_bytes)} each, "
            f"{self.limits.per_item} files per item. Everyone who can see this item can "
            "download them."
        )


def _actor():
    return current_user._get_current_object()


@bp.app_template_global()
def attachments_for(evidence: Evidence) -> AttachmentPanel:
    """The panel's data: the files (with the item, or one query) and the upload form."""
    may_manage = policy.can(_actor(), "evidence.edit", evidence) and not evidence.in_trash
    return AttachmentPanel(
        items=attachments.attachments_of(evidence),
        may_manage=may_manage,
        form=AttachmentForm(formdata=None, prefix="attachment") if may_manage else None,
        limits=attachments.limits(),
    )


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@bp.app_template_filter("file_label")
def file_label(content_type: str) -> str:
    return file_types.label_of(content_type)


@bp.errorhandler(413)
def too_large(_error):
    if request.endpoint == "evidence_files.import_data":
        limit = current_app.config["PERSONAL_DATA_IMPORT_MAX_BYTES"]
        return render_error(413, f"An import can be at most {attachments.megabytes(limit)}.")
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    return render_error(
        413,
        f"Attachments can be at most {attachments.megabytes(limit)}. Make the file smaller "
        "(export a PDF, crop a screenshot) or add a link to it instead. Nothing was saved.",
    )


# --- attachments ------------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/attachments", methods=["GET", "POST"])
@access.requires("evidence.edit")
def upload(evidence_id: int):
    """Attach a file to one of your evidence items."""
    evidence = evidence_service.get_evidence(evidence_id)
    policy.authorize(_actor(), "evidence.edit", evidence)
    form = AttachmentForm(prefix="attachment")
    if form.validate_on_submit():
        sent = form.file.data
        try:
            added = attachments.add_attachment(_actor(), evidence, sent.filename, sent.stream)
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"“{added.original_name}” was attached.", "success")
            return redirect(evidence_page(evidence_id, "attachments"))
    return render_template(
        "evidence_files/upload.html",
        evidence=evidence,
        form=form,
        back=evidence_page(evidence_id),
    ), (400 if form.errors else 200)


@bp.get("/attachments/<int:attachment_id>")
@access.requires("evidence.view")
def download(attachment_id: int):
    """Download a file of an item you may see; always as a download, never shown in the page."""
    attachment, path = attachments.file_for_download(_actor(), attachment_id)
    response = send_file(
        path,
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
        "evidence_files/remove.html",
        attachment=attachment,
        form=ConfirmForm(),
        back=evidence_page(attachment.evidence_id, "attachments"),
    )


@bp.post("/attachments/<int:attachment_id>/delete")
@access.requires("evidence.edit")
def remove(attachment_id: int):
    """Remove a file from one of your items."""
    attachment = attachments.get_attachment(attachment_id)
    name, evidence_id = attachment.original_name, attachment.evidence_id
    try:
        attachments.remove_attachment(_actor(), attachment)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"“{name}” was removed.", "success")
    return redirect(evidence_page(evidence_id, "attachments"))


# --- all of my data -----------------------------------------------------------------------------


@bp.get("/account/export")
@access.requires("account.manage")
def export_page():
    """What an export of all your data holds, and the button that downloads it."""
    return render_template(
        "evidence_files/export.html",
        summary=personal_data.summary(_actor()),
        form=ConfirmForm(),
        max_import=attachments.megabytes(current_app.config["PERSONAL_DATA_IMPORT_MAX_BYTES"]),
    )


@bp.post("/account/export")
@access.requires("account.manage")
def export():
    """Download all your own data as a ZIP: JSON, one Markdown file per item, the attachments."""
    archive = personal_data.export_zip(_actor())
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"rungs-export-{date.today().isoformat()}.zip",
    )


@bp.route("/account/import", methods=["GET", "POST"])
@access.requires("account.manage")
@csrf.exempt  # the form checks its own CSRF token, after the larger size limit below is set
def import_data():
    """Bring the items of a Rungs data export into your evidence, as private drafts."""
    request.max_content_length = current_app.config["PERSONAL_DATA_IMPORT_MAX_BYTES"]
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            report = personal_data_import.import_upload(_actor(), form.file.data.stream)
        except RowErrors as error:
            db.session.rollback()
            problems = error.errors
        else:
            db.session.commit()
            return render_template("evidence_files/imported.html", report=report)
    status = 400 if problems or form.errors else 200
    return render_template(
        "evidence_files/import.html",
        form=form,
        problems=problems,
        most_files=current_app.config["PERSONAL_DATA_IMPORT_MAX_FILES"],
        most_bytes=attachments.megabytes(
            current_app.config["PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"]
        ),
    ), status


def evidence_page(evidence_id: int, anchor: str | None = None) -> str:
    """The evidence item's page (the evidence blueprint's, or its agreed address)."""
    try:
        return url_for("evidence.show", evidence_id=evidence_id, _anchor=anchor)
    except BuildError:
        return f"/evidence/{evidence_id}" + (f"#{anchor}" if anchor else "")
