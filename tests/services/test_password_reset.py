"""Self-service password reset and invitations, without HTTP: what reaches the outbox, the
one-hour single-use link, the throttle, and every session ending after a reset."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select, update

from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.infra.passwords import verify_password
from app.models import (
    Channel,
    LoginFailure,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
    PasswordResetLink,
    Role,
    User,
)
from app.models.base import utcnow
from app.services import people
from app.services.people import auth, invitations, password_reset

BASE = "https://rungs.example.org"


@pytest.fixture
def email_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "RUNGS_BASE_URL", BASE)


def outbox() -> list[OutboundMessage]:
    return list(db.session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars())


def token_of(message: OutboundMessage) -> str:
    assert message.link.startswith(f"{BASE}/password/")
    return message.link.removeprefix(f"{BASE}/password/")


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_known_address_gets_one_transactional_email_with_a_one_hour_link(org, ctx, email_on):
    password_reset.request_reset(" Alice@Example.com ", client="10.0.0.1")
    (message,) = outbox()
    assert (message.recipient_id, message.address) == (org.pm_a1.id, "alice@example.com")
    assert (message.channel, message.category) == (Channel.EMAIL, MessageCategory.TRANSACTIONAL)
    assert message.status is MessageStatus.QUEUED
    assert message.subject == "Set a new password for Rungs"
    token = token_of(message)
    assert message.link in message.body_text and message.link in message.body_html
    assert "within one hour" in message.body_text
    check = auth.check_reset_link(token)
    assert check.problem is None and check.person.id == org.pm_a1.id
    link = db.session.execute(select(PasswordResetLink)).scalar_one()
    assert link.created_by_id == org.pm_a1.id
    assert timedelta(minutes=59) < link.expires_at - utcnow() <= timedelta(hours=1)
    assert token not in link.token_hash  # only its digest is stored


@pytest.mark.parametrize("email", ["nobody@example.com", "ghost@example.com"])
def test_an_unknown_or_deactivated_address_gets_nothing_and_the_same_answer(
    org, make, email, email_on
):
    make.person(name="Ghost", email="ghost@example.com", active=False)
    with make.app.app_context():
        assert password_reset.request_reset(email, client="10.0.0.1") is None
        assert count(OutboundMessage) == 0 and count(PasswordResetLink) == 0
        assert count(LoginFailure) == 2  # counted all the same: the address and the client


def test_an_address_that_cannot_be_anyones_is_refused_by_its_field(org, ctx, email_on):
    with pytest.raises(ValidationError) as error:
        password_reset.request_reset("not an address", client="10.0.0.1")
    assert error.value.field == "email"


def test_without_a_mail_server_nothing_is_sent_and_it_says_why(org, ctx):
    with pytest.raises(ValidationError, match="cannot send email here"):
        password_reset.request_reset("alice@example.com", client="10.0.0.1")
    assert count(OutboundMessage) == 0 and count(LoginFailure) == 0


def test_each_request_replaces_the_link_before(org, ctx, email_on):
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    first, second = (token_of(message) for message in outbox())
    assert auth.check_reset_link(first).problem is auth.LinkProblem.USED
    assert auth.check_reset_link(second).problem is None


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
def test_one_address_is_refused_past_its_limit_whoever_asks_with_the_same_message(
    org, ctx, app, email_on, email
):
    limit = app.config["PASSWORD_RESET_REQUESTS_PER_ADDRESS"]
    for number in range(limit):
        password_reset.request_reset(email, client=f"10.0.0.{number}")
    with pytest.raises(password_reset.ResetThrottledError) as error:
        password_reset.request_reset(email, client="10.0.9.9")
    assert error.value.status == 429
    assert error.value.message == (
        f"A link was asked for this address {limit} times in the last hour. Use the newest "
        "email (each new link replaces the one before), or wait 60 minutes and ask again."
    )
    password_reset.request_reset("bea@example.com", client="10.0.9.9")  # others are not held up


def test_one_client_is_refused_past_its_limit_on_any_addresses(org, ctx, app, email_on):
    limit = app.config["PASSWORD_RESET_REQUESTS_PER_CLIENT"]
    for number in range(limit):
        password_reset.request_reset(f"guess{number}@example.com", client="10.0.0.1")
    with pytest.raises(password_reset.ResetThrottledError, match="from here\\. Wait 60 minutes"):
        password_reset.request_reset("alice@example.com", client="10.0.0.1")
    password_reset.request_reset("alice@example.com", client="10.0.0.2")
    assert [m.recipient_id for m in outbox()] == [org.pm_a1.id]


def test_requests_are_counted_for_the_whole_window_not_the_sign_in_one(org, ctx, app, email_on):
    """Failed sign-ins are forgotten after 15 minutes; requests for an email after an hour."""
    limit = app.config["PASSWORD_RESET_REQUESTS_PER_ADDRESS"]
    for _ in range(limit):
        password_reset.request_reset("alice@example.com", client="10.0.0.1")
    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=40)))
    with pytest.raises(auth.SignInError):  # its purge runs, and must leave the requests be
        auth.authenticate("alice@example.com", "wrong", client="10.0.0.1")
    with pytest.raises(password_reset.ResetThrottledError, match="wait 20 minutes"):
        password_reset.request_reset("alice@example.com", client="10.0.0.1")
    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=61)))
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    assert count(LoginFailure) == 2  # the old ones were purged


def test_the_emailed_link_expires_after_an_hour_but_a_head_made_one_lasts(org, ctx, email_on):
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    emailed = token_of(outbox()[0])
    made = auth.create_reset_link(people.get_person(org.head.id), people.get_person(org.pm_a2.id))
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        check = auth.check_reset_link(emailed)
        assert (check.problem, check.status) == (auth.LinkProblem.EXPIRED, 410)
        with pytest.raises(NotFoundError):
            password_reset.set_password_from_link(emailed, "too late for this", client="x")
        assert auth.check_reset_link(made).problem is None


def test_a_reset_ends_every_session_closes_every_link_and_tells_the_person(org, ctx, email_on):
    alice = people.get_person(org.pm_a1.id)
    session_token = alice.session_token
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    invitations.add_person(  # someone else's open link stays open
        people.get_person(org.head.id),
        people.PersonInput(email="nina@example.com", name="Nina New", role=Role.PM),
        invite=True,
    )
    # Two open links of Alice's (a new link closes the ones before; a reset must close them too).
    auth.issue_link(alice, created_by=None, ttl=timedelta(hours=1), replaces_earlier=False)
    tokens = [token_of(outbox()[0])]
    tokens.append(auth.issue_link(alice, created_by=None, ttl=timedelta(hours=1)))
    db.session.execute(update(PasswordResetLink).values(used_at=None))
    nina = token_of(outbox()[1])
    password_reset.set_password_from_link(tokens[0], "a new password 2026", client="10.0.0.1")
    alice = db.session.get(User, org.pm_a1.id)
    assert alice.session_token != session_token
    assert auth.load_session_user(session_token) is None  # every old session is gone
    assert verify_password(alice.password_hash, "a new password 2026")
    assert [auth.check_reset_link(t).problem for t in tokens] == [auth.LinkProblem.USED] * 2
    assert auth.check_reset_link(nina).problem is None
    notice = outbox()[-1]
    assert notice.subject == "Your Rungs password was changed"
    assert notice.category is MessageCategory.TRANSACTIONAL
    assert "every session of yours was signed out" in notice.body_text
    assert notice.link == f"{BASE}/password/forgot"


def test_a_link_works_once(org, ctx, email_on):
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    token = token_of(outbox()[0])
    password_reset.set_password_from_link(token, "a new password 2026", client="10.0.0.1")
    with pytest.raises(NotFoundError, match="already used"):
        password_reset.set_password_from_link(token, "and another one 2026", client="10.0.0.1")
    assert verify_password(db.session.get(User, org.pm_a1.id).password_hash, "a new password 2026")


def test_a_weak_password_is_refused_and_the_link_still_works(org, ctx, email_on):
    password_reset.request_reset("alice@example.com", client="10.0.0.1")
    token = token_of(outbox()[0])
    with pytest.raises(ValidationError, match="at least 12"):
        password_reset.set_password_from_link(token, "short", client="10.0.0.1")
    assert auth.check_reset_link(token).problem is None


def test_link_checks_say_why(org, ctx):
    head, alice = people.get_person(org.head.id), people.get_person(org.pm_a1.id)
    assert auth.check_reset_link("no-such-token").problem is auth.LinkProblem.UNKNOWN
    assert auth.check_reset_link("no-such-token").status == 404
    token = auth.create_reset_link(head, alice)
    people.deactivate_person(head, alice)
    assert auth.check_reset_link(token).problem is auth.LinkProblem.DEACTIVATED


def test_a_first_password_from_an_invitation_sends_no_change_notice(org, ctx, email_on):
    head = people.get_person(org.head.id)
    added = invitations.add_person(
        head,
        people.PersonInput(email="nina@example.com", name="Nina New", role=Role.PM),
        invite=True,
    )
    assert added.is_invited
    (invitation,) = outbox()
    password_reset.set_password_from_link(token_of(invitation), "nina's first one", client="x")
    assert len(outbox()) == 1


def test_adding_a_person_with_an_invitation_emails_a_72_hour_link(org, ctx, email_on):
    head = people.get_person(org.head.id)
    data = people.PersonInput(email="nina@example.com", name="Nina New", role=Role.PM)
    added = invitations.add_person(head, data, invite=True)
    (message,) = outbox()
    assert message.recipient_id == added.person.id
    assert message.subject == "Hana Head invited you to Rungs"
    assert message.category is MessageCategory.TRANSACTIONAL
    assert "Hana Head added you to Rungs" in message.body_text
    assert "within 72 hours to sign in as nina@example.com" in message.body_text
    check = auth.check_reset_link(token_of(message))
    assert check.person.id == added.person.id
    assert check.expires_at - utcnow() > timedelta(hours=71)


def test_adding_without_an_invitation_or_without_email_sends_nothing(org, ctx, app, monkeypatch):
    head = people.get_person(org.head.id)
    added = invitations.add_person(
        head, people.PersonInput(email="nina@example.com", name="Nina", role=Role.PM), invite=True
    )
    assert not added.is_invited  # email is off
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    added = invitations.add_person(
        head, people.PersonInput(email="omar@example.com", name="Omar", role=Role.PM), invite=False
    )
    assert not added.is_invited
    assert count(OutboundMessage) == 0 and count(PasswordResetLink) == 0


def test_importing_with_invitations_emails_everyone_in_a_few_statements_each(org, ctx, email_on):
    head = people.get_person(org.head.id)

    def import_rows(start: int, rows: int) -> int:
        data = "email,name,role,manager_email\n" + "".join(
            f"new{n}@example.com,New {n},pm,ada@example.com\n" for n in range(start, start + rows)
        )
        statements = []
        record = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            added = invitations.import_people(head, data.encode(), invite=True)
            db.session.flush()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert added.is_invited and len(added.people) == rows
        return len(statements)

    few, many = import_rows(0, 2), import_rows(10, 12)
    messages = outbox()
    assert len(messages) == 14
    assert {m.address for m in messages} == {
        f"new{n}@example.com" for n in [*range(2), *range(10, 22)]
    }
    assert len({token_of(m) for m in messages}) == 14
    # Per person: their manager, the link, the message, the audit rows; no lookups.
    print(f"import with invitations: {few} statements for 2 people, {many} for 12")
    assert (many - few) / 10 <= 6, (few, many)


def test_sending_an_invitation_again_replaces_the_old_link(org, ctx, email_on):
    head, alice = people.get_person(org.head.id), people.get_person(org.pm_a1.id)
    invitations.send_invitation(head, alice)
    invitations.send_invitation(head, alice)
    first, second = (token_of(m) for m in outbox())
    assert auth.check_reset_link(first).problem is auth.LinkProblem.USED
    assert auth.check_reset_link(second).problem is None


def test_only_the_head_of_product_sends_invitations(org, ctx, email_on):
    from app.core.errors import ForbiddenError

    with pytest.raises(ForbiddenError):
        invitations.send_invitation(
            people.get_person(org.manager_a.id), people.get_person(org.pm_a1.id)
        )
    with pytest.raises(ValidationError, match="deactivated"):
        head = people.get_person(org.head.id)
        pm = people.get_person(org.pm_a2.id)
        people.deactivate_person(head, pm)
        invitations.send_invitation(head, pm)
