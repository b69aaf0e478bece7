"""Helpers shared by the forms of every blueprint."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy.orm.exc import StaleDataError
from wtforms import FieldList, widgets

from app.core.errors import ConflictError, DomainError, RowErrors, ValidationError
from app.extensions import db
from app.request_input import ID_MAX

T = TypeVar("T")


def optional_id(value) -> int | None:
    """A chosen id, or None when nothing (or nothing that could be an id) was chosen: the
    service then asks for a choice. A number past the database's integers names no row."""
    try:
        number = int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 < number <= ID_MAX else None


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or above the form (also for a list
    of rows: the message names the row)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors") and not isinstance(field, FieldList):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class Select(widgets.Select):
    """WTForms' select with its plain options written directly: the same HTML, without a sorted
    html_params and a Markup format per option (a list filter's long competency list cost more
    than the rows it filters)."""

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')  # noqa: S704


Page = Callable[..., ResponseReturnValue]

SAVED_AT_THE_SAME_MOMENT = (
    "Someone saved this at the same moment, so nothing of yours was stored. "
    "Look at it as it is now and save again."
)


def submit(
    form: FlaskForm,
    save: Callable[[], T],
    *,
    page: Page,
    done: Callable[[T], ResponseReturnValue],
    show: Callable[[FlaskForm, DomainError], None] = apply_domain_error,
) -> ResponseReturnValue:
    """The one shape of a form view: show it, or validate → call the service → commit.

    `page(status, error=None)` renders the page that holds the form: 200 before it is sent,
    400 when the form or the service refuses it (the service's message is put next to the
    field it names; a file's RowErrors are listed by the page from `error.errors`), 409 with
    the ConflictError when someone else saved first (or with none, and a message above the
    form, when the two saves met at the same moment). `save()` calls the service and returns
    what `done(result)` needs to answer after the commit (usually a flash and a redirect).
    Anything else the service raises (not found, forbidden) reaches errors.py, which rolls back
    too. A form whose fields the service names its own way passes its own `show`.
    """
    if not form.is_submitted():
        return page(200)
    if not form.validate():
        return page(400)
    try:
        result = save()
        db.session.flush()
    except ConflictError as error:
        db.session.rollback()
        return page(409, error)
    except StaleDataError:
        # Another save met the same row at the same moment (its revision moved between our
        # read and our write): nothing of this one was stored, and the form says so.
        db.session.rollback()
        form.form_errors.append(SAVED_AT_THE_SAME_MOMENT)
        return page(409)
    except (ValidationError, RowErrors) as error:
        db.session.rollback()
        if isinstance(error, ValidationError):  # a file's RowErrors: the page lists the rows
            show(form, error)
        return page(400, error)
    db.session.commit()
    return done(result)


def submit_json(
    form: FlaskForm, save: Callable[[], T], *, done: Callable[[T], dict[str, Any]]
) -> ResponseReturnValue:
    """The shape of a form a script sends (an autosave): validate → call the service → commit,
    answered as JSON instead of a page. 200 with `done(result)`; 400 with `error` (the
    service's message, naming what it refuses) and `field`; 409 with `error` and
    `conflict: true` when someone else saved first, and nothing stored; 409 with `retry: true`
    when another write met the same row at the same moment (nothing stored; send it again).
    Not found and forbidden reach errors.py, as for a page."""
    if not form.validate():
        problems = " ".join(_messages(form.errors)) or "The form could not be read."
        return jsonify(error=problems, field=None), 400
    try:
        result = save()
        db.session.commit()
    except ConflictError as error:
        db.session.rollback()
        return jsonify(error=error.message, conflict=True), 409
    except StaleDataError:
        # Another write met the same row at the same moment, not a conflict of content: the
        # script sends it again.
        db.session.rollback()
        return jsonify(error="Saved at the same moment as another change.", retry=True), 409
    except ValidationError as error:
        db.session.rollback()
        return jsonify(error=error.message, field=error.field), 400
    return jsonify(done(result))


def _messages(errors) -> list[str]:
    """A form's errors as a flat list (a FormField nests its fields' errors in a dict)."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _messages(value)]
    return [str(message) for message in errors]


def act(
    save: Callable[[], T],
    *,
    back: str,
    done: Callable[[T], ResponseReturnValue],
    conflict: Callable[[ConflictError], ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """A button that changes state (deactivate, withdraw, lock): call the service and commit,
    or roll back and go `back` (a URL) with the service's refusal as a message. `conflict`,
    when given, answers a ConflictError instead (a page that offers to do it anyway)."""
    try:
        result = save()
    except (ConflictError, ValidationError) as error:
        db.session.rollback()
        if conflict is not None and isinstance(error, ConflictError):
            return conflict(error)
        flash(error.message, "error")
        return redirect(back)
    db.session.commit()
    return done(result)


def saved(message: str, endpoint: str, **values: Any) -> ResponseReturnValue:
    """After a save: say what happened and go to the page that shows it."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values))
