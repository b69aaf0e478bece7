"""What the inbox says of goal notifications: a goal proposed to agree, a goal agreed."""

from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Goal, Notification, NotificationKind, User
from app.services.evidence import competency_names
from app.services.notifications import Notice, notice_reader

VERBS = {
    NotificationKind.GOAL_PROPOSED: "proposed a goal to agree on",
    NotificationKind.GOAL_AGREED: "agreed a goal on",
}


@notice_reader
def goal_notices(viewer: User, rows: list[Notification]) -> dict[int, Notice]:
    """One query for the page's goal notifications (two with competency names), the policy read
    again: a goal the viewer may no longer read keeps its text but loses its link."""
    mine = [row for row in rows if row.goal_id and row.kind in VERBS]
    if not mine:
        return {}
    found = db.session.execute(
        select(Goal.id, Goal.framework_id, Goal.competency_key, Goal.person_id, User.name)
        .join(User, User.id == Goal.person_id)
        .where(Goal.id.in_({row.goal_id for row in mine}), policy.where("goal.view", viewer))
    ).all()
    goals = {goal_id: rest for goal_id, *rest in found}
    names = competency_names({framework_id for _id, framework_id, *_ in found})
    notices = {}
    for row in mine:
        goal = goals.get(row.goal_id)
        if goal is None:
            notices[row.id] = Notice(VERBS[row.kind], "a goal you can no longer open")
            continue
        framework_id, key, person_id, person_name = goal
        whose = "your growth plan" if person_id == viewer.id else f"{person_name}'s growth plan"
        competency = names.get((framework_id, key), key)
        notices[row.id] = Notice(
            VERBS[row.kind],
            f"{competency}, {whose}",
            "goals.show",
            (("goal_id", row.goal_id),),
        )
    return notices
