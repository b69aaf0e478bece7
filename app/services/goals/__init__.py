"""Growth plans: goals a PM and their direct manager agree per competency toward a level.

Either of the two proposes a goal; the other agrees it. A goal says what will change and how the
outcome will be measured, has an optional target date, and moves through not started → in
progress → done (with the outcome achieved) or dropped (with a reason). Evidence is linked to it
as it comes in. Who may read or change a goal is app/policy/coaching.py's (goal.view, goal.edit,
goal.create); every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import Evidence, Goal, GoalStatus, Level, NotificationKind, User
from app.models.base import utcnow
from app.models.goals import goal_evidence
from app.services import audit
from app.services.evidence import competency_choices
from app.services.frameworks.ladder import placement
from app.services.notifications import notify

TEXT_MAX = 2_000
TARGET_GRACE_DAYS = 31  # a target may be a little before the proposal (a late write-up)
TARGET_YEARS = 5
OPEN = (GoalStatus.NOT_STARTED, GoalStatus.IN_PROGRESS)
CLOSED = (GoalStatus.DONE, GoalStatus.DROPPED)
MEASURE_HINT = (
    "The outcome, not the activity: what you will see when it worked (“trial-to-paid up from "
    "12% to 15%”, “the team runs discovery without me”), not “run 3 experiments”."
)


@dataclass
class GoalInput:
    competency_key: str
    change: str
    measure: str
    target_level_id: int | None = None  # None: the person's next level
    target_on: date | None = None


@dataclass(frozen=True)
class LevelOption:
    id: int
    code: str
    title: str
    track: str
    is_next: bool


# --- reading ----------------------------------------------------------------------------------


def get_goal(viewer: User, goal_id: int) -> Goal:
    """A goal the viewer may read (NotFoundError else, so existence does not leak)."""
    goal = db.session.get(Goal, goal_id)
    if goal is None:
        raise NotFoundError("Not found.")
    policy.authorize(viewer, "goal.view", goal)
    return goal


def target_levels(person: User) -> list[LevelOption]:
    """The levels a goal of the person can aim for: above their own on their framework version,
    the next level of their track first."""
    placed = placement(person.level_id)
    if placed is None:
        return []
    next_id = placed.next_level.id if placed.next_level else None
    levels = db.session.execute(
        select(Level)
        .where(Level.version_id == placed.version.id, Level.rank > placed.level.rank)
        .order_by(Level.rank, Level.position)
        .options(joinedload(Level.track))
    ).scalars()
    options = [
        LevelOption(level.id, level.code, level.title, level.track.name, level.id == next_id)
        for level in levels
    ]
    return sorted(options, key=lambda option: not option.is_next)


def snapshot(goal: Goal) -> dict[str, Any]:
    """A goal's values as the audit log and a conflict show them."""
    return {
        "competency_key": goal.competency_key,
        "target_level_id": goal.target_level_id,
        "change": goal.change,
        "measure": goal.measure,
        "target_on": goal.target_on.isoformat() if goal.target_on else None,
        "status": goal.status.value,
        "outcome": goal.outcome,
        "dropped_reason": goal.dropped_reason,
        "agreed_by_id": goal.agreed_by_id,
    }


def the_other(goal: Goal, actor_id: int) -> int | None:
    """The other of the two who agree a goal: the person's direct manager, or the person."""
    if actor_id != goal.person_id:
        return goal.person_id
    return db.session.execute(
        select(User.manager_id).where(User.id == goal.person_id)
    ).scalar_one_or_none()


# --- writing ----------------------------------------------------------------------------------


def create_goal(actor: User, person_id: int, data: GoalInput) -> Goal:
    """Propose a goal on a person's plan; the other of the two is asked to agree it."""
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "goal.create", person)
    if person.deactivated_at is not None:
        raise ValidationError(f"{person.name} is deactivated, so their plan takes no new goals.")
    placed = placement(person.level_id)
    if placed is None:
        raise ValidationError(
            "A goal aims for a level, so the person needs a level first: ask the head of "
            "product to place them."
        )
    goal = Goal(
        person_id=person.id,
        framework_id=placed.framework.id,
        created_by_id=actor.id,
        status=GoalStatus.NOT_STARTED,
        **_fields(person, data, utcnow().date()),
    )
    db.session.add(goal)
    db.session.flush()
    audit.record(actor, "goal.created", goal, after=snapshot(goal))
    _ask_to_agree(actor, goal)
    return goal


