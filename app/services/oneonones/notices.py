"""What the inbox says of a 1:1 notification, re-checking that the reader may still open it."""

from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Meeting, Notification, NotificationKind, OneOnOne, User
from app.services import notifications

VERBS = {
    NotificationKind.AGENDA_ITEM_ADDED: "added topics to",
    NotificationKind.ACTION_ITEM_ASSIGNED: "gave you an action item in",
}


@notifications.notice_reader
def _notices(viewer: User, rows: list[Notification]) -> dict[int, notifications.Notice]:
    ours = [n for n in rows if n.kind in VERBS and n.meeting_id]
    if not ours:
        return {}
    readable = dict(
        db.session.execute(
            select(Meeting.id, Meeting.starts_at)
            .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
            .where(
                Meeting.id.in_({n.meeting_id for n in ours}),
                policy.where("oneonone.view", viewer),
            )
        ).all()
    )
    found = {}
    for n in ours:
        starts_at = readable.get(n.meeting_id)
        if starts_at is None:
            found[n.id] = notifications.Notice(VERBS[n.kind], "a 1:1 you can no longer open")
            continue
        found[n.id] = notifications.Notice(
            VERBS[n.kind],
            f"your 1:1 on {starts_at:%-d %b %Y}",
            "oneonones.meeting",
            (("meeting_id", n.meeting_id),),
        )
    return found
