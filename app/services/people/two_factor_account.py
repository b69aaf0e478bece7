"""Two-factor sign-in on a person's account: setting it up, turning it on and off, new recovery
codes, the head of product's reset, and the organisation's requirement for heads and managers.

Every change that needs the password and a code counts its attempt in the two-factor throttle
first (committed), so that a borrowed session cannot guess either without limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
from sqlalchemy import delete, func, select

from app import policy
from app.core.errors import ValidationError
from app.extensions import db
from app.infra.passwords import verify_password
from app.models import RecoveryCode, Role, Setting, User
from app.models.base import utcnow
from app.models.user import new_session_token
from app.services import audit, org_settings
from app.services.api import tokens
from app.services.people import two_factor

SETTING_KEY = "two_factor"
PASSWORD_REFUSED = "Your password is not correct."  # noqa: S105 - a message


@dataclass(frozen=True)
class SetupPage:
    """What the person's "Two-factor sign-in" page shows."""

    is_on: bool
    enabled_at: datetime | None
    codes_left: int
    is_required: bool  # the organisation requires it of this person
    has_password: bool
    # While setting up: the secret to type by hand (in groups of four) and its QR code.
    secret: str | None = None
    qr_data_uri: str | None = None

    @property
    def is_setting_up(self) -> bool:
        return not self.is_on and self.secret is not None


def setup_page(person: User) -> SetupPage:
    is_on = two_factor.is_on(person)
    secret = None if is_on else two_factor.read_secret(person)
    qr = None
    if secret is not None:
        # An SVG in a data: address: the CSP allows data: images, and no inline style is needed.
        code = segno.make(two_factor.provisioning_uri(person, secret), error="m")
        qr = code.svg_data_uri(scale=5, border=2, dark="#111", light="#fff")
    return SetupPage(
        is_on=is_on,
        enabled_at=person.totp_enabled_at,
        codes_left=two_factor.recovery_codes_left(person.id) if is_on else 0,
        is_required=applies_to(person) and is_required(),
        has_password=person.password_hash is not None,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) if secret else None,
        qr_data_uri=qr,
    )


def start_setup(person: User) -> None:
    """A new secret for the person to add to their app (not on until they confirm a code)."""
    if two_factor.is_on(person):
        raise ValidationError("Two-factor sign-in is on already.")
    if person.password_hash is None:
        raise ValidationError("Set a password first: two-factor sign-in is for password sign-in.")
    person.totp_secret = two_factor.new_sealed_secret()
    person.totp_last_step = None
    db.session.flush()


def turn_on(person: User, *, password: str, code: str, client: str) -> list[str]:
    """Confirm the setup with the password and a code from the app: two-factor is on, every
    other session of the person ends (a new session token), and ten recovery codes are made.
    Returns the recovery codes, to be shown once."""
    if two_factor.is_on(person):
        raise ValidationError("Two-factor sign-in is on already.")
    if two_factor.read_secret(person) is None:
        raise ValidationError("Start the setup again: there is no secret to confirm.")
    attempt = two_factor.reserve_attempt(person.id, client)
    _check_password(person, password)
    problem = two_factor.accept_code(person, code, enabled=False)
    if problem is not None:
        raise ValidationError(problem, field="code")
    two_factor.forget_attempt(attempt)
    person.totp_enabled_at = utcnow()
    person.session_token = new_session_token()
    person.updated_at = utcnow()
    codes = two_factor.new_recovery_codes(person)
    audit.record(person, "person.two_factor_enabled", person, after={"client": client})
    return codes


def regenerate_recovery_codes(person: User, *, password: str, code: str, client: str) -> list[str]:
    """Ten new recovery codes (the earlier ones stop working), for the password and a code."""
    _require_on(person)
    attempt = two_factor.reserve_attempt(person.id, client)
    _check_password(person, password)
    problem = two_factor.accept_code(person, code)
    if problem is not None:
        raise ValidationError(problem, field="code")
    two_factor.forget_attempt(attempt)
    codes = two_factor.new_recovery_codes(person)
    audit.record(person, "person.recovery_codes_regenerated", person, after={"client": client})
    return codes


