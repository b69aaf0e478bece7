"""Reminders of tasks due in 3 days, due tomorrow and overdue (`flask reminders send`)."""

from __future__ import annotations

from datetime import datetime


def queue_reminders(now: datetime) -> int:
    """Queue, through messages.deliver, each reminder that is due at `now` and not yet queued
    (at most once per person, task and threshold: the outbox's dedupe key); returns how many
    messages were queued. The caller commits."""
    raise NotImplementedError("issue 15: the to-do helper writes this")
