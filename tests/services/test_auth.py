"""Sign-in, the throttle, passwords and one-time links, without HTTP."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.infra.passwords import verify_password
from app.models import LoginFailure, PasswordResetLink, User
from app.models.base import utcnow
from app.services import people
from app.services.people import auth
from tests.factories import PASSWORD


def test_right_password_signs_in_and_clears_this_clients_failures_on_the_account(org, ctx, app):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT"]
    for _ in range(limit - 1):
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "wrong", client="10.0.0.1")
    person = auth.authenticate(" Alice@Example.com ", PASSWORD, client="10.0.0.1")
    assert person.id == org.pm_a1.id
    # A typo after signing in is not the last one before being refused.
    for _ in range(limit - 1):
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "wrong", client="10.0.0.1")
    keys = db.session.execute(select(LoginFailure.key)).scalars().all()
    assert "client:10.0.0.1" in keys
    assert not any("alice" in key for key in keys)  # what was typed as an email is not kept


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("alice@example.com", "wrong password"),  # known account, wrong password
        ("nobody@example.com", PASSWORD),  # unknown account
        ("ghost@example.com", PASSWORD),  # deactivated account, right password
        ("alice@example.com\x00", PASSWORD),  # a control character (PostgreSQL refuses NUL)
        ("a" * 10_000 + "@example.com", PASSWORD),  # longer than any key or address
    ],
)
def test_every_refusal_reads_the_same(org, make, email, password):
    make.person(name="Ghost", email="ghost@example.com", active=False)
    with make.app.app_context(), pytest.raises(auth.SignInError) as error:
        auth.authenticate(email, password, client="10.0.0.1")
    assert error.value.message == "Email or password is incorrect."


def test_one_client_is_refused_on_an_account_after_five_failures_even_with_the_right_password(
    org, ctx
):
    for _ in range(5):
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "wrong", client="10.0.0.1")
    with pytest.raises(auth.ThrottledError) as error:
        auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.1")
    assert "Too many failed sign-ins. Wait 15 minutes" in error.value.message


def test_an_attacker_cannot_lock_out_the_head_of_product(org, ctx):
    refused = Counter()
    for _ in range(40):
        try:
            auth.authenticate(org.head.email, "guess", client="203.0.113.9")
        except (auth.SignInError, auth.ThrottledError) as error:
            refused[type(error).__name__] += 1
    assert refused == {"SignInError": 5, "ThrottledError": 35}
    assert auth.authenticate(org.head.email, PASSWORD, client="10.0.0.5").id == org.head.id


def test_past_the_account_ceiling_sign_in_is_slowed_not_locked(org, ctx, app):
    ceiling = app.config["LOGIN_ACCOUNT_SLOW_AFTER"]
    interval = app.config["LOGIN_ACCOUNT_SLOW_INTERVAL"]
    for number in range(ceiling):  # many addresses, each under its own limit
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "guess", client=f"203.0.113.{number}")
    with pytest.raises(auth.ThrottledError, match="Wait 30 seconds"):
        auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.5")
    db.session.execute(update(LoginFailure).values(at=utcnow() - interval))
    assert auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.5").id == org.pm_a1.id
    # One check per interval from then on: the next guess right after waits again.
    with pytest.raises(auth.SignInError):
        auth.authenticate("alice@example.com", "guess", client="203.0.113.99")
    with pytest.raises(auth.ThrottledError, match="Wait 30 seconds"):
        auth.authenticate("alice@example.com", "guess", client="203.0.113.98")


def test_a_browser_that_signed_in_before_is_not_slowed_by_strangers(org, ctx, app):
    alice = auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.5")
    token, bobs = auth.device_token(alice), auth.device_token(people.get_person(org.pm_a2.id))
    for number in range(app.config["LOGIN_ACCOUNT_SLOW_AFTER"]):
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "guess", client=f"203.0.113.{number}")
    for device in (None, bobs, "forged"):  # a token of another account is no token
        with pytest.raises(auth.ThrottledError):
            auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.5", device=device)
    # Even from an address the strangers use, the known browser gets in.
    known = auth.authenticate("alice@example.com", PASSWORD, client="203.0.113.0", device=token)
    assert known.id == org.pm_a1.id


def test_a_known_browser_has_its_own_limit(org, ctx):
    token = auth.device_token(auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.5"))
    for number in range(5):  # from five addresses: the browser is what is counted
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "guess", client=f"10.0.1.{number}", device=token)
    with pytest.raises(auth.ThrottledError, match="Wait 15 minutes"):
        auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.5", device=token)


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
def test_throttle_reads_the_same_for_unknown_accounts(org, ctx, app, email):
    for _ in range(5):
        with pytest.raises(auth.SignInError):
            auth.authenticate(email, "wrong", client="10.0.0.1")
    with pytest.raises(auth.ThrottledError) as by_client:
        auth.authenticate(email, "wrong", client="10.0.0.1")
    for number in range(app.config["LOGIN_ACCOUNT_SLOW_AFTER"] - 5):
        with pytest.raises(auth.SignInError):
            auth.authenticate(email, "wrong", client=f"10.0.1.{number}")
    with pytest.raises(auth.ThrottledError) as by_account:
        auth.authenticate(email, "wrong", client="10.0.0.3")
    assert by_client.value.message == (
        "Too many failed sign-ins. Wait 15 minutes and try again, "
        "or ask your head of product for a new password link."
    )
    assert by_account.value.message == by_client.value.message.replace("15 minutes", "30 seconds")


def test_client_throttle_spans_accounts(org, ctx, app):
    limit = app.config["LOGIN_MAX_FAILURES_PER_CLIENT"]
    for number in range(limit):
        with pytest.raises(auth.SignInError):
            auth.authenticate(f"guess{number}@example.com", "wrong", client="10.9.9.9")
    with pytest.raises(auth.ThrottledError):
        auth.authenticate("alice@example.com", PASSWORD, client="10.9.9.9")
    assert auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.8").id == org.pm_a1.id


def test_failures_expire_after_the_window(org, ctx, app):
    for _ in range(5):
        with pytest.raises(auth.SignInError):
            auth.authenticate("alice@example.com", "wrong", client="10.0.0.1")
    window = app.config["LOGIN_FAILURE_WINDOW"]
    db.session.execute(update(LoginFailure).values(at=utcnow() - window - timedelta(seconds=1)))
    assert auth.authenticate("alice@example.com", PASSWORD, client="10.0.0.1").id == org.pm_a1.id
    assert db.session.execute(select(func.count()).select_from(LoginFailure)).scalar_one() == 0


def test_change_password_checks_the_current_one_and_ends_sessions(org, ctx):
    alice = people.get_person(org.pm_a1.id)
    token = alice.session_token
    with pytest.raises(ValidationError) as error:
        auth.change_password(alice, current="wrong", new="a brand new password")
    assert error.value.field == "current_password"
    with pytest.raises(ValidationError, match="at least 12"):
        auth.change_password(alice, current=PASSWORD, new="short")
    with pytest.raises(ValidationError, match="cannot be your email"):
        auth.change_password(alice, current=PASSWORD, new="ALICE@example.com")
    auth.change_password(alice, current=PASSWORD, new="a brand new password")
    assert alice.session_token != token
    assert verify_password(alice.password_hash, "a brand new password")


def test_reset_link_is_one_time_and_stores_only_a_digest(org, ctx):
    head = people.get_person(org.head.id)
    alice = people.get_person(org.pm_a1.id)
    token = auth.create_reset_link(head, alice)
    stored = db.session.execute(select(PasswordResetLink)).scalar_one()
    assert token not in stored.token_hash
    auth.reset_password(token, "set from the link 123")
    assert verify_password(db.session.get(User, alice.id).password_hash, "set from the link 123")
    with pytest.raises(NotFoundError, match="already used"):
        auth.reset_password(token, "and again from the link")


def test_a_new_link_replaces_the_old_one(org, ctx):
    head = people.get_person(org.head.id)
    alice = people.get_person(org.pm_a1.id)
    first = auth.create_reset_link(head, alice)
    second = auth.create_reset_link(head, alice)
    with pytest.raises(NotFoundError):
        auth.find_reset_link(first)
    assert auth.find_reset_link(second).user_id == alice.id


def test_expired_link_is_refused(org, ctx):
    head = people.get_person(org.head.id)
    token = auth.create_reset_link(head, people.get_person(org.pm_a1.id))
    db.session.execute(update(PasswordResetLink).values(expires_at=utcnow() - timedelta(1)))
    with pytest.raises(NotFoundError, match="expired"):
        auth.find_reset_link(token)


def test_link_of_a_deactivated_person_stops_working(org, ctx):
    head = people.get_person(org.head.id)
    alice = people.get_person(org.pm_a1.id)
    token = auth.create_reset_link(head, alice)
    people.deactivate_person(head, alice)
    with pytest.raises(NotFoundError):
        auth.find_reset_link(token)
    with pytest.raises(ValidationError, match="reactivate them first"):
        auth.create_reset_link(head, alice)