def update_goal(actor: User, goal: Goal, data: GoalInput, *, expected_revision: int) -> Goal:
    """Change what a goal says. Changing its substance (competency, level, what will change,
    the measure, the target date), agreed or not, makes the new wording the editor's proposal:
    the other of the two is asked to agree it, and the editor cannot agree it themselves."""
    policy.authorize(actor, "goal.edit", goal)
    _check_revision(goal, expected_revision, "this goal")
    person = db.session.get(User, goal.person_id)
    before = snapshot(goal)
    fields = _fields(person, data, goal.created_at.date())
    substance = ("competency_key", "target_level_id", "change", "measure", "target_on")
    changed = any(getattr(goal, name) != fields[name] for name in substance)
    if changed and goal.status in CLOSED:
        raise ValidationError(
            f"This goal is {goal.status.label.lower()}: what it said is what was agreed and "
            "closed. Reopen it first to change it (it will need agreeing again), or propose a "
            "new goal.",
            field="change",
        )
    for name, value in fields.items():
        setattr(goal, name, value)
    if changed:
        goal.agreed_by_id = None
        goal.agreed_at = None
        goal.created_by_id = actor.id  # the new wording is the actor's proposal
    goal.updated_at = utcnow()
    db.session.flush()
    old, new = audit.changes(before, snapshot(goal))
    if new:
        audit.record(actor, "goal.edited", goal, before=old, after=new)
    if changed:
        _ask_to_agree(actor, goal)
    return goal


def agree_goal(actor: User, goal: Goal, *, expected_revision: int) -> Goal:
    """The other of the two agrees the goal: it becomes part of the plan."""
    policy.authorize(actor, "goal.edit", goal)
    _check_revision(goal, expected_revision, "this goal")
    if goal.agreed_by_id is not None:
        raise ValidationError("This goal is already agreed.")
    if goal.created_by_id == actor.id:
        raise ValidationError(
            "You proposed this goal; the other of you two agrees it.", field="agree"
        )
    goal.agreed_by_id = actor.id
    goal.agreed_at = utcnow()
    goal.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "goal.agreed", goal, before={"agreed_by_id": None}, after={"agreed_by_id": actor.id}
    )
    proposer = goal.created_by_id or the_other(goal, actor.id)
    notify(
        [proposer] if proposer else [],
        NotificationKind.GOAL_AGREED,
        actor_id=actor.id,
        goal_id=goal.id,
    )
    return goal


def set_status(
    actor: User,
    goal: Goal,
    status: GoalStatus,
    *,
    note: str = "",
    expected_revision: int,
) -> Goal:
    """Move a goal: done needs the outcome achieved, dropped needs a reason; work on a goal
    (in progress, done) starts once both have agreed it."""
    policy.authorize(actor, "goal.edit", goal)
    _check_revision(goal, expected_revision, "this goal")
    note = note.strip()
    if len(note) > TEXT_MAX:
        raise ValidationError(f"Use at most {TEXT_MAX:,} characters.", field="note")
    if status == goal.status:
        raise ValidationError(f"The goal is already {status.label.lower()}.", field="status")
    if status in (GoalStatus.IN_PROGRESS, GoalStatus.DONE) and goal.agreed_by_id is None:
        raise ValidationError(
            "Agree the goal first: both of you agree it before work on it counts.",
            field="status",
        )
    if status is GoalStatus.DONE and not note:
        raise ValidationError("Say what the outcome was: what changed, measured.", field="note")
    if status is GoalStatus.DROPPED and not note:
        raise ValidationError("Say why the goal is dropped.", field="note")
    before = snapshot(goal)
    goal.status = status
    goal.outcome = note if status is GoalStatus.DONE else ""
    goal.dropped_reason = note if status is GoalStatus.DROPPED else ""
    goal.closed_at = utcnow() if status in CLOSED else None
    goal.updated_at = utcnow()
    db.session.flush()
    old, new = audit.changes(before, snapshot(goal))
    audit.record(actor, "goal.status", goal, before=old, after=new)
    return goal


