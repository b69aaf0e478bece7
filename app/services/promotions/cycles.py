"""Promotion cycles and their cases: opening a cycle, moving its phase, nominating, withdrawing,
deciding and publishing (which moves promoted people to their new level)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import policy
from app.core import events
from app.core.errors import ConflictError, ForbiddenError, ValidationError
from app.extensions import db
from app.models import (
    CyclePhase,
    FrameworkVersion,
    Level,
    NotificationKind,
    Outcome,
    PromotionCase,
    PromotionCycle,
    User,
    VersionStatus,
)
from app.models.base import utcnow
from app.policy import phases
from app.policy.phases import Activity
from app.services import audit, notifications
from app.services.people import level_history
from app.services.promotions import deadlines, loading
from app.services.promotions.log import LogAction, record

NAME_MAX = 120
STATEMENT_MAX = 10_000
REASON_MAX = 2_000
RATIONALE_MAX = 5_000


# --- cycles -------------------------------------------------------------------------------------


def create_cycle(
    actor: User,
    name: str,
    version_ids: list[int] | None = None,
    *,
    packets_show_goals: bool = False,
    due_at: datetime | None = None,
) -> PromotionCycle:
    """Open a cycle in nominations, pinned to published versions (all of them by default);
    `due_at`, when given, is when nominations are due."""
    policy.authorize(actor, "cycles.manage")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Give the cycle a name, for example “H1 2027”.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Use at most {NAME_MAX} characters.", field="name")
    if _name_taken(name):
        raise ValidationError(
            f"There is already a cycle called “{name}”; choose another name.", field="name"
        )
    cycle = PromotionCycle(
        name=name,
        phase=CyclePhase.NOMINATIONS,
        created_by_id=actor.id,
        versions=_pinned(version_ids),
        packets_show_goals=packets_show_goals,
    )
    db.session.add(cycle)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same name saved at the same moment
        raise ValidationError(
            f"There is already a cycle called “{name}”; choose another name.", field="name"
        ) from None
    record(actor, LogAction.CYCLE_OPENED, cycle_id=cycle.id, to_value=name)
    if packets_show_goals:
        audit.record(actor, "cycle.packets_show_goals", cycle, after={"packets_show_goals": True})
    deadlines.set_due(actor, cycle.id, CyclePhase.NOMINATIONS, due_at)
    db.session.flush()
    events.phase_opened.send(cycle, actor=actor, phase=cycle.phase)
    return cycle


def _name_taken(name: str) -> bool:
    return (
        db.session.execute(
            select(PromotionCycle.id).where(func.lower(PromotionCycle.name) == name.lower())
        ).first()
        is not None
    )


def _pinned(version_ids: list[int] | None) -> list[FrameworkVersion]:
    published = list(
        db.session.execute(
            select(FrameworkVersion)
            .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
            .order_by(FrameworkVersion.id)
        ).scalars()
    )
    if not published:
        raise ValidationError(
            "Publish a career framework before opening a promotion cycle.", field="version_ids"
        )
    if not version_ids:
        return published
    wanted = set(version_ids)
    chosen = [version for version in published if version.id in wanted]
    if len(chosen) != len(wanted):
        raise ValidationError(
            "Choose published framework versions only; a draft or archived version cannot "
            "be used by a cycle.",
            field="version_ids",
        )
    return chosen


def move_phase(
    actor: User,
    cycle_id: int,
    to_phase,
    reason: str = "",
    *,
    expected_revision: int,
    due_at: datetime | None = None,
) -> PromotionCycle:
    """Move a cycle one phase forward, or back to any earlier phase with a reason; `due_at`,
    when given, is when the phase it moves to is due."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    to = _phase(to_phase)
    if cycle.revision != expected_revision:
        raise ConflictError(
            f"Someone moved {cycle.name} while you were looking at it: it is now in "
            f"{cycle.phase.label.lower()}; you asked for {to.label.lower()}.",
            current={"phase": cycle.phase.label},
        )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError(f"Use at most {REASON_MAX:,} characters.", field="reason")
    phases.check_move(cycle, to, reason)
    cases = _open_cases(cycle.id)
    is_forward = to.position > cycle.phase.position
    if is_forward:
        blocker = _blocker(cycle, to, cases)
        if blocker:
            raise ValidationError(blocker, field="phase")
    was = cycle.phase
    now = utcnow()
    cycle.phase, cycle.phase_changed_at = to, now
    record(
        actor,
        LogAction.PHASE_FORWARD if is_forward else LogAction.PHASE_BACK,
        cycle_id=cycle.id,
        from_value=was,
        to_value=to,
        reason=reason,
    )
    if to is CyclePhase.PUBLISHED:
        cycle.published_at = now
        _publish(actor, cycle, cases, now)
    else:
        deadlines.set_due(actor, cycle.id, to, due_at, now=now)
    for case in cases:
        # On publishing, candidates hear of their outcome instead (CASE_PUBLISHED).
        people = {case.manager_id}
        if to is not CyclePhase.PUBLISHED:
            people.add(case.candidate_id)
        notifications.notify(
            people, NotificationKind.CASE_PHASE, actor_id=actor.id, case_id=case.id, detail=to
        )
    db.session.flush()
    if is_forward:
        events.phase_opened.send(cycle, actor=actor, phase=to)
    return cycle


