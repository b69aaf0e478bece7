"""Signing in and out, passwords, one-time password links, and the sign-in throttle."""

from __future__ import annotations

import enum
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Integer, and_, cast, delete, func, or_, select, update

from app import policy
from app.core.errors import DomainError, NotFoundError, ValidationError
from app.extensions import db
from app.infra.passwords import check_new_password, hash_password, verify_password
from app.infra.text import unwanted_character
from app.models import LoginFailure, PasswordResetLink, User
from app.models.base import utcnow
from app.models.user import new_session_token
from app.services import audit
from app.services.people import normalize_email

SIGN_IN_REFUSED = "Email or password is incorrect."
LINK_NOT_VALID = (
    "This password link is not valid: it was already used, replaced by a newer one, or it "
    "expired. Ask for a new one."
)
# The first of the two 32-bit keys of the sign-in advisory locks on PostgreSQL ("Sign").
SIGN_IN_LOCKS = 0x5369676E
# The throttle of "Forgot your password?" keeps its rows beside the failed sign-ins, under this.
RESET_KEY_PREFIX = "reset:"
# A client address as Werkzeug gives it (IPv4 or IPv6) is stored readably; anything else digested.
ADDRESS = re.compile(r"[0-9A-Fa-f:.]{1,45}")


class SignInError(DomainError):
    status = 400


class ThrottledError(DomainError):
    status = 429


@dataclass(frozen=True)
class _Keys:
    """What one attempt counts against: the email address, the client, the two together, and
    the browser when it signed in to this email address before (its device token)."""

    account: str
    client: str
    pair: str
    device: str | None = None

    @classmethod
    def of(cls, email: str, client: str, device_token: str | None = None) -> _Keys:
        # Digests: what was typed as an email (sometimes a password) is not kept, and every key
        # fits the column whatever its length or characters.
        account = _account_key(email)
        return cls(
            account=account,
            client=client_key(client),
            pair=f"pair:{digest(email + chr(10) + client)}",
            device=_device_key(device_token, account),
        )

    def all(self) -> list[str]:
        return [key for key in (self.account, self.client, self.pair, self.device) if key]


def _account_key(email: str) -> str:
    return f"account:{digest(email)}"


def client_key(client: str) -> str:
    return f"client:{client}" if ADDRESS.fullmatch(client) else f"client:{digest(client)}"


@dataclass(frozen=True)
class _Reservation:
    """A password check allowed to go ahead, and what it needs once no transaction is open."""

    row_ids: list[int]
    person_id: int | None
    password_hash: str | None


def authenticate(
    email: str,
    password: str,
    *,
    client: str,
    device: str | None = None,
    only: str | None = None,
) -> User:
    """The person with these credentials, or SignInError with one message for every failure.

    `only`, when given, is the one address whose password may sign in (SSO-only mode: the
    break-glass account's, or "" for none); every other address is counted by the throttle and
    refused exactly as a wrong password, so the answer does not tell which address is that one.

    Commits: the attempt is recorded (as a failure until the password proves right) and committed
    before the slow password check, so that parallel attempts count it and no transaction or
    lock is held while hashing.
    """
    email = normalize_email(email)
    keys = _Keys.of(email, client, device)
    reservation = _reserve_check(keys, email)
    db.session.commit()
    right = verify_password(reservation.password_hash, password)
    if not right or reservation.person_id is None or (only is not None and email != only):
        raise SignInError(SIGN_IN_REFUSED)  # the reserved rows stay: they record this failure
    person = db.session.get(User, reservation.person_id)
    if person is None or not person.is_active:  # deactivated during the check
        raise SignInError(SIGN_IN_REFUSED)
    db.session.execute(
        delete(LoginFailure).where(
            or_(LoginFailure.id.in_(reservation.row_ids), LoginFailure.key == keys.pair)
        )
    )
    # With two-factor on, the person is signed in only after the second step, which audits it.
    signed_in = "person.signed_in" if person.totp_enabled_at is None else "person.password_accepted"
    audit.record(person, signed_in, person, after={"client": client})
    return person


def _reserve_check(keys: _Keys, email: str) -> _Reservation:
    """Count the attempts and add this one in a single step, under a lock per email and client.

    PostgreSQL: advisory locks on the email key (which also covers the pair and device keys, both
    of one email) and the client key, taken in a fixed order so two attempts never wait on each
    other crosswise. SQLite: every transaction begins IMMEDIATE
    (app/database.py) and the purge below writes first, so the database's one write lock is held
    from before the count until the commit.
    """
    lock_keys(keys.account, keys.client)
    now = utcnow()
    since = now - current_app.config["LOGIN_FAILURE_WINDOW"]
    purge_expired(now)
    counted = db.session.execute(
        select(LoginFailure.key, func.count(), func.min(LoginFailure.at), func.max(LoginFailure.at))
        .where(LoginFailure.key.in_(keys.all()))
        .where(LoginFailure.at >= since)
        .group_by(LoginFailure.key)
    ).all()
    _refuse_if_throttled(keys, {key: (count, first, last) for key, count, first, last in counted})
    rows = [LoginFailure(key=key, at=now) for key in keys.all()]
    db.session.add_all(rows)
    db.session.flush()
    # An email with a control character cannot be anyone's, and PostgreSQL refuses NUL in a query.
    person = None
    if unwanted_character(email) is None:
        person = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    return _Reservation(
        row_ids=[row.id for row in rows],
        person_id=person.id if person is not None and person.is_active else None,
        password_hash=person.password_hash if person is not None else None,
    )


