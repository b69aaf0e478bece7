"""Signing in and out, passwords, one-time password links, and the sign-in throttle."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete, func, select

from app import policy
from app.extensions import db
from app.models import LoginFailure, PasswordResetLink, User
from app.models.base import utcnow
from app.models.user import new_session_token
from app.services import audit
from app.services.errors import DomainError, NotFoundError, ValidationError
from app.services.passwords import check_new_password, hash_password, verify_password
from app.services.people import normalize_email

SIGN_IN_REFUSED = "Email or password is incorrect."


class SignInError(DomainError):
    status = 400


class ThrottledError(DomainError):
    status = 429


def authenticate(email: str, password: str, *, client: str) -> User:
    """The person with these credentials, or SignInError with one message for every failure."""
    email = normalize_email(email)
    keys = (f"account:{email}", f"client:{client}")
    _refuse_if_throttled(*keys)
    person = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    password_hash = person.password_hash if person is not None else None
    if not verify_password(password_hash, password) or not person.is_active:
        db.session.add_all(LoginFailure(key=key) for key in keys)
        raise SignInError(SIGN_IN_REFUSED)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
    audit.record(person, "person.signed_in", person, after={"client": client})
    return person


def _refuse_if_throttled(account_key: str, client_key: str) -> None:
    config = current_app.config
    window = config["LOGIN_FAILURE_WINDOW"]
    since = utcnow() - window
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    counts = dict(
        db.session.execute(
            select(LoginFailure.key, func.count())
            .where(LoginFailure.key.in_([account_key, client_key]), LoginFailure.at >= since)
            .group_by(LoginFailure.key)
        ).all()
    )
    oldest = db.session.execute(
        select(func.min(LoginFailure.at)).where(
            LoginFailure.key.in_([account_key, client_key]), LoginFailure.at >= since
        )
    ).scalar_one()
    if (
        counts.get(account_key, 0) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or counts.get(client_key, 0) >= config["LOGIN_MAX_FAILURES_PER_CLIENT"]
    ):
        minutes = max(1, math.ceil((_as_utc(oldest) + window - utcnow()).total_seconds() / 60))
        raise ThrottledError(
            f"Too many failed sign-ins. Wait {minutes} minute{'s' if minutes > 1 else ''} "
            "and try again, or ask your head of product for a new password link."
        )


def _as_utc(value: datetime) -> datetime:
    # Aggregates bypass the column type on SQLite, so the zone may be missing there.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sign_out(person: User) -> None:
    """End every session of the person: cookies carrying the old session token stop working."""
    person.session_token = new_session_token()
    db.session.flush()
    audit.record(person, "person.signed_out", person)


def change_password(person: User, *, current: str, new: str) -> None:
    if not verify_password(person.password_hash, current):
        raise ValidationError("Your current password is not correct.", field="current_password")
    check_new_password(new, email=person.email, field="new_password")
    _set_password(person, new)
    audit.record(person, "person.password_changed", person)


def create_reset_link(actor: User, person: User) -> str:
    """A new one-time token for the person; earlier unused links stop working. Returns the token."""
    policy.authorize(actor, "people.manage")
    if not person.is_active:
        raise ValidationError(f"{person.name} is deactivated; reactivate them first.")
    now = utcnow()
    for link in _open_links(person):
        link.used_at = now
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetLink(
            user_id=person.id,
            token_hash=_digest(token),
            created_by_id=actor.id,
            expires_at=now + current_app.config["PASSWORD_RESET_TTL"],
        )
    )
    audit.record(actor, "person.password_link_created", person)
    return token


def find_reset_link(token: str) -> PasswordResetLink:
    link = db.session.execute(
        select(PasswordResetLink).where(PasswordResetLink.token_hash == _digest(token))
    ).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise NotFoundError(
            "This password link is not valid: it was already used, replaced by a newer one, or "
            "it expired. Ask your head of product for a new one."
        )
    person = db.session.get(User, link.user_id)
    if person is None or not person.is_active:
        raise NotFoundError("This password link is not valid any more.")
    return link


def reset_password(token: str, new: str) -> User:
    link = find_reset_link(token)
    person = db.session.get(User, link.user_id)
    check_new_password(new, email=person.email, field="password")
    link.used_at = utcnow()
    _set_password(person, new)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == f"account:{person.email}"))
    audit.record(person, "person.password_reset", person)
    return person


def _set_password(person: User, password: str) -> None:
    person.password_hash = hash_password(password)
    person.session_token = new_session_token()
    person.updated_at = utcnow()
    db.session.flush()


def _open_links(person: User) -> list[PasswordResetLink]:
    return list(
        db.session.execute(
            select(PasswordResetLink).where(
                PasswordResetLink.user_id == person.id,
                PasswordResetLink.used_at.is_(None),
            )
        ).scalars()
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
