"""Self-service password reset: a one-hour, single-use link by email, throttled per address and
client ("Forgot your password?" on the sign-in page).

The answer is the same whether or not the address belongs to someone, and so is most of the work:
the request is counted, the person looked up and the email rendered either way; only the rows
that send it (the link and the outbox message) are written for a person who exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.extensions import db
from app.infra.text import unwanted_character
from app.models import LoginFailure, MessageCategory, User
from app.models.base import utcnow
from app.services import audit, messages, people
from app.services.messages.outbox import email_enabled
from app.services.people import auth

TEMPLATE = "password_reset"
SUBJECT = "Set a new password for Rungs"
EMAIL_OFF = (
    "Rungs cannot send email here yet, so it cannot send you a link. "
    "Ask your head of product for a new password link."
)


class ResetThrottledError(ValidationError):
    """Too many requests for one address or from one client: shown by the form, as a 429."""

    status = 429


@dataclass(frozen=True)
class _Keys:
    """What one request counts against: the address typed, and the client."""

    address: str
    client: str

    @classmethod
    def of(cls, email: str, client: str) -> _Keys:
        prefix = auth.RESET_KEY_PREFIX
        return cls(
            address=f"{prefix}account:{auth.digest(email)}",
            client=f"{prefix}{auth.client_key(client)}",
        )


def link_lifetime() -> timedelta:
    return current_app.config["PASSWORD_RESET_REQUEST_TTL"]


def request_reset(email: str, *, client: str) -> None:
    """Email a new single-use link to the active person with this address, if there is one.

    Raises ValidationError for an address that cannot be anyone's, ResetThrottledError past a
    limit (counted for every address typed, so it tells nothing about who exists either), and
    ValidationError when email is off. The caller commits: the request is counted with it.
    """
    if not email_enabled():
        raise ValidationError(EMAIL_OFF)
    email = people.clean_email(email)
    keys = _Keys.of(email, client)
    _count(keys)
    person = _active_person(email)
    if person is None:
        # The email rendered for nobody: the answer takes about as long as one that is sent.
        messages.render(TEMPLATE, recipient=_NOBODY, link=_NOBODY.link, **_context())
        return
    token = auth.issue_link(person, created_by=person, ttl=link_lifetime())
    link = messages.absolute_url("auth.set_password", token=token)
    messages.deliver(
        person,
        MessageCategory.TRANSACTIONAL,
        subject=SUBJECT,
        template=TEMPLATE,
        context=_context(),
        link=link,
        dedupe_key=f"password-link:{auth.digest(token)}",
    )
    audit.record(person, "person.password_reset_requested", person, after={"client": client})


def set_password_from_link(token: str, new: str, *, client: str) -> User:
    """Set the password from any one-time link (auth.reset_password: every session ends). A
    person who had a password is told by email that it changed, in case it was not them."""
    had_password = auth.reset_link_holder(token).password_hash is not None
    person = auth.reset_password(token, new, client=client)
    if had_password:
        messages.deliver(
            person,
            MessageCategory.TRANSACTIONAL,
            subject="Your Rungs password was changed",
            template="password_changed",
            context={},
            link=messages.absolute_url("auth.forgot_password"),
        )
    return person


def link_lifetime_words(ttl: timedelta | None = None) -> str:
    """How long a link works, in words ("one hour"): by default, an emailed one."""
    minutes = math.ceil((ttl or link_lifetime()).total_seconds() / 60)
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "one hour" if hours == 1 else f"{hours} hours"


def _context() -> dict:
    return {"lifetime": link_lifetime_words()}


# Stands in for the recipient when nobody has the address (the template reads only these).
_NOBODY = SimpleNamespace(
    id=0, name="", email="nobody@rungs.invalid", link="https://rungs.invalid/password/x"
)


def _count(keys: _Keys) -> None:
    """Refuse past a limit, else count this request, in one step under a lock per key (the
    sign-in throttle's way: advisory locks on PostgreSQL, the write lock on SQLite)."""
    config = current_app.config
    auth.lock_keys(keys.address, keys.client)
    now = utcnow()
    auth.purge_expired(now)
    since = now - config["PASSWORD_RESET_REQUEST_WINDOW"]
    counted = dict(
        (key, (count, first))
        for key, count, first in db.session.execute(
            select(LoginFailure.key, func.count(), func.min(LoginFailure.at))
            .where(LoginFailure.key.in_([keys.address, keys.client]), LoginFailure.at >= since)
            .group_by(LoginFailure.key)
        ).all()
    )
    limits = [
        (keys.address, config["PASSWORD_RESET_REQUESTS_PER_ADDRESS"], _ADDRESS_LIMITED),
        (keys.client, config["PASSWORD_RESET_REQUESTS_PER_CLIENT"], _CLIENT_LIMITED),
    ]
    for key, limit, message in limits:
        count, first = counted.get(key, (0, now))
        if count >= limit:
            wait = _as_utc(first) + config["PASSWORD_RESET_REQUEST_WINDOW"] - now
            raise ResetThrottledError(message.format(limit=limit, wait=_minutes(wait)))
    db.session.add_all([LoginFailure(key=key, at=now) for key in (keys.address, keys.client)])
    db.session.flush()


_ADDRESS_LIMITED = (
    "A link was asked for this address {limit} times in the last hour. Use the newest email "
    "(each new link replaces the one before), or wait {wait} and ask again."
)
_CLIENT_LIMITED = "Too many requests for password links from here. Wait {wait} and try again."


def _active_person(email: str) -> User | None:
    if unwanted_character(email) is not None:
        return None
    person = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    return person if person is not None and person.is_active else None


def _minutes(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def _as_utc(value: datetime) -> datetime:
    # Aggregates bypass the column type on SQLite, so the zone may be missing there.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
