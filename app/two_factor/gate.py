"""Where two-factor sign-in is required (heads of product and managers, by the head's setting),
a person signed in with a password who has not set it up reaches only the setup page."""

from __future__ import annotations

from flask import current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from app.services.people import two_factor_account
from app.two_factor.pending import signed_in_with

# What stays open meanwhile: the setup itself, and signing out.
OPEN_ENDPOINTS = frozenset(
    {"two_factor.account", "two_factor.start", "two_factor.turn_on", "auth.logout", "static"}
)
SET_UP_FIRST = "Your organisation requires two-factor sign-in: set it up first."


def require_setup():
    """before_request hook, after access.enforce: send such a person to the setup page."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in OPEN_ENDPOINTS or not current_user.is_authenticated:
        return None
    if getattr(current_app.view_functions[endpoint], "is_public", False):
        return None
    person = current_user._get_current_object()
    if signed_in_with(person) == "sso":  # the identity provider answers for this sign-in
        return None
    if request.blueprint == "api":  # a personal access token, not a sign-in (app/api/auth.py)
        return None
    if not two_factor_account.must_set_up(person):
        return None
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=SET_UP_FIRST), 403
    return redirect(url_for("two_factor.account"))
