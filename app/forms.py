"""Helpers shared by the forms of every blueprint."""

from flask_wtf import FlaskForm

from app.services.errors import DomainError


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
