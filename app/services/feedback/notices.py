"""What the inbox says of feedback and thanks notifications, re-checked against the policy: a
notification whose object the reader may no longer open keeps its text without a link."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import aliased

from app import policy
from app.extensions import db
from app.models import AskStatus, FeedbackAsk, FeedbackRequest, Notification, Thanks, User
from app.services.notifications import Notice, notice_reader


@notice_reader
def feedback_notices(viewer: User, rows: list[Notification]) -> dict[int, Notice]:
    """FEEDBACK_REQUESTED, FEEDBACK_ANSWERED and FEEDBACK_SHARED (one query for the page)."""
    wanted = {n.feedback_ask_id for n in rows if n.feedback_ask_id}
    if not wanted:
        return {}
    requester = aliased(User)
    giver = aliased(User)
    readable = case((policy.where("feedback_ask.view", viewer), True), else_=False)
    found = {
        row.id: row
        for row in db.session.execute(
            select(
                FeedbackAsk.id,
                FeedbackAsk.request_id,
                FeedbackAsk.status,
                FeedbackAsk.giver_id,
                FeedbackRequest.requester_id,
                requester.name.label("requester_name"),
                giver.name.label("giver_name"),
                readable.label("readable"),
            )
            .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
            .join(requester, requester.id == FeedbackRequest.requester_id)
            .join(giver, giver.id == FeedbackAsk.giver_id)
            .where(FeedbackAsk.id.in_(wanted))
        )
    }
    notices = {}
    for n in rows:
        row = found.get(n.feedback_ask_id)
        if row is not None:
            notices[n.id] = _feedback_notice(viewer, n, row)
    return notices


def _feedback_notice(viewer: User, n: Notification, row) -> Notice:
    kind = n.kind.value
    if kind == "feedback_requested":
        endpoint = "feedback.answer" if row.readable and row.giver_id == viewer.id else None
        return Notice("asked you for", "feedback on their work", endpoint, (("ask_id", row.id),))
    if kind == "feedback_answered":
        mine = row.readable and row.requester_id == viewer.id
        verb = "declined" if row.status is AskStatus.DECLINED else "answered"
        return Notice(
            verb,
            "your request for feedback",
            "feedback.request" if mine else None,
            (("request_id", row.request_id),),
        )
    # feedback_shared: the manager reads it on the report's page
    return Notice(
        "shared with you",
        f"feedback from {row.giver_name}",
        "people.show" if row.readable else None,
        (("person_id", row.requester_id),),
    )


@notice_reader
def thanks_notices(viewer: User, rows: list[Notification]) -> dict[int, Notice]:
    """THANKS: who thanked the viewer, and for what (one query for the page)."""
    wanted = {n.thanks_id for n in rows if n.thanks_id}
    if not wanted:
        return {}
    messages = dict(
        db.session.execute(select(Thanks.id, Thanks.message).where(Thanks.id.in_(wanted))).all()
    )
    return {
        n.id: Notice(
            "thanked you:",
            f"“{_short(messages[n.thanks_id])}”",
            "people.show",
            (("person_id", viewer.id),),
        )
        for n in rows
        if n.thanks_id in messages
    }


def _short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
