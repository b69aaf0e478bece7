"""Forms for downloading one's data export and importing one."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


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
