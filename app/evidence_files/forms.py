"""Forms for attaching a file and for importing one's own data export."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.services import file_types


class AttachmentForm(FlaskForm):
    file = FileField(
        "Add a file",
        validators=[FileRequired(message="Choose a file to attach.")],
        render_kw={"accept": file_types.ACCEPT},
    )


class ImportForm(FlaskForm):
    file = FileField(
        "Export file",
        validators=[FileRequired(message="Choose the ZIP or the rungs-export.json file.")],
        render_kw={"accept": ".zip,.json,application/zip,application/json"},
        description="The ZIP you downloaded from “Your data” in the other Rungs (it brings the "
        "attachments along), or the rungs-export.json inside it.",
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token."""
