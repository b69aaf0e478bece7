"""Signing in through the OpenID provider: whom the provider's checked claims name in Rungs, and
what passwords may still do when sign-in is SSO-only.

A person is found by the provider's `issuer` and `sub` once they signed in before (an
ExternalIdentity row), whatever their address at the provider has become since; the first time,
by their email address, and only when the provider says it verified it (`email_verified`).
Someone the provider vouches for but Rungs does not know is refused, or added as a product
manager without a manager for the head of product to place, as the head chose. Every sign-in,
refusal and addition is audited; tokens never are. The protocol itself (PKCE, state, nonce, the
ID token's signature, issuer, audience and expiry) is app/sso/client.py's, with Authlib.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationError
from app.extensions import db
from app.infra.text import unwanted_character
from app.models import AuditEvent, ExternalIdentity, Role, Setting, User
from app.models.base import utcnow
from app.services import audit
from app.services.people import clean_email, clean_name, find_by_email, snapshot
from app.services.people.auth import check_reset_link
from app.services.people.sso_settings import (
    UnknownPeople,
    break_glass_person,
    stored,
)

SUBJECT_MAX = 255
ISSUER_MAX = 300
PLACEMENT_LIST_MAX = 50


@dataclass(frozen=True)
class SignInOptions:
    """What the sign-in page offers: only what works."""

    provider_name: str = ""
    has_sso: bool = False
    has_passwords: bool = True  # False: SSO-only, the password form is for break-glass alone
    has_break_glass: bool = False  # SSO-only with a break-glass account that can sign in


def sign_in_options() -> SignInOptions:
    settings = stored()
    if not settings.is_configured:
        return SignInOptions()
    if not settings.is_sso_only:
        # Passwords work: no button that the last check of this provider says cannot work.
        return SignInOptions(settings.provider_name, has_sso=not settings.check_problem)
    return SignInOptions(
        settings.provider_name,
        has_sso=True,
        has_passwords=False,
        has_break_glass=break_glass_person() is not None,
    )


def passwords_are_off() -> bool:
    settings = stored()
    return settings.is_configured and settings.is_sso_only


def password_only_for() -> str | None:
    """Whose password may still sign in: None when passwords are on (anyone's); with passwords
    off, the break-glass account's address, or "" when there is none. Any other address is
    refused as a wrong password (auth.authenticate's `only`), throttled the same way."""
    if not passwords_are_off():
        return None
    glass = break_glass_person()
    return glass.email if glass is not None else ""


def password_link_refusal(token: str | None = None) -> str | None:
    """Why "Forgot your password?" or a password link does not work now (None: it does). With
    passwords off, only a link made for the break-glass account still sets a password."""
    if not passwords_are_off():
        return None
    if token is not None:
        holder = check_reset_link(token).person
        glass = break_glass_person()
        if holder is None or (glass is not None and holder.id == glass.id):
            return None  # the link's own page says what is wrong with it, or it works
    return (
        f"Sign in with {stored().provider_name}: Rungs uses no passwords any more, so there is "
        "none to set or reset. If your account there does not work, ask your company's IT. "
        "(The one break-glass account gets a password link from the command line: flask "
        "people password-link EMAIL.)"
    )


# --- signing in -------------------------------------------------------------------------------


class Refusal(enum.StrEnum):
    """Why the provider's person may not come in (the audit's `reason`)."""

    NO_SUBJECT = "no_subject"
    NO_EMAIL = "no_email"
    UNVERIFIED_EMAIL = "unverified_email"
    UNKNOWN_PERSON = "unknown_person"
    DEACTIVATED = "deactivated"
    OTHER_SUBJECT = "other_subject"
    DOMAIN_NOT_ALLOWED = "domain_not_allowed"
    RACE = "race"


@dataclass(frozen=True)
class SignInOutcome:
    """A person to start a session for, or the reason (and words) for refusing."""

    person: User | None = None
    refusal: Refusal | None = None
    message: str = ""
    is_new: bool = False


def sign_in(issuer: str, claims: Mapping[str, Any], *, client: str) -> SignInOutcome:
    """Match the checked ID token's claims (plus userinfo) to a person, linking the provider's
    identity the first time and adding an unknown person when the head allows it. Audited
    either way; the caller commits, also after a refusal (to keep its audit row)."""
    subject = _text_claim(claims, "sub", SUBJECT_MAX)
    if not subject or len(issuer) > ISSUER_MAX:
        return _refuse(Refusal.NO_SUBJECT, None, issuer, client, claims)
    identity = db.session.execute(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
        )
    ).scalar_one_or_none()
    email = _verified_email(claims)
    if identity is not None:
        return _returning(identity, email, client)
    if email is None:
        reason = Refusal.UNVERIFIED_EMAIL if claims.get("email") else Refusal.NO_EMAIL
        return _refuse(reason, None, issuer, client, claims)
    person = find_by_email(email)
    if person is not None and not person.is_active:
        return _refuse(Refusal.DEACTIVATED, person, issuer, client, claims)
    if person is None and stored().unknown_people is UnknownPeople.REFUSE:
        return _refuse(Refusal.UNKNOWN_PERSON, None, issuer, client, claims)
    allowed = stored().allowed_domains
    if person is None and allowed and email.rpartition("@")[2] not in allowed:
        return _refuse(Refusal.DOMAIN_NOT_ALLOWED, None, issuer, client, claims)
    if person is not None and _linked_at(person, issuer):
        # The person already signs in here as someone else at this provider: an address the
        # provider gave to a new account (reassigned, or claimed) must not take theirs over.
        return _refuse(Refusal.OTHER_SUBJECT, person, issuer, client, claims)
    try:
        with db.session.begin_nested():  # another sign-in of the same person at the same moment
            is_new = person is None
            if is_new:
                person = _add_person(email, claims, issuer)
            identity = ExternalIdentity(
                user_id=person.id, issuer=issuer, subject=subject, email=email
            )
            db.session.add(identity)
            db.session.flush()
    except IntegrityError:
        return _refuse(Refusal.RACE, None, issuer, client, claims)
    audit.record(None, "person.sso_linked", person, after={"issuer": issuer, "subject": subject})
    return _signed_in(person, identity, client, is_new=is_new)


def _linked_at(person: User, issuer: str) -> bool:
    return (
        db.session.execute(
            select(ExternalIdentity.id).where(
                ExternalIdentity.user_id == person.id, ExternalIdentity.issuer == issuer
            )
        ).first()
        is not None
    )


def _returning(identity: ExternalIdentity, email: str | None, client: str) -> SignInOutcome:
    person = db.session.get(User, identity.user_id)
    if not person.is_active:
        return _refuse(Refusal.DEACTIVATED, person, identity.issuer, client, {})
    if email is not None:
        identity.email = email  # what the provider vouches for now (it may have changed)
    identity.last_signed_in_at = utcnow()
    return _signed_in(person, identity, client)


def _signed_in(
    person: User, identity: ExternalIdentity, client: str, *, is_new: bool = False
) -> SignInOutcome:
    audit.record(
        person,
        "person.signed_in",
        person,
        after={"client": client, "method": "sso", "issuer": identity.issuer},
    )
    return SignInOutcome(person=person, is_new=is_new)


def _add_person(email: str, claims: Mapping[str, Any], issuer: str) -> User:
    """A product manager without a manager or level, for the head of product to place."""
    name = _text_claim(claims, "name", 500)
    try:
        name = clean_name(name) if name else email
    except ValidationError:
        name = email[:120]
    person = User(email=email, name=name, role=Role.PM, password_hash=None)
    db.session.add(person)
    db.session.flush()
    audit.record(
        None,
        "person.created",
        person,
        after={**snapshot(person, []), "source": "sso", "issuer": issuer},
    )
    return person


def _verified_email(claims: Mapping[str, Any]) -> str | None:
    """The address, when the provider says it verified it (some send the string "true").

    Entra ID never sends `email_verified` for an organisation's accounts; its optional claim
    `xms_edov` (the address's domain is verified by the tenant, whose own issuer Rungs checks)
    stands in for it, and only when `email_verified` is absent altogether."""
    email = _text_claim(claims, "email", 254)
    if "email_verified" in claims:
        is_verified = claims["email_verified"] in (True, "true")
    else:
        is_verified = claims.get("xms_edov") is True
    if not email or not is_verified:
        return None
    try:
        return clean_email(email)
    except ValidationError:
        return None


def _text_claim(claims: Mapping[str, Any], name: str, longest: int) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or len(value) > longest or unwanted_character(value):
        return ""
    return value.strip()


REFUSALS = {
    Refusal.NO_SUBJECT: "{provider} did not say who you are (no subject in the ID token).",
    Refusal.NO_EMAIL: "{provider} did not send your email address, which Rungs needs to find "
    "you. Ask your company's IT to release the email claim to Rungs.",
    Refusal.UNVERIFIED_EMAIL: "{provider} has not verified your email address ({email}), so "
    "Rungs cannot tell it is yours. Verify it at {provider}, or ask your company's IT.",
    Refusal.UNKNOWN_PERSON: "No one in Rungs has the address {email}. Ask your head of "
    "product to add you, then sign in again.",
    Refusal.DEACTIVATED: "Your Rungs account is deactivated. Ask your head of product if you "
    "think it should not be.",
    Refusal.OTHER_SUBJECT: "The Rungs account for {email} is already linked to a different "
    "{provider} account, so Rungs will not let this one take it over. Sign in with that "
    "account, or ask your company's IT.",
    Refusal.DOMAIN_NOT_ALLOWED: "No one in Rungs has the address {email}, and Rungs adds people "
    "only from its organisation's own email domains. Ask your head of product to add you.",
    Refusal.RACE: "Another sign-in for you was being handled at the same moment. Try again.",
}


def _refuse(
    reason: Refusal,
    person: User | None,
    issuer: str,
    client: str,
    claims: Mapping[str, Any],
) -> SignInOutcome:
    email = _text_claim(claims, "email", 254)
    db.session.add(
        AuditEvent(
            actor_id=None,
            action="person.sso_refused",
            entity_type=User.__tablename__,
            entity_id=person.id if person else None,
            after={
                "reason": reason.value,
                "issuer": issuer[:ISSUER_MAX],
                "email": email,
                "client": client,
            },
        )
    )
    message = REFUSALS[reason].format(provider=stored().provider_name, email=email or "none")
    return SignInOutcome(refusal=reason, message=message)


def record_failure(reason: str, *, client: str) -> None:
    """A sign-in the protocol refused (state, code, token checks): audited with the reason in
    words, never a token. The caller commits."""
    db.session.add(
        AuditEvent(
            actor_id=None,
            action="sso.sign_in_failed",
            entity_type=Setting.__tablename__,
            entity_id=None,
            after={"key": "sso", "reason": reason[:300], "client": client},
        )
    )


# --- people to be placed ----------------------------------------------------------------------


def awaiting_placement() -> list[User]:
    """Product managers who came in through single sign-on and have no manager yet (newest
    first): the people page lists them for the head of product to place."""
    has_identity = exists().where(ExternalIdentity.user_id == User.id)
    return list(
        db.session.execute(
            select(User)
            .where(
                User.deactivated_at.is_(None),
                User.role == Role.PM,
                User.manager_id.is_(None),
                has_identity,
            )
            .order_by(User.created_at.desc(), User.id.desc())
            .limit(PLACEMENT_LIST_MAX)
        ).scalars()
    )
