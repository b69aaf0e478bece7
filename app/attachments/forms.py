"""Forms for attaching a file to evidence and confirming its removal."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.infra import file_types


class AttachmentForm(FlaskForm):
    file = FileField(
        "Add a file",
        validators=[FileRequired(message="Choose a file to attach.")],
        render_kw={"accept": file_types.ACCEPT},
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token."""
