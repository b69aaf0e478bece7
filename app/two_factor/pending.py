"""Who is between their password and their second step: kept in the (signed) Flask session with
a timestamp, for TWO_FACTOR_PENDING_TTL, and how a sign-in is marked ("signed_in_with")."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, redirect, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from app.services.people import two_factor_sign_in

PENDING = "two_factor_pending"
# How this session was signed in, and by whom: {"user": id, "method": "password" | "sso"} (set
# by mark_signed_in, from app/auth/views.py and the single sign-on views). A session signed in
# with SSO is not asked for two-factor, but only while it is that same person's.
SIGNED_IN_WITH = "signed_in_with"


@dataclass(frozen=True)
class Pending:
    person_id: int
    token: str  # a digest of the person's session token when the password was checked
    remember: bool
    next: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rungs.two-factor-pending")


def begin(person, *, remember: bool, next_url: str | None):
    """The password was right: remember the person for the second step and go there."""
    session[PENDING] = _serializer().dumps(
        {
            "person": person.id,
            "token": two_factor_sign_in.session_digest(person),
            "remember": bool(remember),
            "next": next_url or "",
        }
    )
    return redirect(url_for("two_factor_sign_in.code"))


def current() -> Pending | None:
    """The waiting sign-in, or None when there is none, it is older than its lifetime, or the
    person is no longer waiting."""
    stored = session.get(PENDING)
    if not stored:
        return None
    max_age = current_app.config["TWO_FACTOR_PENDING_TTL"].total_seconds()
    try:
        data = _serializer().loads(stored, max_age=max_age)
        found = Pending(
            int(data["person"]), str(data["token"]), bool(data["remember"]), str(data["next"])
        )
    except (BadData, KeyError, TypeError, ValueError):
        return None
    # Signed out everywhere, given a new password, deactivated or two-factor reset meanwhile.
    if two_factor_sign_in.waiting_person(found.person_id, found.token) is None:
        return None
    return found


def stale_next() -> str | None:
    """The page a waiting sign-in that ran out was going to (to start again towards it)."""
    try:
        data = _serializer().loads(session.get(PENDING) or "")
    except BadData:
        return None
    return str(data.get("next") or "") or None if isinstance(data, dict) else None


def clear() -> None:
    session.pop(PENDING, None)


def mark_signed_in(person, method: str) -> None:
    """Remember how this person signed in ("password" or "sso"), tied to them."""
    session[SIGNED_IN_WITH] = {"user": person.id, "method": method}


def signed_in_with(person) -> str | None:
    """How this person signed in this session; None when the mark is someone else's or none."""
    mark = session.get(SIGNED_IN_WITH)
    if not isinstance(mark, dict) or mark.get("user") != person.id:
        return None
    return mark.get("method") if isinstance(mark.get("method"), str) else None


def forget_sign_in() -> None:
    session.pop(SIGNED_IN_WITH, None)