def _phase(value) -> CyclePhase:
    try:
        return CyclePhase(value)
    except ValueError:
        raise ValidationError("Choose one of the cycle's phases.", field="phase") from None


def _open_cases(cycle_id: int) -> list[PromotionCase]:
    return list(
        db.session.execute(
            select(PromotionCase)
            .join(User, PromotionCase.candidate_id == User.id)
            .where(PromotionCase.cycle_id == cycle_id, PromotionCase.withdrawn_at.is_(None))
            .options(
                joinedload(PromotionCase.candidate),
                joinedload(PromotionCase.manager),
                joinedload(PromotionCase.session),
                joinedload(PromotionCase.current_level),
                joinedload(PromotionCase.proposed_level),
            )
            .order_by(User.name, PromotionCase.id)
            # Cases already loaded in this transaction may hold a stale `session` (set by id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def open_cases(cycle_id: int) -> list[PromotionCase]:
    """The cycle's open cases with their people and levels, by the candidate's name."""
    return _open_cases(cycle_id)


def _names(cases: list[PromotionCase], with_manager: bool = False) -> str:
    if with_manager:
        return ", ".join(f"{c.candidate.name} (manager: {c.manager.name})" for c in cases)
    return ", ".join(c.candidate.name for c in cases)


def _blocker(cycle: PromotionCycle, to: CyclePhase, cases: list[PromotionCase]) -> str | None:
    """Why `cycle` cannot move forward to `to` yet, naming the people concerned; None if it can."""
    if to is CyclePhase.SELF_ASSESSMENT and not cases:
        return f"Nominate at least one person before {cycle.name} moves to self-assessment."
    if to is CyclePhase.CALIBRATION:
        missing = [c for c in cases if c.manager_submitted_at is None]
        if missing:
            return (
                "Every manager assessment must be submitted before calibration. Still "
                f"missing for: {_names(missing, with_manager=True)}."
            )
    if to is CyclePhase.DECISIONS:
        return _calibration_blocker(cases)
    if to is CyclePhase.PUBLISHED:
        return publish_blocker(cycle, cases)
    return None


def publish_blocker(cycle: PromotionCycle, cases: list[PromotionCase]) -> str | None:
    """Why `cycle` cannot be published yet: the open cases without a decision, by name."""
    missing = [c for c in cases if c.decision is None]
    if not missing:
        return None
    count = "1 case has" if len(missing) == 1 else f"{len(missing)} cases have"
    return (
        f"Record a decision for every open case before publishing {cycle.name}; {count} none: "
        f"{_names(missing)}."
    )


def _calibration_blocker(cases: list[PromotionCase]) -> str | None:
    no_session = [c for c in cases if c.session is None]
    unlocked = [c for c in cases if c.session is not None and not c.session.is_locked]
    no_outcome = [c for c in cases if c.session is not None and c.outcome is None]
    problems = []
    if no_session:
        problems.append(f"not in a calibration session: {_names(no_session)}")
    if unlocked:
        problems.append(
            "in a session that is not locked yet: "
            + ", ".join(f"{c.candidate.name} ({c.session.name})" for c in unlocked)
        )
    if no_outcome:
        problems.append(f"without an outcome: {_names(no_outcome)}")
    if not problems:
        return None
    listed = "; ".join(problems)
    return (
        "Every case needs an outcome from a locked calibration session before decisions. "
        f"{listed[0].upper()}{listed[1:]}."
    )


def next_move_blocker(cycle: PromotionCycle) -> str | None:
    """What stops the cycle from moving to its next phase now (for the cycle page)."""
    if cycle.phase.next is None:
        return None
    return _blocker(cycle, cycle.phase.next, _open_cases(cycle.id))


def _publish(actor: User, cycle: PromotionCycle, cases: list[PromotionCase], now) -> None:
    """Promoted people move to their proposed level; everyone's outcome becomes visible."""
    promoted = [c for c in cases if c.decision is Outcome.PROMOTE]
    levels = _levels(
        {c.proposed_level_id for c in promoted} | {c.candidate.level_id for c in promoted}
    )
    for case in promoted:
        target = _current_equivalent(levels[case.proposed_level_id], case.candidate)
        before = levels.get(case.candidate.level_id)
        level_history.move(case.candidate, target.id, source="promotion", case_id=case.id, at=now)
        record(
            actor,
            LogAction.LEVEL_CHANGED,
            cycle_id=cycle.id,
            case_id=case.id,
            from_value=before.level.code if before else "",
            to_value=target.code,
        )
    record(
        actor,
        LogAction.CYCLE_PUBLISHED,
        cycle_id=cycle.id,
        to_value=f"{len(promoted)} of {len(cases)} promoted",
    )
    for case in cases:
        notifications.notify(
            [case.candidate_id], NotificationKind.CASE_PUBLISHED, actor_id=actor.id, case_id=case.id
        )


@dataclass(frozen=True)
class _LevelInfo:
    level: Level
    framework_id: int
    is_published: bool


def _levels(level_ids: set[int | None]) -> dict[int, _LevelInfo]:
    ids = {i for i in level_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Level, FrameworkVersion.framework_id, FrameworkVersion.status)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(Level.id.in_(ids))
    ).all()
    return {
        level.id: _LevelInfo(level, framework_id, status is VersionStatus.PUBLISHED)
        for level, framework_id, status in rows
    }


def _current_equivalent(info: _LevelInfo, candidate: User) -> Level:
    """The proposed level, or the level with its code in the framework's version published now
    (a newer version may have been published while the cycle ran)."""
    if info.is_published:
        return info.level
    newer = db.session.execute(
        select(Level)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(
            FrameworkVersion.framework_id == info.framework_id,
            FrameworkVersion.status == VersionStatus.PUBLISHED,
            Level.code == info.level.code,
        )
    ).scalar_one_or_none()
    if newer is None:
        raise ValidationError(
            f"{candidate.name} is to be promoted to {info.level.code}, which the career path "
            "published now no longer has. Withdraw the case or publish a version with that "
            "level, then publish the cycle."
        )
    return newer


# --- cases --------------------------------------------------------------------------------------


def nominate(
    actor: User, cycle_id: int, candidate_id, proposed_level_id, statement: str
) -> PromotionCase:
    """Open a case: a person proposed for a higher level of one of the cycle's career paths."""
    policy.authorize(actor, "case.nominate")
    cycle = loading.cycle(cycle_id)
    phases.require(cycle, Activity.NOMINATE)
    candidate = _candidate(actor, candidate_id)
    if _has_open_case(cycle.id, candidate.id):
        raise ValidationError(
            f"{candidate.name} already has an open case in {cycle.name}.", field="candidate_id"
        )
    current = db.session.get(Level, candidate.level_id)
    proposed = _proposed_level(cycle, proposed_level_id)
    if proposed.rank <= current.rank:
        raise ValidationError(
            f"Propose a level above {candidate.name}'s current level, {current.code} · "
            f"{current.title}.",
            field="proposed_level_id",
        )
    statement = _statement(statement, candidate, proposed)
    case = PromotionCase(
        cycle_id=cycle.id,
        candidate_id=candidate.id,
        candidate=candidate,  # loaded: the caller names them
        current_level_id=current.id,
        proposed_level_id=proposed.id,
        manager_id=candidate.manager_id or actor.id,
        nominated_by_id=actor.id,
        statement=statement,
    )
    db.session.add(case)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the partial unique index: nominated at the same moment elsewhere
        raise ValidationError(
            f"{candidate.name} already has an open case in {cycle.name}.", field="candidate_id"
        ) from None
    record(
        actor,
        LogAction.CASE_OPENED,
        cycle_id=cycle.id,
        case_id=case.id,
        from_value=current.code,
        to_value=proposed.code,
    )
    notifications.notify(
        [candidate.id, case.manager_id],
        NotificationKind.CASE_OPENED,
        actor_id=actor.id,
        case_id=case.id,
    )
    db.session.flush()
    return case


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _candidate(actor: User, candidate_id) -> User:
    candidate_id = _int_or_none(candidate_id)
    candidate = db.session.get(User, candidate_id) if candidate_id is not None else None
    if candidate is None or not candidate.is_active:
        raise ValidationError("Choose the person to nominate.", field="candidate_id")
    if candidate.id == actor.id:
        raise ValidationError("You cannot nominate yourself.", field="candidate_id")
    if not policy.can(actor, "case.nominate", candidate):
        raise ValidationError(
            "You can nominate only people who report to you.", field="candidate_id"
        )
    if candidate.level_id is None:
        raise ValidationError(
            f"{candidate.name} is not placed on a level yet; the head of product places "
            "people on their current level first (People).",
            field="candidate_id",
        )
    return candidate


def _has_open_case(cycle_id: int, candidate_id: int) -> bool:
    return (
        db.session.execute(
            select(PromotionCase.id).where(
                PromotionCase.cycle_id == cycle_id,
                PromotionCase.candidate_id == candidate_id,
                PromotionCase.withdrawn_at.is_(None),
            )
        ).first()
        is not None
    )


def _proposed_level(cycle: PromotionCycle, level_id) -> Level:
    level_id = _int_or_none(level_id)
    level = db.session.get(Level, level_id) if level_id is not None else None
    if level is None or level.version_id not in {v.id for v in cycle.versions}:
        raise ValidationError(
            f"Choose a level of the career paths {cycle.name} uses.", field="proposed_level_id"
        )
    return level


def _statement(text: str, candidate: User, proposed: Level) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            f"Write the manager statement: why {candidate.name} is ready for {proposed.code}.",
            field="statement",
        )
    if len(text) > STATEMENT_MAX:
        raise ValidationError(f"Use at most {STATEMENT_MAX:,} characters.", field="statement")
    return text