def turn_off(person: User, *, password: str, code: str, client: str) -> None:
    """Turn two-factor off, for the password and a code from the app or a recovery code."""
    _require_on(person)
    attempt = two_factor.reserve_attempt(person.id, client)
    _check_password(person, password)
    if two_factor.CODE.fullmatch(two_factor.clean_code(code)):
        problem = two_factor.accept_code(person, code)
    elif two_factor.use_recovery_code(person, code) is None:
        problem = two_factor.WRONG_RECOVERY_CODE
    else:
        problem = None
        audit.record(person, "person.recovery_code_used", person, after={"client": client})
    if problem is not None:
        raise ValidationError(problem, field="code")
    two_factor.forget_attempt(attempt)
    _clear(person)
    audit.record(person, "person.two_factor_disabled", person, after={"client": client})


@dataclass(frozen=True)
class ResetPage:
    """What the head is about to do to `person`, to confirm."""

    person: User
    asked_to_set_up_again: bool  # the requirement covers them: set up again at next sign-in


def reset_page(actor: User, person: User) -> ResetPage:
    policy.authorize(actor, "people.manage")
    _check_resettable(actor, person)
    return ResetPage(person, _asked_to_set_up_again(person))


def _asked_to_set_up_again(person: User) -> bool:
    return applies_to(person) and person.password_hash is not None and is_required()


def _check_resettable(actor: User, person: User) -> None:
    if person.id == actor.id:
        raise ValidationError("Turn your own off on your Two-factor sign-in page.")
    if not two_factor.is_on(person):
        raise ValidationError(f"{person.name} does not use two-factor sign-in.")


def reset(actor: User, person: User) -> ResetPage:
    """The head of product turns a person's two-factor off (they lost their phone and their
    recovery codes): the person's sessions end and their API tokens are revoked (what was lost
    with the phone may hold those too); they sign in with their password alone, or set it up
    again at their next sign-in where it is required."""
    policy.authorize(actor, "people.manage")
    _check_resettable(actor, person)
    _clear(person)
    person.session_token = new_session_token()
    audit.record(actor, "person.two_factor_reset", person)
    tokens.revoke_all(person, actor=actor, reason="two-factor sign-in reset")
    return ResetPage(person, _asked_to_set_up_again(person))


def _clear(person: User) -> None:
    person.totp_secret = None
    person.totp_enabled_at = None
    person.totp_last_step = None
    person.updated_at = utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == person.id))
    db.session.flush()


def _require_on(person: User) -> None:
    if not two_factor.is_on(person):
        raise ValidationError("Two-factor sign-in is not on.")


def _check_password(person: User, password: str) -> None:
    if not verify_password(person.password_hash, password or ""):
        raise ValidationError(PASSWORD_REFUSED, field="password")


# The organisation's requirement ----------------------------------------------------------


def applies_to(person: User) -> bool:
    """Whom the requirement covers: heads of product and managers."""
    return person.role in (Role.HEAD, Role.MANAGER)


def is_required() -> bool:
    row = db.session.get(Setting, SETTING_KEY)
    return bool(row is not None and row.value.get("required_for_managers"))


def must_set_up(person: User) -> bool:
    """The person signed in with a password must set up two-factor before anything else."""
    return (
        applies_to(person)
        and not two_factor.is_on(person)
        and person.password_hash is not None
        and is_required()
    )


@dataclass(frozen=True)
class RequirementPage:
    is_required: bool
    covered: int  # active heads and managers
    covered_on: int  # … of whom have two-factor on


def requirement_page(actor: User) -> RequirementPage:
    policy.authorize(actor, "settings.manage")
    covered, covered_on = db.session.execute(
        select(func.count(User.id), func.count(User.totp_enabled_at)).where(
            User.role.in_((Role.HEAD, Role.MANAGER)), User.deactivated_at.is_(None)
        )
    ).one()
    return RequirementPage(is_required(), covered, covered_on)


def set_requirement(actor: User, *, required: bool) -> None:
    policy.authorize(actor, "settings.manage")
    row = db.session.get(Setting, SETTING_KEY)
    before = bool(row is not None and row.value.get("required_for_managers"))
    org_settings.save(
        actor,
        SETTING_KEY,
        {"required_for_managers": required},
        action="settings.two_factor_changed",
        before={"required_for_managers": before},
        after={"required_for_managers": required},
    )
