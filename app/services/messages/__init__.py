"""Messages to people outside the app: email and Slack, through the outbox.

A service that wants to tell someone something calls `deliver(...)` in its own transaction: the
person's preferences decide, per channel, whether the message is queued now, held for their
daily digest, or not wanted. Nothing is sent in a web request: jobs and `flask reminders send`
send what is queued (app/services/messages/sending.py). A `dedupe_key` makes a message happen at
most once, enforced by the database's unique key, whoever inserts it and however often.

    messages.deliver(
        person,
        MessageCategory.REMINDERS,
        subject="Your self-assessment is due tomorrow",
        template="reminder",
        context={"task": ..., "due": ...},
        link=messages.absolute_url("assessments.self_assessment", case_id=7),
        dedupe_key=f"reminder:{task.key}:tomorrow",
    )
"""

from app.services.messages import sending  # registers the send job and its commit hook
from app.services.messages.outbox import absolute_url, deliver, render
from app.services.messages.preferences import mode_for, modes_for

__all__ = ["absolute_url", "deliver", "mode_for", "modes_for", "render", "sending"]
