"""Sending what the outbox holds: QUEUED rows whose next_attempt_at has come.

Never in a web request. A commit that queued messages submits the "send_messages" job (see
`schedule`), and `flask reminders send` / `flask messages send` call `send_due` directly.

At most once per row, also with two senders at once: a sender first *claims* a batch in one
UPDATE … WHERE status = 'queued' AND next_attempt_at <= now RETURNING id, which moves the rows'
next_attempt_at a lease ahead and counts the attempt, and commits that before sending. Another
sender's UPDATE no longer matches those rows (PostgreSQL re-checks the WHERE after the first
commit; SQLite runs writers one at a time). A sender that dies mid-batch leaves its rows to be
tried again when the lease ends.

A failure is retried after MAIL_RETRY_BASE_SECONDS * 2^(attempts - 1); after MAIL_MAX_ATTEMPTS
attempts (or at once for a permanent SMTP refusal, 5xx) the row is FAILED, with its error, and
shown to the head of product on the Messages page.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_mail import Connection, Mail
from flask_mail import Message as MailMessage
from sqlalchemy import and_, event, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Channel, Job, JobStatus, MessageCategory, MessageStatus, OutboundMessage
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
    """The receiving server refused for good (5xx): no retry."""


# --- the pass ---------------------------------------------------------------------------------


def send_due(now: datetime | None = None, *, limit: int | None = None) -> Sent:
    """Claim and send due QUEUED rows, batch after batch, until none is due (or `limit` rows
    were claimed). Commits after each claim and after each batch's outcome."""
    total = Sent()
    claimed_so_far = 0
    while limit is None or claimed_so_far < limit:
        moment = now or utcnow()
        size = BATCH if limit is None else min(BATCH, limit - claimed_so_far)
        batch = claim(moment, size)
        if not batch:
            break
        claimed_so_far += len(batch)
        total.add(_send_batch(batch, moment))
    return total


def claim(now: datetime, size: int = BATCH) -> list[OutboundMessage]:
    """Take up to `size` due rows for this sender (committed): nobody else sends them now."""
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
    db.session.commit()
    if not claimed:
        return []
    return list(
        db.session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.id.in_(claimed))
            .order_by(OutboundMessage.id)
            .execution_options(populate_existing=True)
        )
    )


def _send_batch(batch: list[OutboundMessage], now: datetime) -> Sent:
    emails = [row for row in batch if row.channel is Channel.EMAIL]
    sent_ids, failures = _send_emails(emails) if emails else ([], [])
    for row in batch:
        if row.channel is Channel.EMAIL:
            continue
        try:
            _send_slack(row)
            sent_ids.append(row.id)
        except Exception as error:  # SlackError, or anything else: retried, never lost
            # unless Slack said sending it again cannot work (SlackError.retryable is False)
            failures.append((row, _describe(error), getattr(error, "retryable", True) is False))
    return _record(now, sent_ids, failures)


Failure = tuple[OutboundMessage, str, bool]  # the row, the error, whether it is permanent


def _send_emails(emails: list[OutboundMessage]) -> tuple[list[int], list[Failure]]:
    """Send over one SMTP connection; what was sent, and what failed with which error."""
    sent_ids: list[int] = []
    failures: list[Failure] = []
    try:
        with _connection() as connection:
            for row in emails:
                try:
                    _send_email(connection, row)
                    sent_ids.append(row.id)
                except Permanent as error:
                    failures.append((row, str(error), True))
                except (smtplib.SMTPException, OSError) as error:
                    failures.append((row, _describe(error), False))
    except (smtplib.SMTPException, OSError) as error:  # could not connect (or quit)
        done = {row.id for row, _, _ in failures} | set(sent_ids)
        failures.extend((row, _describe(error), False) for row in emails if row.id not in done)
    return sent_ids, failures


SCRUBBED = "(Sent. Its one-time sign-in link is not kept.)"


def _record(now: datetime, sent_ids: list[int], failures: list[Failure]) -> Sent:
    """Store a batch's outcome (committed): sent, to be retried later, or failed for good."""
    outcome = Sent(sent=len(sent_ids))
    if sent_ids:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(sent_ids))
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
            outcome.failed += 1
        else:
            values = {"next_attempt_at": now + retry_delay(row.attempts)}
            outcome.retrying += 1
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row.id)
            .values(last_error=error[:1000], **values)
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


def email_message(row: OutboundMessage) -> MailMessage:
    """The email for one outbox row: text and HTML alternatives, and for every category a
    person may turn off, RFC 8058 one-click unsubscribe headers."""
    headers = {"Auto-Submitted": "auto-generated", "X-Rungs-Category": row.category.value}
    if digest.is_digest(row) or row.category.is_optional:
        category = None if digest.is_digest(row) else row.category  # None: the digest
        headers["List-Unsubscribe"] = f"<{unsubscribe.url(row.recipient_id, category)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return MailMessage(
        subject=row.subject,
        recipients=[row.address],
        body=row.body_text,
        html=row.body_html or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=headers,
    )


def _send_email(connection: Connection, row: OutboundMessage) -> None:
    if not row.address:
        raise Permanent("the person has no email address")
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


def _send_slack(row: OutboundMessage) -> None:
    from app.services.messages import slack  # the Slack helper's module

    slack.send(row)


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


__all__ = ["Sent", "claim", "email_message", "retry_delay", "schedule", "send_due"]
