"""Two-factor sign-in, the core: the authenticator app's secret (sealed at rest), checking a code
once and only once, single-use recovery codes, and the throttle on wrong codes.

A code is accepted for its own 30-second step or the one before or after (clocks drift), and
never for a step at or before the last one the person used: the step is stored by a conditional
UPDATE, so of two requests racing with one code only one gets in. A recovery code is spent the
same way. Wrong codes are counted like failed sign-ins (LoginFailure rows, keys "totp:…"), per
person and per client, and each attempt is recorded and committed before its check, so that
parallel attempts count each other (as app/services/people/auth.py does for passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.infra import secret_box
from app.models import LoginFailure, RecoveryCode, User
from app.models.base import utcnow
from app.services.people import auth

SEALED_PURPOSE = "totp-secret"
RECOVERY_PURPOSE = "recovery-code"
KEY_PREFIX = "totp:"
RECOVERY_CODES = 10
# Recovery codes: 12 characters from 31 that cannot be mistaken for one another (no 0/o, 1/l/i),
# about 59 bits each, shown as "abcd-efgh-jkmn".
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE = re.compile(r"[0-9]{6}")
WRONG_CODE = "That code is not right. Type the 6 digits your app shows now."
USED_CODE = "That code was used already. Wait for your app to show the next one."
WRONG_RECOVERY_CODE = "That recovery code is not right, or it was used already."


def is_on(person: User) -> bool:
    return person.totp_enabled_at is not None


# The secret -------------------------------------------------------------------------------


def _keys() -> list[str]:
    config = current_app.config
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


def new_sealed_secret() -> str:
    """A new random base32 secret (160 bits), sealed for the users.totp_secret column."""
    return secret_box.seal(pyotp.random_base32(), keys=_keys(), purpose=SEALED_PURPOSE)


def read_secret(person: User) -> str | None:
    """The person's secret in clear, or None when there is none or it cannot be opened (the
    secret key changed without keeping the old one in SECRET_KEY_FALLBACKS)."""
    if not person.totp_secret:
        return None
    try:
        return secret_box.open_sealed(person.totp_secret, keys=_keys(), purpose=SEALED_PURPOSE)
    except secret_box.SecretUnreadableError:
        current_app.logger.warning("two-factor secret of person %s cannot be read", person.id)
        return None


def provisioning_uri(person: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=person.email, issuer_name=issuer)


# Checking codes ---------------------------------------------------------------------------


def clean_code(code: str | None) -> str:
    return re.sub(r"\s+", "", code or "")


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (of the one before, now, and the one after) whose code this is, or None."""
    code = clean_code(code)
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def accept_code(person: User, code: str, *, enabled: bool = True) -> str | None:
    """Use a code from the person's app: None when accepted (its step is now the last used),
    else the reason it is not. `enabled`: the person has two-factor on (False while they
    confirm their setup)."""
    secret = read_secret(person)
    step = matching_step(secret, code, utcnow()) if secret else None
    if step is None:
        return WRONG_CODE
    is_on_now = User.totp_enabled_at.is_not(None) if enabled else User.totp_enabled_at.is_(None)
    claimed = db.session.execute(
        update(User)
        .where(User.id == person.id, is_on_now, User.totp_secret == person.totp_secret)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return USED_CODE
    _seal_again_if_old(person, secret)
    db.session.expire(person, ["totp_last_step"])  # the row holds the new step
    return None


def _seal_again_if_old(person: User, secret: str) -> None:
    """A secret opened with a key from SECRET_KEY_FALLBACKS is sealed with the current key, so
    that the old key can be dropped once everyone with two-factor has signed in since."""
    sealed = person.totp_secret
    if secret_box.is_sealed_with_current_key(sealed, keys=_keys(), purpose=SEALED_PURPOSE):
        return
    db.session.execute(
        update(User)
        .where(User.id == person.id, User.totp_secret == sealed)
        .values(totp_secret=secret_box.seal(secret, keys=_keys(), purpose=SEALED_PURPOSE))
        .execution_options(synchronize_session=False)
    )
    db.session.expire(person, ["totp_secret"])


def recovery_digest(person_id: int, code: str, *, key: str | None = None) -> str:
    """HMAC-SHA256 of the person's id and the code, keyed with a key derived from the secret
    key (its own purpose label): a copy of the database alone gives nothing to guess against,
    and the person's id makes every person's codes a separate guess."""
    cleaned = re.sub(r"[\s-]+", "", code or "").lower()
    derived = secret_box.derive_key(key or _keys()[0], RECOVERY_PURPOSE)
    message = f"{person_id}:{cleaned}".encode("utf-8", "surrogatepass")
    return hmac.new(derived, message, hashlib.sha256).hexdigest()


def _recovery_digests(person_id: int, code: str) -> list[str]:
    """The code's digest under the secret key and under each of SECRET_KEY_FALLBACKS, so that
    codes made before the key was rotated still work while the old key is kept there."""
    return [recovery_digest(person_id, code, key=key) for key in _keys() if key]


def use_recovery_code(person: User, code: str) -> int | None:
    """Spend one of the person's recovery codes: how many are left, or None when the code is
    not one of theirs or was spent already (a conditional UPDATE: one use, whoever races)."""
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == person.id,
            RecoveryCode.code_hash.in_(_recovery_digests(person.id, code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        return None
    return recovery_codes_left(person.id)


def recovery_codes_left(person_id: int) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == person_id, RecoveryCode.used_at.is_(None)
        )
    )


def new_recovery_codes(person: User) -> list[str]:
    """Ten new codes for the person (earlier ones stop working); only their digests are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == person.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12)) for _ in range(10)]
    codes = [f"{c[:4]}-{c[4:8]}-{c[8:]}" for c in codes]
    db.session.add_all(
        RecoveryCode(user_id=person.id, code_hash=recovery_digest(person.id, c)) for c in codes
    )
    db.session.flush()
    return codes


# The throttle -----------------------------------------------------------------------------


def throttle_keys(person_id: int, client: str) -> tuple[str, str]:
    """The person (from anywhere) and the client (for anyone)."""
    return f"{KEY_PREFIX}account:{person_id}", f"{KEY_PREFIX}{auth.client_key(client)}"


def reserve_attempt(person_id: int, client: str) -> list[int]:
    """Count this attempt before its check and commit it (refused with ThrottledError past a
    limit). The rows stay as the failure unless `forget_attempt` removes them after success.
    Under a lock per person and client (PostgreSQL) or SQLite's write lock, as for passwords."""
    account, by_client = throttle_keys(person_id, client)
    auth.lock_keys(account, by_client)
    now = utcnow()
    auth.purge_expired(now)
    config = current_app.config
    window = config["LOGIN_FAILURE_WINDOW"]
    counted = {
        key: (count, first)
        for key, count, first in db.session.execute(
            select(LoginFailure.key, func.count(), func.min(LoginFailure.at))
            .where(LoginFailure.key.in_((account, by_client)), LoginFailure.at >= now - window)
            .group_by(LoginFailure.key)
        ).all()
    }
    limits = {
        account: config["TWO_FACTOR_MAX_FAILURES"],
        by_client: config["TWO_FACTOR_MAX_FAILURES_PER_CLIENT"],
    }
    for key, limit in limits.items():
        count, first = counted.get(key, (0, now))
        if count >= limit:
            # Aggregates bypass the column type on SQLite, so the zone may be missing there.
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            raise auth.ThrottledError(_wait_message(first + window - now))
    rows = [LoginFailure(key=key, at=now) for key in (account, by_client)]
    db.session.add_all(rows)
    db.session.flush()
    ids = [row.id for row in rows]
    db.session.commit()
    return ids


def _wait_message(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    amount = f"{minutes} minute{'s' if minutes > 1 else ''}"
    return f"Too many wrong codes. Wait {amount} and try again."


def forget_attempt(row_ids: list[int]) -> None:
    """The attempt succeeded: it is no failure."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(row_ids)))