def lock_keys(*keys: str) -> None:
    """Serialise attempts on these throttle keys until the transaction ends (PostgreSQL: advisory
    locks in a fixed order; SQLite: its one write lock, taken by the purge that follows)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    numbers = {int.from_bytes(_digest_bytes(key)[:4], "big", signed=True) for key in keys}
    for number in sorted(numbers):
        # The (int4, int4) form: its locks never collide with the jobs' single bigint key.
        pair = (cast(SIGN_IN_LOCKS, Integer), cast(number, Integer))
        db.session.execute(select(func.pg_advisory_xact_lock(*pair)))


def purge_expired(now: datetime) -> None:
    """Forget the attempts that left their window: failed sign-ins after LOGIN_FAILURE_WINDOW,
    requests for a password email (keys starting "reset:") after PASSWORD_RESET_REQUEST_WINDOW."""
    config = current_app.config
    is_request = LoginFailure.key.startswith(RESET_KEY_PREFIX, autoescape=True)
    # Rows another attempt is purging right now are skipped rather than waited for: two purges
    # meeting on the same rows in different orders would deadlock (SQLite ignores SKIP LOCKED).
    expired = (
        select(LoginFailure.id)
        .where(
            or_(
                and_(~is_request, LoginFailure.at < now - config["LOGIN_FAILURE_WINDOW"]),
                and_(is_request, LoginFailure.at < now - config["PASSWORD_RESET_REQUEST_WINDOW"]),
            )
        )
        .with_for_update(skip_locked=True)
    )
    db.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(expired.scalar_subquery())))


def _refuse_if_throttled(keys: _Keys, counted: dict[str, tuple[int, datetime, datetime]]) -> None:
    """Refuse before the password check: this client on this email, or this client on any email,
    failed too often (refused until those failures leave the window); or this email failed too
    often from everywhere (slowed to one check per interval, never locked). A browser that
    signed in to this email before is judged by its own failures alone, so strangers sharing
    its address or guessing from everywhere do not slow it down (OWASP's device cookies)."""
    config = current_app.config
    now = utcnow()
    tight = config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT"]
    limits = (
        [(keys.device, tight)]
        if keys.device
        else [(keys.pair, tight), (keys.client, config["LOGIN_MAX_FAILURES_PER_CLIENT"])]
    )
    for key, limit in limits:
        count, first, _ = counted.get(key, (0, now, now))
        if count >= limit:
            raise ThrottledError(
                _wait_message(_as_utc(first) + config["LOGIN_FAILURE_WINDOW"] - now)
            )
    count, _, last = counted.get(keys.account, (0, now, now))
    if keys.device is None and count >= config["LOGIN_ACCOUNT_SLOW_AFTER"]:
        wait = _as_utc(last) + config["LOGIN_ACCOUNT_SLOW_INTERVAL"] - now
        if wait > timedelta(0):
            raise ThrottledError(_wait_message(wait))


def device_token(person: User) -> str:
    """A token for the browser that just signed in as the person (a cookie): with it, that
    browser keeps its own failure count on this email address, apart from everyone else's."""
    account = _account_key(person.email)
    return _device_serializer().dumps({"account": account, "device": secrets.token_urlsafe(16)})


def _device_key(token: str | None, account: str) -> str | None:
    if not token:
        return None
    max_age = current_app.config["LOGIN_DEVICE_TTL"].total_seconds()
    try:
        data = _device_serializer().loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("account") != account:
        return None  # a token of another email address is no token for this one
    return f"device:{digest(str(data.get('device')))}"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rungs.sign-in-device")


def _wait_message(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        amount = f"{seconds} second{'s' if seconds > 1 else ''}"
    else:
        minutes = math.ceil(seconds / 60)
        amount = f"{minutes} minute{'s' if minutes > 1 else ''}"
    return (
        f"Too many failed sign-ins. Wait {amount} and try again, "
        "or ask your head of product for a new password link."
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
    """A new one-time token for the person, made by the head of product to be passed on by hand
    (or emailed as an invitation); earlier unused links stop working. Returns the token."""
    policy.authorize(actor, "people.manage")
    if not person.is_active:
        raise ValidationError(f"{person.name} is deactivated; reactivate them first.")
    token = issue_link(person, created_by=actor, ttl=current_app.config["PASSWORD_RESET_TTL"])
    audit.record(actor, "person.password_link_created", person)
    return token


def issue_link(
    person: User, *, created_by: User | None, ttl: timedelta, replaces_earlier: bool = True
) -> str:
    """Store a new one-time link (only its digest) and return its token. `replaces_earlier`:
    the person's unused links stop working (a person just created has none to look for)."""
    now = utcnow()
    if replaces_earlier:
        _close_open_links(person.id, now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetLink(
            user_id=person.id,
            token_hash=digest(token),
            created_by_id=created_by.id if created_by else None,
            expires_at=now + ttl,
        )
    )
    return token


def load_session_user(session_token: str) -> User | None:
    """The active person a session's token names, or None (signed out everywhere, deactivated)."""
    person = db.session.execute(
        select(User).where(User.session_token == session_token)
    ).scalar_one_or_none()
    return person if person is not None and person.is_active else None


class LinkProblem(enum.StrEnum):
    """Why a password link cannot be used, as its page explains it."""

    UNKNOWN = "unknown"  # no such link (mistyped, cut short)
    USED = "used"  # used once already, or replaced by a newer link
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"  # its holder can no longer sign in


@dataclass(frozen=True)
class LinkCheck:
    """What a password link's page shows: the person it is for, or why it does not work."""

    person: User | None
    problem: LinkProblem | None
    expires_at: datetime | None = None

    @property
    def status(self) -> int:
        """404 for a link that never was; 410 (gone) for one that was and is no longer."""
        if self.problem is None:
            return 200
        return 404 if self.problem is LinkProblem.UNKNOWN else 410


def check_reset_link(token: str) -> LinkCheck:
    """Whether a one-time password link works, and if not, why not (for a page that says so)."""
    link = _link_by_token(token)
    if link is None:
        return LinkCheck(None, LinkProblem.UNKNOWN)
    person = db.session.get(User, link.user_id)
    if person is None or not person.is_active:
        return LinkCheck(None, LinkProblem.DEACTIVATED)
    if link.used_at is not None:
        return LinkCheck(person, LinkProblem.USED)
    if link.expires_at <= utcnow():
        return LinkCheck(person, LinkProblem.EXPIRED, link.expires_at)
    return LinkCheck(person, None, link.expires_at)


def reset_link_holder(token: str) -> User:
    """The person a valid one-time password link is for (NotFoundError for any other link)."""
    return db.session.get(User, find_reset_link(token).user_id)


def find_reset_link(token: str) -> PasswordResetLink:
    link = _link_by_token(token)
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise NotFoundError(LINK_NOT_VALID)
    person = db.session.get(User, link.user_id)
    if person is None or not person.is_active:
        raise NotFoundError("This password link is not valid any more.")
    return link


def _link_by_token(token: str) -> PasswordResetLink | None:
    return db.session.execute(
        select(PasswordResetLink).where(PasswordResetLink.token_hash == digest(token))
    ).scalar_one_or_none()


def reset_password(token: str, new: str, *, client: str | None = None) -> User:
    """Set the password from a one-time link; every session of the person ends (a new session
    token), and so do their other unused links. The link proves the person, so the failures
    counted against their email address, and against it from this client, are forgotten: the
    throttle's message sends a locked-out person here, and it must let them in afterwards."""
    link = find_reset_link(token)
    person = db.session.get(User, link.user_id)
    check_new_password(new, email=person.email, field="password")
    now = utcnow()
    # Claimed by a conditional update, so that of two requests racing with one link only one
    # sets a password (the other finds it used once the first commits).
    claimed = db.session.execute(
        update(PasswordResetLink)
        .where(PasswordResetLink.id == link.id, PasswordResetLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise NotFoundError(LINK_NOT_VALID)
    _close_open_links(person.id, now)
    _set_password(person, new)
    keys = _Keys.of(person.email, client) if client else None
    forgotten = [_account_key(person.email), *([keys.pair] if keys else [])]
    db.session.execute(delete(LoginFailure).where(LoginFailure.key.in_(forgotten)))
    audit.record(person, "person.password_reset", person)
    return person


def _set_password(person: User, password: str) -> None:
    person.password_hash = hash_password(password)
    person.session_token = new_session_token()
    person.updated_at = utcnow()
    db.session.flush()


def _close_open_links(person_id: int, now: datetime) -> None:
    db.session.execute(
        update(PasswordResetLink)
        .where(PasswordResetLink.user_id == person_id, PasswordResetLink.used_at.is_(None))
        .values(used_at=now)
    )


def digest(token: str) -> str:
    return _digest_bytes(token).hex()


def _digest_bytes(text: str) -> bytes:
    # surrogatepass: a lone surrogate typed into a form still digests instead of failing.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