def link_evidence(actor: User, goal: Goal, evidence_id: int) -> Evidence:
    """Link one of the person's evidence items to their open goal."""
    policy.authorize(actor, "goal.edit", goal)
    item = _linkable_item(actor, goal, evidence_id)
    if goal.status in CLOSED:
        raise ValidationError(
            "The goal is closed; reopen it to link more evidence.", field="evidence_id"
        )
    already = db.session.execute(
        select(goal_evidence.c.goal_id).where(
            goal_evidence.c.goal_id == goal.id, goal_evidence.c.evidence_id == item.id
        )
    ).first()
    if already:
        raise ValidationError("That item is already linked to this goal.", field="evidence_id")
    db.session.execute(
        insert(goal_evidence).values(goal_id=goal.id, evidence_id=item.id, linked_at=utcnow())
    )
    goal.updated_at = utcnow()  # what the goal shows changed: pages' and packets' "as of"
    db.session.flush()
    audit.record(actor, "goal.evidence_linked", goal, after={"evidence_id": item.id})
    return item


def unlink_evidence(actor: User, goal: Goal, evidence_id: int) -> None:
    policy.authorize(actor, "goal.edit", goal)
    item = _linkable_item(actor, goal, evidence_id)
    result = db.session.execute(
        delete(goal_evidence).where(
            goal_evidence.c.goal_id == goal.id, goal_evidence.c.evidence_id == item.id
        )
    )
    if not result.rowcount:
        raise ValidationError("That item is not linked to this goal.", field="evidence_id")
    goal.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "goal.evidence_unlinked", goal, before={"evidence_id": item.id})


# --- helpers ----------------------------------------------------------------------------------


def _check_revision(goal: Goal, expected: int, what: str) -> None:
    if goal.revision != expected:
        raise ConflictError(
            f"Someone else saved {what} after you opened it. Their version is below yours; "
            "nothing was overwritten.",
            current=snapshot(goal),
        )


def _linkable_item(actor: User, goal: Goal, evidence_id: int) -> Evidence:
    item = db.session.get(Evidence, evidence_id)
    if item is None or item.owner_id != goal.person_id or item.in_trash:
        raise ValidationError("Choose one of the person's evidence items.", field="evidence_id")
    if not policy.can(actor, "evidence.view", item):
        raise ValidationError("Choose one of the person's evidence items.", field="evidence_id")
    return item


def _text(value: str, field: str, empty: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(empty, field=field)
    if len(text) > TEXT_MAX:
        raise ValidationError(f"Use at most {TEXT_MAX:,} characters.", field=field)
    return text


def _target_on(value: date | None, since: date) -> date | None:
    """A target date from a little before the goal was proposed to five years on."""
    if value is None:
        return None
    earliest = since - timedelta(days=TARGET_GRACE_DAYS)
    latest = utcnow().date() + timedelta(days=365 * TARGET_YEARS + 1)
    if value < earliest:
        raise ValidationError(
            f"Choose a target date on or after {earliest:%-d %B %Y}: "
            "a goal's target is not long before it was proposed.",
            field="target_on",
        )
    if value > latest:
        raise ValidationError(
            f"Choose a target date within {TARGET_YEARS} years (by {latest:%-d %B %Y}).",
            field="target_on",
        )
    return value


def _fields(person: User, data: GoalInput, since: date) -> dict[str, Any]:
    keys = {choice.key for choice in competency_choices(person.id)}
    if data.competency_key not in keys:
        raise ValidationError(
            "Choose a competency of the person's career path.", field="competency_key"
        )
    levels = target_levels(person)
    if data.target_level_id is None:
        chosen = next((option for option in levels if option.is_next), None)
        if chosen is None:
            raise ValidationError(
                "There is no next level on this track: choose a level to aim for.",
                field="target_level_id",
            )
    else:
        chosen = next((option for option in levels if option.id == data.target_level_id), None)
        if chosen is None:
            raise ValidationError("Choose a level above the person's own.", field="target_level_id")
    return {
        "competency_key": data.competency_key,
        "target_level_id": chosen.id,
        "change": _text(data.change, "change", "Say what will be different."),
        "measure": _text(
            data.measure,
            "measure",
            "Say how the outcome will be measured: what you will see when it worked.",
        ),
        "target_on": _target_on(data.target_on, since),
    }


def _ask_to_agree(actor: User, goal: Goal) -> None:
    other = the_other(goal, actor.id)
    notify(
        [other] if other else [],
        NotificationKind.GOAL_PROPOSED,
        actor_id=actor.id,
        goal_id=goal.id,
    )


from app.services.goals import notices as notices  # noqa: E402  (registers the inbox reader)
