"""What tokens do: the per-token rate limit (a fixed window counted in the database, so it holds
across workers and machines) and the audit of every request made with a token.

Both write in short transactions of their own, committed at once: the window's row is locked
only for its one upsert, never while the request's view runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models.base import utcnow
from app.models.identity import ApiRateWindow, ApiToken, ApiTokenUse

WINDOW_SECONDS = 60
# A token's last_used_at moves at most once a minute: a busy script does not rewrite its row
# on every request.
LAST_USED_EVERY = timedelta(seconds=60)
# How many old use rows one purge removes (a request's purge stays cheap; the CLI loops).
PURGE_BATCH = 500


@dataclass(frozen=True)
class RateCount:
    """Where a token stands in the current window."""

    limit: int
    count: int
    reset_at: datetime

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)

    @property
    def is_over(self) -> bool:
        return self.count > self.limit

    def seconds_to_reset(self, now: datetime) -> int:
        return max(int((self.reset_at - now).total_seconds() + 0.999), 1)


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) if WINDOW_SECONDS == 60 else now


def count_request(token_id: int, *, limit: int, now: datetime | None = None) -> RateCount:
    """Count one request against the token's current window, with one upsert that returns the
    new count, and commit at once. A token's older windows are purged when a new one opens."""
    now = now or utcnow()
    start = window_start(now)
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ApiRateWindow)
        .values(token_id=token_id, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[ApiRateWindow.token_id, ApiRateWindow.window_start],
            set_={"count": ApiRateWindow.count + 1},
        )
        .returning(ApiRateWindow.count)
    )
    count = db.session.execute(statement).scalar_one()
    if count == 1:
        db.session.execute(
            delete(ApiRateWindow).where(
                ApiRateWindow.token_id == token_id, ApiRateWindow.window_start < start
            )
        )
        purge_old_uses(now)
    db.session.commit()
    return RateCount(limit=limit, count=count, reset_at=start + timedelta(seconds=WINDOW_SECONDS))


def record_use(
    token_id: int,
    *,
    method: str,
    path: str,
    status: int,
    client: str,
    now: datetime | None = None,
    mark_used: bool = True,
) -> bool:
    """Audit one request made with a token, once its answer is known, and mark the token used;
    False when the database would not take it (busy past its timeout): the answer is sent all
    the same, as it may report a change already committed.

    Runs after the view: whatever the request left uncommitted is discarded first (a view
    commits what it means to keep; teardown would roll it back anyway), so this is a short
    transaction of its own, as app/layout.py's record_help is."""
    now = now or utcnow()
    db.session.rollback()
    try:
        _write_use(
            token_id,
            method=method,
            path=path,
            status=status,
            client=client,
            now=now,
            mark_used=mark_used,
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def _write_use(
    token_id: int,
    *,
    method: str,
    path: str,
    status: int,
    client: str,
    now: datetime,
    mark_used: bool,
) -> None:
    db.session.add(
        ApiTokenUse(
            token_id=token_id,
            at=now,
            method=method[:10],
            path=path[:500],
            status=status,
            client=(client or "unknown")[:64],
        )
    )
    if not mark_used:  # a refused token (revoked, expired): the attempt is kept, not a use
        return
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def purge_old_uses(now: datetime | None = None, *, batch: int | None = None) -> int:
    """Delete up to `batch` use records older than API_USE_RETENTION_DAYS (oldest first); the
    caller commits. Returns how many went. Run when a token opens a new rate window (at most
    once a minute per token), so the table stays bounded without a scheduled job."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["API_USE_RETENTION_DAYS"])
    oldest = (
        select(ApiTokenUse.id)
        .where(ApiTokenUse.at < cutoff)
        .order_by(ApiTokenUse.at)
        .limit(batch or PURGE_BATCH)
    )
    ids = list(db.session.scalars(oldest))
    if not ids:
        return 0
    db.session.execute(
        delete(ApiTokenUse)
        .where(ApiTokenUse.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def purge_all_old_uses(now: datetime | None = None) -> int:
    """Every use record past retention, in committed batches (for `flask api purge-uses`)."""
    total = 0
    while purged := purge_old_uses(now):
        db.session.commit()
        total += purged
    return total
