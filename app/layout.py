"""What the base layout shows on every page, read once per request in this one place: the
navigation's unread notification count and whether it offers "Jobs" (nothing for anonymous
pages or templates rendered outside a request, such as PDFs)."""

from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

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