def _case_for(actor: User, case_id: int) -> PromotionCase:
    case = loading.case(case_id)
    policy.authorize(actor, "case.view", case)
    return case


def withdraw(actor: User, case_id: int, reason: str) -> PromotionCase:
    """Take a case out of the cycle, with a reason kept in the decision log."""
    case = _case_for(actor, case_id)
    if not case.is_open:
        raise ValidationError(f"{case.candidate.name}'s case was already withdrawn.")
    phases.require(case.cycle, Activity.WITHDRAW)
    if not policy.can(actor, "case.withdraw", case):
        raise ForbiddenError(
            "Only the candidate's manager, whoever nominated them or the head of product can "
            "withdraw a case."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Say why the case is withdrawn; it is kept in the decision log.", field="reason"
        )
    if len(reason) > REASON_MAX:
        raise ValidationError(f"Use at most {REASON_MAX:,} characters.", field="reason")
    now = utcnow()
    case.withdrawn_at, case.withdrawn_reason, case.updated_at = now, reason, now
    record(actor, LogAction.CASE_WITHDRAWN, cycle_id=case.cycle_id, case_id=case.id, reason=reason)
    db.session.flush()
    return case


def decide(
    actor: User, case_id: int, decision, rationale: str, *, expected_revision: int
) -> PromotionCase:
    """The head of product's decision on a case: the session's outcome unless they say why not."""
    case = _case_for(actor, case_id)
    phases.require(case.cycle, Activity.DECIDE)
    if not policy.can(actor, "case.decide", case):
        if not case.is_open:
            raise ValidationError(f"{case.candidate.name}'s case was withdrawn.")
        raise ForbiddenError("Only the head of product records decisions.")
    if case.revision != expected_revision:
        raise ConflictError(
            f"Someone changed {case.candidate.name}'s case after you opened it.",
            current={
                "decision": case.decision.label if case.decision else "None yet",
                "rationale": case.decision_rationale,
            },
        )
    chosen = _decision(decision, case)
    rationale = (rationale or "").strip()
    if len(rationale) > RATIONALE_MAX:
        raise ValidationError(f"Use at most {RATIONALE_MAX:,} characters.", field="rationale")
    if chosen is not case.outcome and not rationale:
        raise ValidationError(
            f"Explain why the decision ({chosen.label}) differs from the session's outcome "
            f"({case.outcome.label if case.outcome else 'none'}).",
            field="rationale",
        )
    was = case.decision
    now = utcnow()
    case.decision, case.decision_rationale = chosen, rationale
    case.decided_at, case.decided_by_id, case.updated_at = now, actor.id, now
    record(
        actor,
        LogAction.DECISION,
        cycle_id=case.cycle_id,
        case_id=case.id,
        from_value=was,
        to_value=chosen,
        reason=rationale,
    )
    notifications.notify(
        [case.manager_id],
        NotificationKind.CASE_DECIDED,
        actor_id=actor.id,
        case_id=case.id,
        detail=chosen,
    )
    db.session.flush()
    return case


def _decision(value, case: PromotionCase) -> Outcome:
    if value in (None, ""):
        if case.outcome is None:
            raise ValidationError(
                "The calibration session gave no outcome for this case; choose a decision.",
                field="decision",
            )
        return case.outcome
    try:
        return Outcome(value)
    except ValueError:
        raise ValidationError("Choose promote, not yet or defer.", field="decision") from None
