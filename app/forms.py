"""Helpers shared by the forms of every blueprint."""

from flask_wtf import FlaskForm

from app.request_input import ID_MAX
from app.services.errors import DomainError


def optional_id(value) -> int | None:
    """A chosen id, or None when nothing (or nothing that could be an id) was chosen: the
    service then asks for a choice. A number past the database's integers names no row."""
    try:
        number = int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 < number <= ID_MAX else None


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
