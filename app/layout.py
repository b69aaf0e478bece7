"""What the base layout shows on every page, read once per request in this one place: the
navigation's unread notification count, whether it offers "Jobs", and which pages' help the
person has seen (nothing for anonymous pages or templates rendered outside a request, such as
PDFs). After a page showed a help open for the first time, `record_help` remembers it."""

from __future__ import annotations

from flask import Response, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.services import help as help_service
from app.services import layout as layout_model


def inject() -> dict[str, layout_model.Layout]:
    """Context processor: `layout` in every template."""
    return {"layout": current()}


def current() -> layout_model.Layout:
    if not has_request_context() or not current_user.is_authenticated:
        return layout_model.SIGNED_OUT
    if "layout" not in g:
        g.layout = layout_model.layout(current_user._get_current_object())
    return g.layout


def record_help(response: Response) -> Response:
    """after_request: the help a page showed open is remembered as seen, so that it is folded on
    the person's next visit (macros/help.html).

    This is the one thing a page view writes, on purpose: seeing the page is what "first use"
    means. Only for a page actually delivered to the person (a GET answered 200, not a browser's
    prefetch), at most one insert per page, in a transaction of its own: the page's read
    transaction is ended first (discarding nothing a GET may keep: teardown would roll it back
    anyway), so that nothing else a request did can be committed here.
    """
    shown = g.layout.help_shown if "layout" in g else None
    if not shown or request.method != "GET" or response.status_code != 200 or _is_prefetch():
        return response
    person_id = current_user.id
    db.session.rollback()
    try:
        help_service.record_seen(person_id, shown)
        db.session.commit()
    except SQLAlchemyError:
        # The database is busy (SQLite's write lock past its timeout), or the person went away
        # meanwhile: the page is served all the same, and its help shows open once more.
        db.session.rollback()
        current_app.logger.warning("help seen by person %s not recorded", person_id, exc_info=True)
    return response


def _is_prefetch() -> bool:
    """A speculative load (link prefetch or prerender) that the person may never see."""
    purpose = request.headers.get("Sec-Purpose", "") or request.headers.get("Purpose", "")
    return purpose.startswith("prefetch")
