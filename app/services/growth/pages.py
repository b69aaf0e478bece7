"""The growth page's data (readiness and evidence over time for one person) and the home page's
summary of the signed-in person's readiness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import User
from app.services.frameworks.ladder import NextStep, next_steps_from
from app.services.goals.pages import GoalRow
from app.services.goals.summaries import growth_goals
from app.services.growth.expectations import level_id_for
from app.services.growth.heatmap import Heatmap, heatmap
from app.services.growth.readiness import CompetencyReadiness, Readiness, readiness


@dataclass(frozen=True)
class GoalProgress:
    """A growth-plan goal beside the readiness of its competency for the level shown."""

    goal: GoalRow
    readiness: CompetencyReadiness | None  # None: not a competency of the level shown


@dataclass(frozen=True)
class GrowthPage:
    person: User
    is_own: bool  # the owner sees their private drafts counted; others only shared items
    readiness: Readiness
    heatmap: Heatmap | None
    next_steps: list[NextStep] = field(default_factory=list)  # where the person could aim next
    goals: list[GoalProgress] = field(default_factory=list)  # open and done, not dropped

    @property
    def paths(self) -> list[NextStep]:
        """The ways up shown as "Where next": only when there are two or more to choose from."""
        return self.next_steps if len(self.next_steps) > 1 else []


def growth_page(
    actor, person_id: int, *, level_code: str | None = None, today: date | None = None
) -> GrowthPage:
    """Readiness and evidence over time for a person the actor may follow (NotFoundError else)."""
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "growth.view", person)
    is_own = person.id == actor.id
    target = level_id_for(person.id, level_code) if level_code else None
    ready = readiness(person.id, target, shared_only=not is_own, today=today)
    heat = heatmap(person.id, shared_only=not is_own, today=today) if ready.is_placed else None
    steps = next_steps_from(ready.placement.level) if ready.is_placed else []
    by_key = {c.key: c for c in ready.competencies}
    plan = [GoalProgress(g, by_key.get(g.competency_key)) for g in growth_goals(actor, person.id)]
    return GrowthPage(person, is_own, ready, heat, steps, plan)


def own_summary(actor) -> Readiness | None:
    """The actor's readiness for their next level, drafts counted (None when not placed)."""
    summary = readiness(actor.id)
    return summary if summary.is_placed else None
