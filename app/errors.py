"""One place that turns errors into answers: DomainError subclasses and HTTP errors become a page,
or, under /api/, an RFC 9457 problem-details document (application/problem+json)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.errors import ConflictError, DomainError, RowErrors, ValidationError
from app.extensions import db

API_PREFIX = "/api/v1/"
PROBLEM_TYPE = "application/problem+json"
# A problem's `type` is a stable URI (relative to the server) that names the kind of problem;
# clients branch on it, never on the wording of `title` or `detail`.
PROBLEM_BASE = "/api/v1/problems/"

TITLES = {
    400: "That request could not be handled",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Someone else changed this at the same time",
    413: "That file is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}

# status → (slug, title) for the API's problems; a caller may name a more precise slug.
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request could not be read"),
    401: ("unauthenticated", "A valid API token is needed"),
    403: ("forbidden", "The token may not do this"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "That method is not allowed here"),
    406: ("not-acceptable", "No acceptable representation"),
    409: ("conflict", "Someone else changed this at the same time"),
    413: ("too-large", "The request body is too large"),
    415: ("unsupported-media-type", "The body must be JSON"),
    422: ("validation-failed", "Some values are not valid"),
    429: ("rate-limited", "Too many requests"),
    500: ("server-error", "Something went wrong on our side"),
}
# Slugs with a title of their own (the status says the rest).
SLUG_TITLES = {
    "malformed-json": "The body is not valid JSON",
    "insufficient-scope": "The token's scope does not allow this",
}


HTML_BLUEPRINTS = ("api_reference", "api_problems")


def is_api_request() -> bool:
    """Answered with problem details: anything under /api/ but the reference page and the
    problem types' pages (HTML, for people)."""
    return request.path.startswith("/api/") and request.blueprint not in HTML_BLUEPRINTS


def problem(
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem-details answer: type, title, status, detail (and errors, if any)."""
    default_slug, default_title = PROBLEMS.get(status, ("error", "Something went wrong"))
    slug = slug or default_slug
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": SLUG_TITLES.get(slug, default_title),
        "status": status,
        "detail": detail or SLUG_TITLES.get(slug, default_title) + ".",
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response


def _domain_problem(error: DomainError) -> Response:
    if isinstance(error, RowErrors):
        return problem(
            422, error.message, errors=[{"field": "file", "message": e} for e in error.errors]
        )
    if isinstance(error, ValidationError) or type(error) is DomainError:
        field = error.field or ""
        entry = {"field": field, "message": error.message}
        if field and request.is_json:  # a service names the body's field it refuses
            entry["pointer"] = "/" + field
        return problem(422, error.message, errors=[entry])
    if isinstance(error, ConflictError):
        return problem(409, error.message, current=_plain(error.current))
    return problem(error.status, error.message)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in values.items()}


def _json_value(value: Any) -> Any:
    """JSON's own values as they are (lists and objects too, as a snapshot holds them); any
    other value as its text."""
    if isinstance(value, str | int | float | bool | None):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return str(value)


def render_error(status: int, message: str | None = None):
    if is_api_request():
        return problem(status, message)
    title = TITLES.get(status, "Something went wrong")
    if request.accept_mimetypes.best == "application/json":  # a page's script (an autosave)
        return jsonify(error=message or f"{title}."), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _domain_error(error: DomainError):
    db.session.rollback()
    if is_api_request():
        return _domain_problem(error)
    return render_error(error.status, error.message)


def _stale_data(_error):
    db.session.rollback()
    if is_api_request():
        return problem(409, "Someone else changed this meanwhile: read it again, then retry.")
    return render_error(409, "Reload the page to see their change, then try again.")


def _csrf_error(_error):
    return render_error(
        400,
        "The form expired or was sent from another site. Go back, reload the page and try again.",
    )


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    if not is_api_request():
        return render_error(error.code)
    response = problem(error.code, None)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="rungs"'
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _server_error(_error):
    db.session.rollback()
    return render_error(500, "The error was logged. Nothing you saved before it was lost.")


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(StaleDataError, _stale_data)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
