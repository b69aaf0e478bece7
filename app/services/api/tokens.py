"""Personal access tokens: made by their owner, shown once, kept only as a SHA-256 digest.

A token acts as its owner and within its scope; it stops working when revoked, when it expires,
or when its owner is deactivated. Making and revoking are audited, never with the secret.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.infra.passwords import verify_password
from app.infra.text import check_text
from app.models import User
from app.models.base import utcnow
from app.models.identity import ApiScope, ApiToken
from app.services import audit
from app.services.people import auth, two_factor

PREFIX = "rungs_"
EXPIRY_DAYS = (7, 30, 90, 365)
NAME_MAX = 80


class TokenProblem(enum.StrEnum):
    """Why a presented token does not let anyone in (the 401's detail says which)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    OWNER_INACTIVE = "owner_inactive"


class TokenError(Exception):
    def __init__(self, problem: TokenProblem, token_id: int | None = None):
        super().__init__(problem.value)
        self.problem = problem
        self.token_id = token_id  # a known token (revoked, expired, owner gone): its uses count


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown once and never again."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


PASSWORD_REFUSED = "Your password is not correct."  # noqa: S105 - a message


def needs_password(owner: User) -> bool:
    """Whether making a token asks for the password again: not for people who have none
    (they sign in only through the organisation's sign-in service; the session is enough)."""
    return owner.password_hash is not None


def needs_code(owner: User) -> bool:
    """Whether making a token also asks for a code from the person's two-factor app."""
    return two_factor.is_on(owner)


def confirm_identity(owner: User, *, password: str | None, code: str | None, client: str) -> None:
    """The person proves it is them again before a token is made: their password (if they
    have one) and, with two-factor on, a current code from their app. With two-factor on the
    attempt is counted by the two-factor throttle (committed before the check)."""
    attempt = None
    if needs_code(owner):
        try:
            attempt = two_factor.reserve_attempt(owner.id, client)
        except auth.ThrottledError as error:
            raise ValidationError(error.message, field="code") from error
    if needs_password(owner) and not verify_password(owner.password_hash, password or ""):
        raise ValidationError(PASSWORD_REFUSED, field="password")
    if attempt is not None:
        problem = two_factor.accept_code(owner, code or "")
        if problem is not None:
            raise ValidationError(problem, field="code")
        two_factor.forget_attempt(attempt)


def make_confirmed(
    owner: User,
    *,
    name: str,
    scope: ApiScope,
    days: int,
    password: str | None,
    code: str | None,
    client: str,
) -> NewToken:
    """The tokens page's "Make token": the person confirms it is them, then the token is made."""
    _check_fields(name, days)
    confirm_identity(owner, password=password, code=code, client=client)
    return create_token(owner, name=name, scope=scope, days=days)


def _check_fields(name: str, days: int) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the token a name, to tell it by later.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Keep the name to {NAME_MAX} characters.", field="name")
    check_text(name, "The name", field="name")
    if days not in EXPIRY_DAYS:
        raise ValidationError("Choose one of the offered expiry periods.", field="expires")
    return name


def create_token(owner: User, *, name: str, scope: ApiScope, days: int) -> NewToken:
    """Make a token for `owner` (for themselves only; the page confirms who they are first,
    through `make_confirmed`)."""
    name = _check_fields(name, days)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=owner.id,
        name=name,
        token_hash=digest(secret),
        hint=secret[: len(PREFIX) + 4] + "…",
        scope=ApiScope(scope),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    audit.record(owner, "api_token.create", token, after=_snapshot(token))
    return NewToken(token, secret)


def tokens_of(owner: User) -> list[ApiToken]:
    """The owner's tokens, newest first (revoked ones too, marked so)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == owner.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(owner: User, token_id: int) -> ApiToken:
    """Revoke one of the owner's own tokens; anyone else's is not found."""
    token = own_token(owner, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(owner, "api_token.revoke", token, after={"name": token.name})
    return token


def revoke_all(owner: User, *, actor: User, reason: str) -> int:
    """Revoke every live token of `owner` in one UPDATE (e.g. when a head turns off their
    two-factor); one audit event on the owner says how many and why. Flushed; the caller
    commits. Returns how many tokens were revoked."""
    now = utcnow()
    result = db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == owner.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    count = result.rowcount or 0
    audit.record(actor, "api_token.revoke_all", owner, after={"revoked": count, "reason": reason})
    db.session.flush()
    return count


def authenticate(secret: str | None, *, now: datetime | None = None) -> ApiToken:
    """The live token for a presented secret, its owner loaded; TokenError says why not."""
    if not secret:
        raise TokenError(TokenProblem.MISSING)
    if not secret.startswith(PREFIX) or len(secret) > 200 or not secret.isascii():
        raise TokenError(TokenProblem.MALFORMED)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None:
        raise TokenError(TokenProblem.UNKNOWN)
    if token.revoked_at is not None:
        raise TokenError(TokenProblem.REVOKED, token.id)
    if token.expires_at <= (now or utcnow()):
        raise TokenError(TokenProblem.EXPIRED, token.id)
    owner = db.session.get(User, token.user_id)
    if owner is None or not owner.is_active:
        raise TokenError(TokenProblem.OWNER_INACTIVE, token.id)
    return token


def person(user_id: int) -> User:
    """A token's owner, to act as for the request."""
    return db.session.get(User, user_id)


def _snapshot(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "scope": token.scope.value,
        "hint": token.hint,
        "expires_at": token.expires_at.isoformat(),
    }


def get_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError("Not found.")
    return token


def own_token(owner: User, token_id: int) -> ApiToken:
    """One of the owner's tokens (for its revoke page); anyone else's is not found."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == owner.id)
    )
    if token is None:
        raise NotFoundError("Not found.")
    return token


def state(token: ApiToken, now: datetime | None = None) -> str:
    """ "active", "expired" or "revoked", for the list."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= (now or utcnow()) else "active"
