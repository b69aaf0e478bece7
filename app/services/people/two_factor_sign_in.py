"""The second step of signing in: after a right password, a person with two-factor on gives a
code from their authenticator app, or one of their recovery codes, before they are signed in.

The web layer keeps who is waiting (the person's id and a digest of their session token, so that
signing out everywhere or a new password in the meantime voids it) for a few minutes; this module
checks the code, throttled per person and per client, and audits failures without the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import DomainError, NotFoundError
from app.extensions import db
from app.models import User
from app.services import audit
from app.services.people import auth, two_factor


class CodeRefusedError(DomainError):
    status = 400


PENDING_GONE = "Your sign-in has expired. Sign in again."


@dataclass(frozen=True)
class SignedIn:
    person: User
    # After a recovery code: how many the person has left (None after an app code).
    recovery_codes_left: int | None = None


def session_digest(person: User) -> str:
    """What the waiting state remembers of the person's session token (not the token itself)."""
    return auth.digest("two-factor-pending\n" + person.session_token)[:32]


def waiting_person(person_id: int, token_digest: str) -> User | None:
    """The person still waiting for their second step: active, two-factor on, and not signed out
    everywhere (nor given a new password) since their password was checked."""
    person = db.session.get(User, person_id)
    if person is None or not person.is_active or not two_factor.is_on(person):
        return None
    return person if session_digest(person) == token_digest else None


def finish_sign_in(
    person_id: int,
    token_digest: str,
    *,
    client: str,
    code: str | None = None,
    recovery_code: str | None = None,
) -> SignedIn:
    """Check the second factor (an app code, or else a recovery code). Refused with
    CodeRefusedError (the failure and its audit are in the session: the caller commits them)
    or ThrottledError. Commits once before the check: the attempt is counted first."""
    person = waiting_person(person_id, token_digest)
    if person is None:
        raise NotFoundError(PENDING_GONE)
    attempt = two_factor.reserve_attempt(person.id, client)
    person = db.session.get(User, person_id)
    if recovery_code is not None:
        left = two_factor.use_recovery_code(person, recovery_code)
        problem = two_factor.WRONG_RECOVERY_CODE if left is None else None
    else:
        left = None
        problem = two_factor.accept_code(person, code or "")
    used = "recovery code" if recovery_code is not None else "authenticator app"
    if problem is not None:
        audit.record(
            person, "person.second_step_failed", person, after={"client": client, "with": used}
        )
        raise CodeRefusedError(problem, field="recovery_code" if recovery_code else "code")
    two_factor.forget_attempt(attempt)
    if left is not None:
        audit.record(
            person, "person.recovery_code_used", person, after={"client": client, "left": left}
        )
    audit.record(person, "person.signed_in", person, after={"client": client, "with": used})
    return SignedIn(person, left)
