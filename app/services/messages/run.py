"""`flask reminders send`: everything that reaches people, in order, for cron.

1. notifications not yet dispatched become messages (dispatch.py);
2. reminders of what is due are queued (todo.reminders.queue_reminders);
3. daily digests that are due are gathered (digest.py);
4. the outbox is sent (sending.py).

Safe to run twice at once (an overlapping cron, two servers): every step claims its rows in the
database (UPDATE … RETURNING) or inserts under a unique dedupe key, so nothing is queued or
sent twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from app.extensions import db
from app.models.base import utcnow
from app.services.messages import digest, dispatch, sending, wake


def everything(now: datetime | None = None) -> Iterator[str]:
    """Run the four steps; says what each did, as it goes."""
    now = now or utcnow()
    with wake.sent_here():  # sent below: no send job for what these steps queue
        yield f"Notifications dispatched: {dispatch.dispatch_notifications(now)}."
        yield f"Reminders queued: {_reminders(now)}."
        yield f"Digests made: {digest.send_due_digests(now)}."
        yield f"Outbox: {sending.send_due()}."  # now: what the steps above just queued


def _reminders(now: datetime) -> int:
    from app.services.todo import reminders

    queued = reminders.queue_reminders(now)
    db.session.commit()
    return queued
