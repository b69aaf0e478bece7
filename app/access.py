"""Web glue for the policy: marking views `@requires(action)` or `@public`, and enforcing it.

Every view is marked one or the other; a request to an endpoint with neither is refused before
the view runs, and a test walks the URL map for unmarked endpoints. The rules themselves are
app/policy's, which knows nothing of requests.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request
from flask_login import current_user

from app import policy
from app.extensions import login_manager

SIGNED_OUT = "You were signed out."

# Endpoints that anyone may reach, signed in or not.
PUBLIC_ENDPOINTS = frozenset({"static"})


def requires(action: str):
    """Mark a view as needing a signed-in person whom the policy allows `action` (route level)."""
    if action not in policy.RULES:
        raise LookupError(f"no policy rule for {action!r}")

    def mark(view):
        view.policy_action = action
        return view

    return mark


def public(view):
    """Mark a view as reachable without signing in."""
    view.is_public = True
    return view


def enforce() -> Any:
    """before_request hook: sign-in and the route-level rule, before any view runs."""
    if request.endpoint is None:
        return None  # no such route: the 404 follows
    view = current_app.view_functions[request.endpoint]
    if request.endpoint in PUBLIC_ENDPOINTS or getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        if request.accept_mimetypes.best == "application/json":
            # A page's script (the autosave): a redirect to the sign-in page would read as a
            # strange success; it needs to say so, and keep what the person typed.
            return jsonify(error=SIGNED_OUT, signed_out=True), 401
        return login_manager.unauthorized()
    action = getattr(view, "policy_action", None)
    if action is None or not policy.can(current_user, action):
        abort(403)
    return None
