"""Sending what the outbox holds: QUEUED rows whose next_attempt_at has come.

Never in a web request. A commit that queued messages submits the "send_messages" job (see
`schedule`), and `flask reminders send` / `flask messages send` call `send_due` directly.

At most once per row, also with two senders at once: a sender first *claims* a batch in one
UPDATE … WHERE status = 'queued' AND next_attempt_at <= now RETURNING id, which moves the rows'
next_attempt_at a lease ahead and counts the attempt, and commits that before sending. Another
sender's UPDATE no longer matches those rows (PostgreSQL re-checks the WHERE after the first
commit; SQLite runs writers one at a time). A sender that dies mid-batch leaves its rows to be
tried again when the lease ends.

The claim reads what sending needs into plain values (`Outgoing`) and ends its transaction: none
is open while a mail server or Slack answers (on SQLite it would hold the write lock, FACTS.md).
A batch stops sending once half the lease has gone, giving the rest back (due at once, the attempt
not counted), so that no row is sent after another sender could claim it again. The outcome is
recorded in a short transaction of its own, whatever went wrong while sending (try/finally), and
only for rows still QUEUED: one cancelled meanwhile stays cancelled.

A failure is retried after MAIL_RETRY_BASE_SECONDS * 2^(attempts - 1); after MAIL_MAX_ATTEMPTS
attempts (or at once for a permanent SMTP refusal, 5xx, or a message that cannot be sent as it
is) the row is FAILED, with its error, and shown to the head of product on the Messages page. A
sign-in message (TRANSACTIONAL) keeps no link once it was sent or FAILED; retrying a failed one
fails it again with an error that says to send a new link.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_mail import Connection, Mail
from flask_mail import Message as MailMessage
from sqlalchemy import and_, event, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    Channel,
    Job,
    JobStatus,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
    Setting,
)
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services import jobs
from app.services.messages import digest, unsubscribe, wake

log = logging.getLogger(__name__)

JOB_KIND = "send_messages"
BATCH = 100  # rows claimed (and sent over one SMTP connection) at a time
LEASE = timedelta(minutes=15)  # a claimed row is left alone this long


@dataclass
class Sent:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Sent) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors.extend(other.errors)

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"


class Permanent(Exception):
    """The receiving server refused for good (5xx), or the message cannot be sent as it is:
    no retry."""


@dataclass(frozen=True)
class Outgoing:
    """What sending one claimed row needs, read while it was claimed: plain values, so that no
    transaction is open while a mail server or Slack answers (on SQLite an open transaction
    holds the write lock: FACTS.md)."""

    id: int
    channel: Channel
    category: MessageCategory
    recipient_id: int
    dedupe_key: str | None
    address: str
    subject: str
    body_text: str
    body_html: str
    link: str
    attempts: int  # counting the one just claimed


_OUTGOING = [getattr(OutboundMessage, name) for name in Outgoing.__dataclass_fields__]

# A batch stops sending at half its lease: the rest is given back (due again at once) rather
# than sent after another sender may have claimed it again.
SEND_FOR = LEASE / 2


def _clock() -> float:
    return time.monotonic()


# --- the pass ---------------------------------------------------------------------------------


def send_due(now: datetime | None = None, *, limit: int | None = None) -> Sent:
    """Claim and send due QUEUED rows, batch after batch, until none is due (or `limit` rows
    were claimed). Commits after each claim; no transaction is open while a batch is sent;
    each batch's outcome is committed in a short transaction of its own."""
    total = Sent()
    claimed_so_far = 0
    while limit is None or claimed_so_far < limit:
        moment = now or utcnow()
        size = BATCH if limit is None else min(BATCH, limit - claimed_so_far)
        started = _clock()
        batch = claim(moment, size)
        if not batch:
            break
        claimed_so_far += len(batch)
        total.add(_send_batch(batch, moment, started))
    return total


