"""What an agenda item links to (a competency, evidence item, goal or delegation board): the
choices offered and the links shown, each checked against what the viewer may open."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.infra import markdown
from app.models import CoachingLink, DelegationBoard, Evidence, Goal
from app.services.evidence import competency_choices, competency_names

EVIDENCE_CHOICES = 50
GOAL_NAME = 60


@dataclass(frozen=True)
class LinkView:
    """One link as the viewer sees it: `endpoint` None when there is no page to open; `is_open`
    False when the viewer may no longer open it (shown muted, without its title)."""

    kind: str  # competency, evidence, goal, board
    label: str
    endpoint: str | None = None
    values: tuple[tuple[str, int], ...] = ()
    is_open: bool = True

    @property
    def url_values(self) -> dict[str, int]:
        return dict(self.values)


def _goal_name(goal: Goal, names: dict) -> str:
    competency = names.get((goal.framework_id, goal.competency_key), goal.competency_key)
    return f"{competency}: {markdown.plain_excerpt(goal.change, GOAL_NAME)}"


def choices(viewer, member_id: int | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The links the viewer may add to a topic about the member: grouped for a <select>."""
    if member_id is None:
        return []
    groups = []
    competencies = competency_choices(member_id)
    if competencies:
        groups.append(("Competency", [(f"c:{c.key}", c.name) for c in competencies]))
    evidence = db.session.execute(
        select(Evidence.id, Evidence.title)
        .where(
            Evidence.owner_id == member_id,
            Evidence.deleted_at.is_(None),
            policy.where("evidence.view", viewer),
        )
        .order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
        .limit(EVIDENCE_CHOICES)
    ).all()
    if evidence:
        groups.append(("Evidence", [(f"e:{i}", title) for i, title in evidence]))
    goals = list(
        db.session.execute(
            select(Goal)
            .where(Goal.person_id == member_id, policy.where("goal.view", viewer))
            .order_by(Goal.id)
        ).scalars()
    )
    if goals:
        names = competency_names({g.framework_id for g in goals})
        groups.append(("Goal", [(f"g:{g.id}", _goal_name(g, names)) for g in goals]))
    board = db.session.execute(
        select(DelegationBoard.id).where(
            DelegationBoard.person_id == member_id, policy.where("delegation.view", viewer)
        )
    ).scalar_one_or_none()
    if board:
        groups.append(("Delegation", [(f"b:{board}", "Delegation board")]))
    return groups


def for_items(viewer, member_id: int | None, item_ids: list[int]) -> dict[int, list[LinkView]]:
    """The links of these agenda items, by item: five queries whatever their number."""
    if not item_ids:
        return {}
    rows = list(
        db.session.execute(
            select(CoachingLink)
            .where(CoachingLink.agenda_item_id.in_(item_ids))
            .order_by(CoachingLink.id)
        ).scalars()
    )
    evidence = _readable(
        Evidence, {r.evidence_id for r in rows if r.evidence_id}, "evidence.view", viewer
    )
    goals = _readable(Goal, {r.goal_id for r in rows if r.goal_id}, "goal.view", viewer)
    boards = _readable(
        DelegationBoard, {r.board_id for r in rows if r.board_id}, "delegation.view", viewer
    )
    frameworks = {r.framework_id for r in rows if r.competency_key} | {
        g.framework_id for g in goals.values()
    }
    names = competency_names(frameworks)
    found: dict[int, list[LinkView]] = {}
    for row in rows:
        view = _view(row, evidence, goals, boards, names)
        found.setdefault(row.agenda_item_id, []).append(view)
    return found


def _readable(model, ids: set[int], action: str, viewer) -> dict:
    if not ids:
        return {}
    found = db.session.execute(
        select(model).where(model.id.in_(ids), policy.where(action, viewer))
    ).scalars()
    return {row.id: row for row in found}


def _view(row: CoachingLink, evidence: dict, goals: dict, boards: dict, names: dict) -> LinkView:
    if row.competency_key:
        name = names.get((row.framework_id, row.competency_key), row.competency_key)
        return LinkView("competency", name)
    if row.evidence_id:
        item = evidence.get(row.evidence_id)
        if item is None:
            return LinkView("evidence", "An evidence item you can no longer open", is_open=False)
        return LinkView("evidence", item.title, "evidence.show", (("evidence_id", item.id),))
    if row.goal_id:
        goal = goals.get(row.goal_id)
        if goal is None:
            return LinkView("goal", "A goal you can no longer open", is_open=False)
        return LinkView("goal", _goal_name(goal, names), "goals.show", (("goal_id", goal.id),))
    board = boards.get(row.board_id)
    if board is not None:
        return LinkView(
            "board", "Delegation board", "delegation.board", (("person_id", board.person_id),)
        )
    return LinkView("board", "A delegation board you can no longer open", is_open=False)
