"""Your data: what an export of all your own data holds, its download, and importing one."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request, send_file
from flask_login import current_user

from app import access
from app.core.errors import RowErrors
from app.errors import render_error
from app.extensions import csrf
from app.forms import submit
from app.personal_data.forms import ConfirmForm, ImportForm
from app.services import personal_data
from app.services.evidence import attachments
from app.services.personal_data import importing as personal_data_import

bp = Blueprint("personal_data", __name__)


def _actor():
    return current_user._get_current_object()


@bp.errorhandler(413)
def too_large(_error):
    limit = current_app.config["PERSONAL_DATA_IMPORT_MAX_BYTES"]
    return render_error(413, f"An import can be at most {attachments.megabytes(limit)}.")


@bp.get("/account/export")
@access.requires("account.manage")
def export_page():
    """What an export of all your data holds, and the button that downloads it."""
    return render_template(
        "personal_data/export.html",
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

    def page(status: int, error=None):
        return render_template(
            "personal_data/import.html",
            form=form,
            problems=error.errors if isinstance(error, RowErrors) else [],
            most_files=current_app.config["PERSONAL_DATA_IMPORT_MAX_FILES"],
            most_bytes=attachments.megabytes(
                current_app.config["PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"]
            ),
        ), status

    return submit(
        form,
        lambda: personal_data_import.import_upload(_actor(), form.file.data.stream),
        page=page,
        done=lambda report: render_template("personal_data/imported.html", report=report),
    )
