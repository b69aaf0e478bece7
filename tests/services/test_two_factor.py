"""Two-factor sign-in without HTTP: the sealed secret, codes used once, recovery codes, the
throttle, turning it on and off, the head's reset and the requirement for managers."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from app.core.errors import ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.infra import secret_box
from app.models import AuditEvent, LoginFailure, RecoveryCode, Role, User
from app.services.people import auth, two_factor, two_factor_account, two_factor_sign_in
from tests.factories import PASSWORD

# The start of a 30-second step, so that "the next step" is exactly 30 seconds on.
START = datetime(2027, 3, 1, 9, 0, 0, tzinfo=UTC)
CLIENT = "10.0.0.1"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def person(org_person) -> User:
    return db.session.get(User, org_person.id)


def set_up(someone: User) -> tuple[str, list[str]]:
    """Turn two-factor on for `someone`; their secret and recovery codes."""
    two_factor_account.start_setup(someone)
    db.session.commit()
    secret = two_factor.read_secret(someone)
    codes = two_factor_account.turn_on(
        someone, password=PASSWORD, code=pyotp.TOTP(secret).now(), client=CLIENT
    )
    db.session.commit()
    return secret, codes


def code_at(secret: str, seconds_from_now: float) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=seconds_from_now))


def actions(person_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "users", AuditEvent.entity_id == person_id)
            .order_by(AuditEvent.id)
        )
    )


def test_a_secret_under_a_fallback_key_is_sealed_again_when_a_code_is_used(org, ctx, app, clock):
    secret, _ = set_up(person(org.pm_a1))
    old_key = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "the-next-secret-key-of-enough-length-111"
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        clock.shift(30)
        assert two_factor.accept_code(person(org.pm_a1), pyotp.TOTP(secret).now()) is None
        db.session.commit()
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert two_factor.read_secret(person(org.pm_a1)) == secret  # the new key alone opens it
    finally:
        app.config["SECRET_KEY"] = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_the_secret_is_sealed_at_rest_and_opens_with_the_key_or_a_fallback(org, ctx, app):
    alice = person(org.pm_a1)
    two_factor_account.start_setup(alice)
    secret = two_factor.read_secret(alice)
    assert len(secret) == 32
    assert secret not in alice.totp_secret and alice.totp_secret.startswith("fernet1:")
    old_key = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "another-secret-key-of-enough-length-000"
        assert two_factor.read_secret(alice) is None  # the old key is gone: unreadable
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert two_factor.read_secret(alice) == secret
    finally:
        app.config["SECRET_KEY"] = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_turning_on_needs_the_password_and_a_code(org, ctx, clock):
    alice = person(org.pm_a1)
    two_factor_account.start_setup(alice)
    db.session.commit()
    secret = two_factor.read_secret(alice)
    with pytest.raises(ValidationError) as wrong_password:
        two_factor_account.turn_on(
            alice, password="not it", code=pyotp.TOTP(secret).now(), client=CLIENT
        )
    assert wrong_password.value.field == "password"
    db.session.rollback()
    with pytest.raises(ValidationError) as wrong_code:
        two_factor_account.turn_on(alice, password=PASSWORD, code="000000", client=CLIENT)
    assert wrong_code.value.field == "code"
    db.session.rollback()
    assert not two_factor.is_on(person(org.pm_a1))


def test_turning_on_ends_other_sessions_and_makes_ten_hashed_recovery_codes(org, ctx, clock):
    alice = person(org.pm_a1)
    token_before = alice.session_token
    _, codes = set_up(alice)
    alice = person(org.pm_a1)
    assert two_factor.is_on(alice) and alice.session_token != token_before
    assert len(codes) == len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert sorted(stored) == sorted(two_factor.recovery_digest(alice.id, code) for code in codes)
    assert not any(code in h for code in codes for h in stored)
    assert actions(alice.id)[-1] == "person.two_factor_enabled"
    events = db.session.scalars(select(AuditEvent)).all()
    assert not any(code in str(event.after) for code in codes for event in events)


def test_a_code_counts_for_the_steps_beside_now_but_not_further(org, ctx, clock):
    secret, _ = set_up(person(org.pm_a1))
    clock.shift(300)
    alice = person(org.pm_a1)
    assert two_factor.accept_code(alice, code_at(secret, -90)) == two_factor.WRONG_CODE
    assert two_factor.accept_code(alice, code_at(secret, -30)) is None  # the step before
    assert two_factor.accept_code(alice, code_at(secret, 30)) is None  # the step after
    db.session.commit()


def test_a_code_is_used_once_and_never_an_older_one(org, ctx, clock):
    secret, _ = set_up(person(org.pm_a1))
    clock.shift(60)
    alice = person(org.pm_a1)
    code = pyotp.TOTP(secret).now()
    assert two_factor.accept_code(alice, code) is None
    db.session.commit()
    assert two_factor.accept_code(person(org.pm_a1), code) == two_factor.USED_CODE
    # The step before is still within the window, but older than the one used: refused.
    assert two_factor.accept_code(person(org.pm_a1), code_at(secret, -30)) == two_factor.USED_CODE
    clock.shift(30)
    assert two_factor.accept_code(person(org.pm_a1), pyotp.TOTP(secret).now()) is None


def test_the_code_that_confirmed_the_setup_cannot_sign_in(org, ctx, clock):
    secret, _ = set_up(person(org.pm_a1))
    assert two_factor.accept_code(person(org.pm_a1), pyotp.TOTP(secret).now()) == (
        two_factor.USED_CODE
    )


def test_a_recovery_code_works_once_in_any_case_and_spacing(org, ctx, clock):
    _, codes = set_up(person(org.pm_a1))
    alice = person(org.pm_a1)
    assert two_factor.use_recovery_code(alice, " " + codes[0].upper().replace("-", " ")) == 9
    assert two_factor.use_recovery_code(alice, codes[0]) is None
    assert two_factor.use_recovery_code(person(org.pm_b1), codes[1]) is None  # not Bea's
    assert two_factor.recovery_codes_left(alice.id) == 9


def test_recovery_codes_are_stored_as_an_hmac_of_the_person_and_the_code(org, ctx, app, clock):
    """Not a plain SHA-256 a copy of the database can be guessed against: keyed by a key from
    SECRET_KEY, and per person (one code is not the same digest for two people)."""
    _, codes = set_up(person(org.pm_a1))
    alice_id = person(org.pm_a1).id
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    cleaned = codes[0].replace("-", "")
    assert hashlib.sha256(cleaned.encode()).hexdigest() not in stored
    key = secret_box.derive_key(app.config["SECRET_KEY"], "recovery-code")
    expected = hmac.new(key, f"{alice_id}:{cleaned}".encode(), hashlib.sha256).hexdigest()
    assert expected in stored
    assert two_factor.recovery_digest(alice_id, codes[0]) != two_factor.recovery_digest(
        person(org.pm_b1).id, codes[0]
    )


def test_recovery_codes_made_under_an_old_key_work_while_it_is_a_fallback(org, ctx, app, clock):
    _, codes = set_up(person(org.pm_a1))
    old_key = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "the-next-secret-key-of-enough-length-222"
        assert two_factor.use_recovery_code(person(org.pm_a1), codes[0]) is None  # no fallback
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert two_factor.use_recovery_code(person(org.pm_a1), codes[0]) == 9
        assert two_factor.use_recovery_code(person(org.pm_a1), codes[0]) is None  # once
        db.session.commit()
    finally:
        app.config["SECRET_KEY"] = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_second_step_signs_in_and_audits_without_the_code(org, ctx, clock):
    secret, _ = set_up(person(org.pm_a1))
    clock.shift(30)
    alice = person(org.pm_a1)
    digest = two_factor_sign_in.session_digest(alice)
    with pytest.raises(two_factor_sign_in.CodeRefusedError):
        two_factor_sign_in.finish_sign_in(alice.id, digest, client=CLIENT, code="123456")
    db.session.commit()
    done = two_factor_sign_in.finish_sign_in(
        alice.id, digest, client=CLIENT, code=pyotp.TOTP(secret).now()
    )
    db.session.commit()
    assert done.person.id == alice.id and done.recovery_codes_left is None
    assert actions(alice.id)[-2:] == ["person.second_step_failed", "person.signed_in"]
    failed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.second_step_failed")
    ).one()
    assert failed.after == {"client": CLIENT, "with": "authenticator app"}


def test_a_recovery_code_signs_in_and_says_how_many_are_left(org, ctx, clock):
    _, codes = set_up(person(org.pm_a1))
    alice = person(org.pm_a1)
    digest = two_factor_sign_in.session_digest(alice)
    done = two_factor_sign_in.finish_sign_in(
        alice.id, digest, client=CLIENT, recovery_code=codes[3]
    )
    db.session.commit()
    assert done.recovery_codes_left == 9
    assert "person.recovery_code_used" in actions(alice.id)
    with pytest.raises(two_factor_sign_in.CodeRefusedError):
        two_factor_sign_in.finish_sign_in(alice.id, digest, client=CLIENT, recovery_code=codes[3])


def test_signing_out_everywhere_voids_the_waiting_second_step(org, ctx, clock):
    secret, _ = set_up(person(org.pm_a1))
    alice = person(org.pm_a1)
    digest = two_factor_sign_in.session_digest(alice)
    auth.sign_out(alice)
    db.session.commit()
    assert two_factor_sign_in.waiting_person(alice.id, digest) is None
    clock.shift(30)
    with pytest.raises(NotFoundError):
        two_factor_sign_in.finish_sign_in(
            alice.id, digest, client=CLIENT, code=pyotp.TOTP(secret).now()
        )


def test_wrong_codes_are_throttled_per_person_and_not_for_others(org, ctx, clock, app):
    secret, _ = set_up(person(org.pm_a1))
    set_up(person(org.pm_b1))
    alice = person(org.pm_a1)
    digest = two_factor_sign_in.session_digest(alice)
    for number in range(app.config["TWO_FACTOR_MAX_FAILURES"]):
        with pytest.raises(two_factor_sign_in.CodeRefusedError):
            # from a different client each time: the limit is the person's
            two_factor_sign_in.finish_sign_in(
                alice.id, digest, client=f"10.0.1.{number}", code="000000"
            )
        db.session.commit()
    clock.shift(30)
    with pytest.raises(auth.ThrottledError) as refused:
        two_factor_sign_in.finish_sign_in(
            alice.id, digest, client="10.0.2.1", code=pyotp.TOTP(secret).now()
        )
    assert "Wait 15 minutes" in refused.value.message
    db.session.rollback()
    bea = person(org.pm_b1)
    two_factor.reserve_attempt(bea.id, "10.0.2.1")  # Bea is not held back by Alice's failures
    keys = set(db.session.scalars(select(LoginFailure.key)))
    assert f"totp:account:{alice.id}" in keys and "totp:client:10.0.1.0" in keys
    clock.shift(15 * 60 + 30)
    assert two_factor_sign_in.finish_sign_in(
        alice.id, digest, client="10.0.2.1", code=pyotp.TOTP(secret).now()
    )


def test_one_client_is_throttled_across_people(org, ctx, clock, app):
    app.config["TWO_FACTOR_MAX_FAILURES_PER_CLIENT"], limit = (
        3,
        app.config["TWO_FACTOR_MAX_FAILURES_PER_CLIENT"],
    )
    try:
        people = [person(p) for p in (org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1)]
        for someone in people:
            set_up(someone)
        for someone in people[:3]:
            two_factor.reserve_attempt(someone.id, "10.9.9.9")
        with pytest.raises(auth.ThrottledError):
            two_factor.reserve_attempt(people[3].id, "10.9.9.9")
        db.session.rollback()
        two_factor.reserve_attempt(people[3].id, "10.9.9.10")
    finally:
        app.config["TWO_FACTOR_MAX_FAILURES_PER_CLIENT"] = limit


def test_turning_off_needs_the_password_and_a_code_or_a_recovery_code(org, ctx, clock):
    secret, codes = set_up(person(org.pm_a1))
    clock.shift(30)
    with pytest.raises(ValidationError) as no_password:
        two_factor_account.turn_off(
            person(org.pm_a1), password="nope", code=pyotp.TOTP(secret).now(), client=CLIENT
        )
    assert no_password.value.field == "password"
    db.session.rollback()
    with pytest.raises(ValidationError) as no_code:
        two_factor_account.turn_off(
            person(org.pm_a1), password=PASSWORD, code="111111", client=CLIENT
        )
    assert no_code.value.field == "code"
    db.session.rollback()
    two_factor_account.turn_off(person(org.pm_a1), password=PASSWORD, code=codes[0], client=CLIENT)
    db.session.commit()
    alice = person(org.pm_a1)
    assert not two_factor.is_on(alice) and alice.totp_secret is None
    assert db.session.scalars(select(RecoveryCode)).all() == [
        code for code in db.session.scalars(select(RecoveryCode)) if code.user_id != alice.id
    ]
    assert actions(alice.id)[-2:] == ["person.recovery_code_used", "person.two_factor_disabled"]


def test_new_recovery_codes_replace_the_old_ones(org, ctx, clock):
    secret, old = set_up(person(org.pm_a1))
    clock.shift(30)
    new = two_factor_account.regenerate_recovery_codes(
        person(org.pm_a1), password=PASSWORD, code=pyotp.TOTP(secret).now(), client=CLIENT
    )
    db.session.commit()
    alice = person(org.pm_a1)
    assert two_factor.use_recovery_code(alice, old[0]) is None
    assert two_factor.use_recovery_code(alice, new[0]) == 9
    assert "person.recovery_codes_regenerated" in actions(alice.id)


def test_the_head_resets_someones_two_factor_but_not_their_own(org, ctx, clock):
    set_up(person(org.pm_a1))
    set_up(person(org.head))
    alice = person(org.pm_a1)
    token = alice.session_token
    head = person(org.head)
    with pytest.raises(ForbiddenError):
        two_factor_account.reset(person(org.manager_a), alice)
    two_factor_account.reset(head, alice)
    db.session.commit()
    alice = person(org.pm_a1)
    assert not two_factor.is_on(alice) and alice.session_token != token
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.two_factor_reset")
    ).one()
    assert (event.actor_id, event.entity_id) == (org.head.id, alice.id)
    with pytest.raises(ValidationError):
        two_factor_account.reset(head, person(org.head))


def test_the_requirement_covers_heads_and_managers_with_a_password(org, make, ctx):
    no_password = make.person(role=Role.MANAGER, password=None)
    assert not two_factor_account.must_set_up(person(org.manager_a))
    with pytest.raises(ForbiddenError):
        two_factor_account.set_requirement(person(org.manager_a), required=True)
    two_factor_account.set_requirement(person(org.head), required=True)
    db.session.commit()
    assert two_factor_account.must_set_up(person(org.manager_a))
    assert two_factor_account.must_set_up(person(org.head))
    assert not two_factor_account.must_set_up(person(org.pm_a1))
    assert not two_factor_account.must_set_up(db.session.get(User, no_password.id))
    page = two_factor_account.requirement_page(person(org.head))
    assert (page.is_required, page.covered, page.covered_on) == (True, 5, 0)
    changed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "settings.two_factor_changed")
    ).one()
    assert changed.after == {"key": "two_factor", "required_for_managers": True}
