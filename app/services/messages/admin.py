"""The head of product's view of the outbox: is email on, what waits, what failed (and retry)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.core.errors import ConflictError
from app.extensions import db
from app.models import MessageStatus, OutboundMessage
from app.models.base import utcnow
from app.services.messages import wake

PER_PAGE = 25


@dataclass(frozen=True)
class Overview:
    email_on: bool
    mail_server: str  # "smtp.example.com:587", or "" when email is off
    sender: str
    counts: dict[str, int]  # by status value: queued, held, sent, digested, failed, …
    failed: Pagination


def overview(page: int) -> Overview:
    config = current_app.config
    counts = dict.fromkeys((status.value for status in MessageStatus), 0)
    for status, count in db.session.execute(
        select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
    ):
        counts[status.value] = count
    failed = db.paginate(
        select(OutboundMessage)
        .where(OutboundMessage.status == MessageStatus.FAILED)
        .options(joinedload(OutboundMessage.recipient))
        .order_by(OutboundMessage.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    server = config.get("MAIL_SERVER") or ""
    return Overview(
        email_on=bool(server),
        mail_server=f"{server}:{config.get('MAIL_PORT')}" if server else "",
        sender=config.get("MAIL_DEFAULT_SENDER") or "",
        counts=counts,
        failed=failed,
    )


def retry(message_id: int | None = None) -> int:
    """Queue a failed message again (or every failed one), with fresh attempts; the caller
    commits, and the send job it submits sends them after the commit."""
    condition = [OutboundMessage.status == MessageStatus.FAILED]
    if message_id is not None:
        condition.append(OutboundMessage.id == message_id)
    retried = db.session.execute(
        update(OutboundMessage)
        .where(*condition)
        .values(status=MessageStatus.QUEUED, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if message_id is not None and not retried:
        raise ConflictError("That message is no longer among the failed ones: it was retried.")
    if retried:
        wake.mark()
    return retried
