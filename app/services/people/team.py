"""The team page: everyone in a manager's line with recent shared evidence, readiness, activity.

A manager only ever sees shared items, so drafts count nowhere here, not even as a number. The
page reads a fixed number of queries whatever the size of the team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.models import Comment, Evidence, User
from app.services.feedback import lessons as feedback_lessons
from app.services.feedback import panels as feedback_panels
from app.services.growth import readiness
from app.services.people import org
from app.services.people.pages import PersonLinks, person_links

RECENT_DAYS = 90
LESSONS_SHOWN = 5


@dataclass(frozen=True)
class Member:
    person: User
    recent_evidence: int  # shared items that happened in the last RECENT_DAYS days
    readiness: readiness.TeamReadiness  # for their next level, from shared evidence only
    last_activity_at: datetime | None  # newest shared item or comment


@dataclass(frozen=True)
class Group:
    """People who report to `manager`; the first group holds the viewer's direct reports."""

    manager: User
    members: list[Member]
    is_direct: bool


def team(actor: User, *, today: date | None = None) -> list[Group]:
    """Direct reports first, then each manager's people below them, depth first, by name."""
    ids = org.reports_below(actor.id)
    if not ids:
        return []
    people = db.session.execute(
        select(User)
        .where(User.id.in_(ids))
        .options(joinedload(User.level))
        .order_by(User.name, User.id)
    ).scalars()
    active_ids = []
    by_manager: dict[int, list[User]] = {}
    managers = {actor.id: actor}
    for person in people:
        managers[person.id] = person
        if person.is_active:
            by_manager.setdefault(person.manager_id, []).append(person)
            active_ids.append(person.id)
    stats = _stats(actor, active_ids, (today or date.today()) - timedelta(days=RECENT_DAYS))
    ready = readiness.team_readiness(active_ids) if active_ids else {}

    def member(person: User) -> Member:
        recent, last = stats.get(person.id, (0, None))
        return Member(person, recent, ready.get(person.id, readiness.TeamReadiness()), last)

    groups: list[Group] = []
    stack = [actor.id]
    while stack:
        manager_id = stack.pop()
        reports = by_manager.get(manager_id, [])
        if reports:
            groups.append(
                Group(managers[manager_id], [member(p) for p in reports], manager_id == actor.id)
            )
        stack.extend(p.id for p in reversed(reports))
    return groups


@dataclass(frozen=True)
class TeamPage:
    """The team page: the groups, the window "recent" means, and whose names link."""

    groups: list[Group]
    links: PersonLinks
    recent_days: int = RECENT_DAYS
    thanks: list = ()  # recent thanks to the people in the viewer's line
    lessons: list[Evidence] = ()  # recent lessons the viewer may read


def team_page(actor: User) -> TeamPage:
    return TeamPage(
        groups=team(actor),
        links=person_links(actor),
        thanks=feedback_panels.team_thanks(actor),
        lessons=feedback_lessons.recent_lessons(actor, LESSONS_SHOWN),
    )


def _stats(actor: User, ids: list[int], since: date) -> dict[int, tuple[int, datetime | None]]:
    """person id → (recent shared items, latest shared item or comment on a shared item)."""
    if not ids:
        return {}
    shared = Evidence.is_visible_to_others
    items = db.session.execute(
        select(
            Evidence.owner_id,
            func.count(case((Evidence.occurred_on >= since, 1))),
            func.max(Evidence.shared_at),
        )
        .where(Evidence.owner_id.in_(ids), policy.where("evidence.view", actor))
        .group_by(Evidence.owner_id)
    ).all()
    comments = db.session.execute(
        select(Comment.author_id, func.max(Comment.created_at))
        .join(Evidence, Evidence.id == Comment.evidence_id)
        .where(Comment.author_id.in_(ids), Comment.body != "", shared)
        .group_by(Comment.author_id)
    ).all()
    result = {owner: (recent, last) for owner, recent, last in items}
    for author, commented_at in comments:
        recent, last = result.get(author, (0, None))
        result[author] = (recent, max(filter(None, (last, commented_at))))
    return result
