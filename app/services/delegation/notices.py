"""What the inbox says of Delegation Poker notifications: a round started, the picks revealed."""

from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import DelegationBoard, DelegationRound, Notification, NotificationKind, User
from app.services import notifications

KINDS = (
    NotificationKind.DELEGATION_ROUND_OPENED,
    NotificationKind.DELEGATION_REVEALED,
    NotificationKind.DELEGATION_ROUND_CLOSED,
)
VERBS = {
    NotificationKind.DELEGATION_ROUND_OPENED: "started {round} of Delegation Poker on",
    NotificationKind.DELEGATION_REVEALED: "and you have both picked: {round} is revealed on",
    NotificationKind.DELEGATION_ROUND_CLOSED: "closed {round} of Delegation Poker on",
}


@notifications.notice_reader
def delegation_notices(viewer: User, rows: list[Notification]) -> dict[int, notifications.Notice]:
    """One query for the page's delegation notifications; a board the viewer may no longer read
    (delegation.view) is named without a link."""
    mine = [n for n in rows if n.kind in KINDS and n.round_id]
    if not mine:
        return {}
    readable = {
        round_id: (number, person_id, name)
        for round_id, number, person_id, name in db.session.execute(
            select(DelegationRound.id, DelegationRound.number, User.id, User.name)
            .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
            .join(User, User.id == DelegationBoard.person_id)
            .where(
                DelegationRound.id.in_({n.round_id for n in mine}),
                policy.where("delegation.view", viewer),
            )
        )
    }
    found = {}
    for n in mine:
        if n.round_id not in readable:
            found[n.id] = notifications.Notice(
                VERBS[n.kind].format(round="a round"), "a delegation board you can no longer see"
            )
            continue
        number, person_id, name = readable[n.round_id]
        whose = (
            "your delegation board" if person_id == viewer.id else f"{name}\u2019s delegation board"
        )
        found[n.id] = notifications.Notice(
            VERBS[n.kind].format(round=f"round {number}"),
            whose,
            "delegation.board",
            (("person_id", person_id),),
        )
    return found
