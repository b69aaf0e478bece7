"""Invitations: a new person gets their one-time password link by email, not copied by hand.

The link is the head of product's kind (PASSWORD_RESET_TTL); the message is transactional (it
cannot be turned off) and goes through the outbox like every other. Without MAIL_SERVER nothing
is sent and the head of product makes and passes on a link as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app import policy
from app.core.errors import ValidationError
from app.models import MessageCategory, User
from app.services import audit, messages, people
from app.services.messages.outbox import email_enabled
from app.services.people import auth
from app.services.people import importing as people_import
from app.services.people.password_reset import link_lifetime_words

TEMPLATE = "invitation"


@dataclass(frozen=True)
class Added:
    """People just added, and whether each was sent an invitation."""

    people: list[User]
    is_invited: bool

    @property
    def person(self) -> User:
        return self.people[0]


@dataclass(frozen=True)
class Offer:
    """What the forms that add people say about invitations: whether email is on, and how long
    an invitation's link works (in words)."""

    is_email_on: bool
    lifetime: str


def offer() -> Offer:
    return Offer(email_enabled(), link_lifetime_words(current_app.config["PASSWORD_RESET_TTL"]))


def add_person(actor: User, data: people.PersonInput, *, invite: bool) -> Added:
    """Create the person; with `invite` (and email on), email them a password link."""
    person = people.create_person(actor, data)
    invited = invite and email_enabled()
    if invited:
        _invite(actor, person, replaces_earlier=False)
    return Added([person], invited)


def import_people(actor: User, data: bytes, *, invite: bool) -> Added:
    """Import the CSV (all or nobody); with `invite` (and email on), email everyone a link."""
    created = people_import.import_people(actor, data)
    invited = invite and email_enabled()
    if invited:
        for person in created:
            _invite(actor, person, replaces_earlier=False)
    return Added(created, invited)


def send_invitation(actor: User, person: User) -> User:
    """Email the person a new password link (their earlier unused links stop working)."""
    policy.authorize(actor, "people.manage")
    if not email_enabled():
        raise ValidationError("Email is off, so Rungs cannot send the link: make one instead.")
    if not person.is_active:
        raise ValidationError(f"{person.name} is deactivated; reactivate them first.")
    _invite(actor, person, replaces_earlier=True)
    return person


def _invite(actor: User, person: User, *, replaces_earlier: bool) -> None:
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    token = auth.issue_link(person, created_by=actor, ttl=ttl, replaces_earlier=replaces_earlier)
    messages.deliver(
        person,
        MessageCategory.TRANSACTIONAL,
        subject=f"{actor.name} invited you to Rungs",
        template=TEMPLATE,
        context={"inviter": actor.name, "lifetime": link_lifetime_words(ttl)},
        link=messages.absolute_url("auth.set_password", token=token),
        dedupe_key=f"password-link:{auth.digest(token)}",
    )
    audit.record(actor, "person.invited", person)