def claim(now: datetime, size: int = BATCH) -> list[Outgoing]:
    """Take up to `size` due rows for this sender (committed): nobody else sends them now.
    Returns what sending them needs, as plain values; the transaction is ended."""
    candidates = list(
        db.session.scalars(
            select(OutboundMessage.id)
            .where(
                OutboundMessage.status == MessageStatus.QUEUED,
                OutboundMessage.next_attempt_at <= now,
            )
            .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
            .limit(size)
        )
    )
    if not candidates:
        db.session.commit()
        return []
    claimed = list(
        db.session.scalars(
            update(OutboundMessage)
            .where(
                OutboundMessage.id.in_(candidates),
                OutboundMessage.status == MessageStatus.QUEUED,
                OutboundMessage.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE, attempts=OutboundMessage.attempts + 1)
            .returning(OutboundMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    batch = []
    if claimed:
        batch = [
            Outgoing(*values)
            for values in db.session.execute(
                select(*_OUTGOING)
                .where(OutboundMessage.id.in_(claimed))
                .order_by(OutboundMessage.id)
            )
        ]
    db.session.commit()
    return batch


Failure = tuple[Outgoing, str, bool]  # the row, the error, whether it is permanent


@dataclass
class _Progress:
    """A batch's outcome so far: recorded whatever happens (try/finally in _send_batch)."""

    started: float
    sent_ids: list[int] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    attempted: set[int] = field(default_factory=set)  # handed to SMTP or Slack (or failed)

    def may_start(self, row: Outgoing) -> bool:
        """Whether to send `row` now: not once half the lease has gone (the first row always,
        so that every batch moves on)."""
        if self.attempted and _clock() - self.started > SEND_FOR.total_seconds():
            return False
        self.attempted.add(row.id)
        return True

    def sent(self, row: Outgoing) -> None:
        self.sent_ids.append(row.id)

    def failed(self, row: Outgoing, error: str, permanent: bool) -> None:
        self.failures.append((row, error, permanent))

    def finished(self) -> set[int]:
        return set(self.sent_ids) | {row.id for row, _, _ in self.failures}


def _send_batch(batch: list[Outgoing], now: datetime, started: float | None = None) -> Sent:
    progress = _Progress(_clock() if started is None else started)
    try:
        sendable = []
        for row in batch:
            if _scrubbed(row):
                progress.attempted.add(row.id)
                progress.failed(row, LINK_NOT_KEPT, True)
            else:
                sendable.append(row)
        emails = [row for row in sendable if row.channel is Channel.EMAIL]
        others = [row for row in sendable if row.channel is not Channel.EMAIL]
        if emails:
            _send_emails(emails, progress)
        if others:
            _send_slack_rows(others, progress)
    finally:
        # Rows never handed to SMTP or Slack (half the lease went, or something escaped) are
        # given back, due at once; a row whose sending was interrupted keeps its lease.
        unsent = [row.id for row in batch if row.id not in progress.attempted]
        if db.session().in_transaction():
            db.session.rollback()  # only reads happened since the claim (slack.send's, say)
        outcome = _record(now, progress.sent_ids, progress.failures, unsent)
    return outcome


def _send_slack_rows(rows: list[Outgoing], progress: _Progress) -> None:
    settings = _load_slack_settings()  # held: the session keeps only weak references
    for row in rows:
        if not progress.may_start(row):
            return
        try:
            _send_slack(row)
            progress.sent(row)
        except Exception as error:  # SlackError, or anything else: retried, never lost
            # unless Slack said sending it again cannot work (SlackError.retryable is False)
            progress.failed(row, _describe(error), getattr(error, "retryable", True) is False)
        finally:
            if db.session().in_transaction():  # slack.send read the database (no settings)
                db.session.rollback()
    del settings


def _load_slack_settings() -> Setting | None:
    """Read Slack's settings row in a short transaction and keep it loaded after it: slack.send
    reads it again (slack.stored), and finds it in the session without a query, so no
    transaction is open while Slack answers. Nothing else is loaded in that transaction.
    The caller holds the row while it sends (the session's identity map would let it go)."""
    from app.services.messages import slack

    session = db.session()
    if session.in_transaction():
        session.rollback()  # nothing written since the claim: only what is loaded goes
    row = session.get(Setting, slack.SETTING_KEY)
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
    return row


def _send_emails(emails: list[Outgoing], progress: _Progress) -> None:
    """Send over one SMTP connection, noting what was sent and what failed with which error."""
    try:
        with _connection() as connection:
            for row in emails:
                if not progress.may_start(row):
                    return
                try:
                    _send_email(connection, row)
                    progress.sent(row)
                except Permanent as error:
                    progress.failed(row, str(error), True)
                except (smtplib.SMTPException, OSError) as error:
                    progress.failed(row, _describe(error), False)
                except Exception as error:  # the message itself cannot go (BadHeaderError, …)
                    progress.failed(row, f"Rungs could not send it: {_describe(error)}", True)
                    _reset(connection)
    except Exception as error:  # could not connect (or quit), or the connection broke
        _fail_rest(emails, progress, _describe(error))


def _fail_rest(emails: list[Outgoing], progress: _Progress, error: str) -> None:
    """The connection failed: every email it did not finish is retried later with its error
    (but one not started because half the lease went is given back, as always)."""
    done = progress.finished()
    for row in emails:
        if row.id in done:
            continue
        if row.id in progress.attempted or progress.may_start(row):
            progress.failed(row, error, False)


def _reset(connection: Connection) -> None:
    """After a message failed half-way through the SMTP dialogue: start afresh (RSET), or
    let the connection go if even that fails (the rest of the batch is retried later)."""
    if connection.host is not None:
        connection.host.rset()


SCRUBBED = "(Sent. Its one-time sign-in link is not kept.)"
SCRUBBED_UNSENT = "(Not sent. Its one-time sign-in link is not kept.)"
LINK_NOT_KEPT = "The sign-in link was not kept: send a new one from the person's page"


def _scrubbed(row: Outgoing) -> bool:
    """A sign-in message whose link was removed (it failed, then was retried): nothing to send."""
    return row.category is MessageCategory.TRANSACTIONAL and row.body_text in (
        SCRUBBED,
        SCRUBBED_UNSENT,
    )


def _record(
    now: datetime,
    sent_ids: list[int],
    failures: list[Failure],
    unsent_ids: Sequence[int] = (),
) -> Sent:
    """Store a batch's outcome (committed): sent, to be retried later, failed for good, or
    not tried (due again now, the attempt not counted). Only rows still QUEUED change: one
    cancelled meanwhile stays cancelled."""
    outcome = Sent(sent=len(sent_ids))
    still_queued = OutboundMessage.status == MessageStatus.QUEUED
    if sent_ids:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(sent_ids), still_queued)
            .values(status=MessageStatus.SENT, sent_at=now, last_error="")
            .execution_options(synchronize_session=False)
        )
        # A sign-in link is a secret (its table keeps only a digest): once it has gone out,
        # the outbox keeps that a message was sent, not the link.
        db.session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id.in_(sent_ids),
                OutboundMessage.category == MessageCategory.TRANSACTIONAL,
            )
            .values(body_text=SCRUBBED, body_html="", link="")
            .execution_options(synchronize_session=False)
        )
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    for row, error, permanent in failures:
        outcome.errors.append(f"message {row.id}: {error}")
        if permanent or row.attempts >= max_attempts:
            values: dict[str, Any] = {"status": MessageStatus.FAILED}
            if row.category is MessageCategory.TRANSACTIONAL:
                # Nor is a link kept that never went out: a new one is sent instead.
                values |= {"body_text": SCRUBBED_UNSENT, "body_html": "", "link": ""}
            outcome.failed += 1
        else:
            values = {"next_attempt_at": now + retry_delay(row.attempts)}
            outcome.retrying += 1
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row.id, still_queued)
            .values(last_error=error[:1000], **values)
            .execution_options(synchronize_session=False)
        )
    if unsent_ids:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(unsent_ids), still_queued)
            .values(next_attempt_at=now, attempts=OutboundMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    if failures:
        log.warning("outbox: %s", outcome)
    return outcome


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th attempt failed: base, then twice that, four times, ..."""
    base = float(current_app.config["MAIL_RETRY_BASE_SECONDS"])
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def _describe(error: BaseException) -> str:
    """An error as the head of product reads it on the Messages page."""
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"The mail server answered {error.smtp_code} {text}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"The mail server refused the address: {code} {text}"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"


# --- email ------------------------------------------------------------------------------------


class _TimedConnection(Connection):
    """Flask-Mail's connection, with the settings read now (not when the app was built: tests
    and the admin page turn email on later) and a timeout (Flask-Mail sets none)."""

    def configure_host(self):
        timeout = float(current_app.config["MAIL_TIMEOUT_SECONDS"])
        state = self.mail
        if state.use_ssl:
            host = smtplib.SMTP_SSL(state.server, state.port, timeout=timeout)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=timeout)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


def _connection() -> Connection:
    config = dict(current_app.config)
    config.setdefault("MAIL_SUPPRESS_SEND", False)  # Flask-Mail would suppress under TESTING
    state = Mail().init_mail(config, debug=False, testing=False)
    return _TimedConnection(state)


# RFC 5322's limit for a line. At the usual 78, Python's SMTP policy has no space to fold a
# long List-Unsubscribe URL at, and writes it as RFC 2047 encoded words that mail providers do
# not read as a URL (a long subject was folded with a stray space too).
UNFOLDED = email.policy.SMTP.clone(max_line_length=998)


class _Email(MailMessage):
    def _message(self):
        message = super()._message()
        message.policy = UNFOLDED
        return message


def email_message(row: Outgoing | OutboundMessage) -> MailMessage:
    """The email for one outbox row: text and HTML alternatives, and for every category a
    person may turn off, RFC 8058 one-click unsubscribe headers."""
    headers = {"Auto-Submitted": "auto-generated", "X-Rungs-Category": row.category.value}
    if digest.is_digest(row) or row.category.is_optional:
        category = None if digest.is_digest(row) else row.category  # None: the digest
        headers["List-Unsubscribe"] = f"<{unsubscribe.url(row.recipient_id, category)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return _Email(
        subject=row.subject,
        recipients=[row.address],
        body=row.body_text,
        html=row.body_html or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=headers,
    )


def _send_email(connection: Connection, row: Outgoing) -> None:
    if not row.address:
        raise Permanent("the person has no email address")
    if not row.address.rpartition("@")[0].isascii():
        # SMTP carries such an address only with SMTPUTF8, which Flask-Mail does not use:
        # smtplib would fail half-way through the dialogue (UnicodeEncodeError).
        raise Permanent(
            f"The address {row.address} has letters beyond ASCII before the @, which Rungs "
            "cannot send to: give the person an address without them."
        )
    try:
        connection.send(email_message(row))
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise Permanent(_describe(error)) from error
        raise
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:
            raise Permanent(_describe(error)) from error
        raise


def _send_slack(row: Outgoing) -> None:
    from app.services.messages import slack  # the Slack helper's module

    slack.send(row)  # type: ignore[arg-type]  # it reads address, subject, body_text, link


# --- the job ----------------------------------------------------------------------------------


def schedule() -> None:
    """Submit the send job in the current transaction (handed to a worker after the commit),
    unless one is still waiting to start: that one will find these messages too."""
    waiting = db.session.scalar(
        select(Job.id).where(and_(Job.kind == JOB_KIND, Job.status == JobStatus.QUEUED)).limit(1)
    )
    if waiting is None:
        jobs.submit(SYSTEM, JOB_KIND, {})


@event.listens_for(Session, "before_commit")
def _schedule_before_commit(session: Session) -> None:
    if session.info.pop(wake.KEY, None) and not session.info.get(wake.HERE):
        schedule()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(wake.KEY, None)


@jobs.register(JOB_KIND, label="Sending messages")
def send_job(params: dict, progress) -> jobs.Result:
    with wake.sent_here():
        outcome = send_due()
    path, relative = jobs.output_file(".txt")
    path.write_text(f"{outcome}\n" + "".join(f"{line}\n" for line in outcome.errors[:100]))
    return jobs.Result(relative, "sending.txt")


__all__ = ["Outgoing", "Sent", "claim", "email_message", "retry_delay", "schedule", "send_due"]
