"""What the password pages and sign-out (app/auth/views.py) ask of single sign-on: whether
passwords are off, and the provider's own sign-out after Rungs' one. Kept here so that the
password views change by a line each."""

from __future__ import annotations

from functools import wraps

from flask import render_template
from flask_login import current_user

from app.services.people import sso, sso_settings
from app.sso import client


def unless_passwords_off(view):
    """A password page ("Forgot your password?", a password link) answers 403 with a clear
    message while sign-in is SSO-only (a link made for the break-glass account still works)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        refusal = sso.password_link_refusal(kwargs.get("token"))
        if refusal is not None:
            return render_template("sso/passwords_off.html", message=refusal), 403
        return view(*args, **kwargs)

    return guarded


def provider_sign_out() -> tuple[str, str]:
    """Before logout_user: the provider's name and end-session URL when this session began at
    a provider that has one, else ("", ""). Forgets the session's record of it."""
    return client.take_provider_sign_out(
        sso_settings.stored(), sso_settings.post_logout_redirect_uri(), current_user.id
    )


def signed_out_page(provider: str, end_session_url: str):
    """After Rungs' sign-out: offer the provider's too (a link: the provider asks, and comes
    back to the sign-in page)."""
    return render_template("sso/signed_out.html", provider=provider, url=end_session_url)
