"""One place that turns errors into pages: DomainError subclasses and HTTP errors."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError
from app.extensions import db

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


def render_error(status: int, message: str | None = None):
    title = TITLES.get(status, "Something went wrong")
    if request.accept_mimetypes.best == "application/json":  # a page's script (an autosave)
        return jsonify(error=message or f"{title}."), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status, error.message)

    @app.errorhandler(StaleDataError)
    def stale_data(_error):
        db.session.rollback()
        return render_error(409, "Reload the page to see their change, then try again.")

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(
            400,
            "The form expired or was sent from another site. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return render_error(500, "The error was logged. Nothing you saved before it was lost.")
