"""One-click unsubscribe (RFC 8058): a signed token naming a person and a category of message.

The link in an email's List-Unsubscribe header needs no sign-in: whoever holds the token may turn
that one category of email off for that one person, nothing else. The token does not expire (an
old email's link must still work); it is signed with SECRET_KEY, so it cannot be forged.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.extensions import db
from app.models import Channel, DeliveryMode, MessageCategory, User
from app.services.messages import preferences
from app.services.messages.outbox import absolute_url

SALT = "rungs-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


DIGEST = "digest"  # the daily digest: every category the person gets in it


def token(person_id: int, category: MessageCategory | None) -> str:
    """For one category's emails, or (None) for the daily digest email."""
    return _serializer().dumps([person_id, category.value if category else DIGEST])


def url(person_id: int, category: MessageCategory | None) -> str:
    return absolute_url("messages.unsubscribe", token=token(person_id, category))


@dataclass(frozen=True)
class Request:
    person: User
    category: MessageCategory | None  # None: the daily digest

    @property
    def label(self) -> str:
        return self.category.label.lower() if self.category else "the daily digest"


def read(value: str) -> Request | None:
    """Who and what a token is for; None for a forged, damaged or obsolete one."""
    try:
        person_id, category = _serializer().loads(value)
        chosen = None if category == DIGEST else MessageCategory(category)
    except (BadSignature, ValueError, TypeError):
        return None
    if chosen is not None and not chosen.is_optional:
        return None
    person = db.session.get(User, person_id)
    if person is None or not person.is_active:
        return None
    return Request(person, chosen)


def apply(request: Request) -> None:
    """Turn the category's email off for the person, or for the digest every category they get
    in it (the caller commits)."""
    if request.category is not None:
        chosen = [request.category]
    else:
        modes = preferences.choices_for(request.person.id)
        chosen = [
            category
            for category in MessageCategory
            if category.is_optional and modes[(category, Channel.EMAIL)] is DeliveryMode.DIGEST
        ]
    for category in chosen:
        preferences.choose(request.person.id, category, Channel.EMAIL, DeliveryMode.OFF)
