"""When each phase of a cycle is due: the one place that reads and writes `PhaseDeadline`.

A due date is a UTC instant (the end of the phase's work); pages show it in the viewer's time zone
(`app.core.timezones`). Reading: `due_at` for one phase, `deadlines_for` for many cycles in one
query (the to-do list and reminders call it for every person at once). Writing: `set_due` when a
cycle is opened or moved, `change_due` later with a reason that goes to the decision log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from app import policy
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.infra import timezones
from app.models import CyclePhase, PromotionCycle, User
from app.models.base import utcnow
from app.models.reach import PhaseDeadline
from app.services.promotions import loading
from app.services.promotions.log import LogAction, record

REASON_MAX = 2_000

# The phases whose work can be due; a published cycle has nothing left to do.
DATED_PHASES = tuple(phase for phase in CyclePhase if phase is not CyclePhase.PUBLISHED)


def due_at(cycle_id: int, phase: CyclePhase | str) -> datetime | None:
    """When `phase` of the cycle is due (aware UTC), or None when no date is set."""
    return db.session.execute(
        select(PhaseDeadline.due_at).where(
            PhaseDeadline.cycle_id == cycle_id, PhaseDeadline.phase == CyclePhase(phase)
        )
    ).scalar_one_or_none()


def deadlines_for(cycle_ids: Iterable[int]) -> dict[tuple[int, CyclePhase], datetime]:
    """Every due date of the given cycles, keyed by (cycle id, phase), in one query. Phases
    without a date are absent from the result."""
    ids = sorted(set(cycle_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(PhaseDeadline.cycle_id, PhaseDeadline.phase, PhaseDeadline.due_at).where(
            PhaseDeadline.cycle_id.in_(ids)
        )
    )
    return {(cycle_id, CyclePhase(phase)): due for cycle_id, phase, due in rows}


@dataclass(frozen=True)
class PhaseDate:
    """One phase's due date as the cycle page shows and edits it (revision 0: none set yet)."""

    phase: CyclePhase
    due_at: datetime | None
    revision: int = 0


def phase_dates(cycle_id: int) -> list[PhaseDate]:
    """Every phase that can be due, in order, with its date or None (one query)."""
    rows = {
        row.phase: row
        for row in db.session.execute(
            select(PhaseDeadline).where(PhaseDeadline.cycle_id == cycle_id)
        ).scalars()
    }
    return [
        PhaseDate(phase, rows[phase].due_at, rows[phase].revision)
        if phase in rows
        else PhaseDate(phase, None)
        for phase in DATED_PHASES
    ]


# --- setting and changing -----------------------------------------------------------------------


def read_local(
    text: str | None, zone_name: str | None, *, field: str = "due_at"
) -> datetime | None:
    """What a person typed in a date-and-time field, read in their time zone, as a UTC instant;
    None when left empty. Refused (next to `field`) when it is not a time, or one the clocks
    skip."""
    try:
        wall = timezones.parse_input(text)
        return None if wall is None else timezones.to_utc(wall, zone_name)
    except ValueError as error:
        raise ValidationError(str(error), field=field) from None


def set_due(
    actor: User,
    cycle_id: int,
    phase: CyclePhase | str,
    due: datetime | None,
    *,
    now: datetime | None = None,
    field: str = "due_at",
) -> PhaseDeadline | None:
    """Set a phase's due date as the cycle is opened or moved into that phase (no reason asked:
    the move itself is logged). Nothing happens for an empty date or the same date."""
    if due is None:
        return None
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    return _put(actor, cycle, _dated(phase, field), due, "", now=now, field=field)


def change_due(
    actor: User,
    cycle_id: int,
    phase: CyclePhase | str,
    due: datetime | None,
    reason: str,
    *,
    expected_revision: int,
    now: datetime | None = None,
) -> PhaseDeadline | None:
    """Change (or, with no date, remove) a phase's due date later on, with a reason that the
    decision log keeps. `expected_revision` is the date's revision as the form showed it (0 for
    none): anyone else's change since is a conflict."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    phase = _dated(phase, "phase")
    if cycle.phase is CyclePhase.PUBLISHED:
        raise ValidationError(f"{cycle.name} is published; its dates are history.", field="phase")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Say why the date changes; the decision log keeps it.", field="reason"
        )
    if len(reason) > REASON_MAX:
        raise ValidationError(f"Use at most {REASON_MAX:,} characters.", field="reason")
    row = _row(cycle.id, phase)
    if (row.revision if row else 0) != expected_revision:
        raise ConflictError(
            f"Someone changed the {phase.label.lower()} due date of {cycle.name} while you were "
            "looking at it.",
            current={"due_at": row.due_at if row else None, "phase": phase.label},
        )
    if due is None:
        if row is None:
            return None
        record(
            actor,
            LogAction.DEADLINE_CHANGED,
            cycle_id=cycle.id,
            from_value=_described(phase, row.due_at),
            to_value=f"{phase.label}: no date",
            reason=reason,
        )
        db.session.delete(row)
        db.session.flush()
        return None
    return _put(actor, cycle, phase, due, reason, now=now, field="due_at")


def _dated(phase: CyclePhase | str, field: str) -> CyclePhase:
    try:
        phase = CyclePhase(phase)
    except ValueError:
        phase = None
    if phase not in DATED_PHASES:
        raise ValidationError("Choose a phase that has work to do.", field=field)
    return phase


def _row(cycle_id: int, phase: CyclePhase) -> PhaseDeadline | None:
    return db.session.execute(
        select(PhaseDeadline).where(
            PhaseDeadline.cycle_id == cycle_id, PhaseDeadline.phase == phase
        )
    ).scalar_one_or_none()


def _put(
    actor: User,
    cycle: PromotionCycle,
    phase: CyclePhase,
    due: datetime,
    reason: str,
    *,
    now: datetime | None,
    field: str,
) -> PhaseDeadline:
    if due.tzinfo is None:
        raise ValueError("a due date must be an aware datetime")
    due = due.astimezone(UTC).replace(second=0, microsecond=0)
    if due <= (now or utcnow()):
        raise ValidationError("Choose a date and time still to come.", field=field)
    row = _row(cycle.id, phase)
    if row is not None and row.due_at == due:
        return row
    record(
        actor,
        LogAction.DEADLINE_SET if row is None else LogAction.DEADLINE_CHANGED,
        cycle_id=cycle.id,
        from_value=_described(phase, row.due_at) if row else None,
        to_value=_described(phase, due),
        reason=reason,
    )
    if row is None:
        row = PhaseDeadline(cycle_id=cycle.id, phase=phase, due_at=due, set_by_id=actor.id)
        db.session.add(row)
    else:
        row.due_at, row.set_by_id, row.updated_at = due, actor.id, utcnow()
    db.session.flush()
    return row


def _described(phase: CyclePhase, due: datetime) -> str:
    """How the decision log keeps a date: in UTC, which every reader can convert."""
    return f"{phase.label}: {timezones.format_instant(due, 'UTC')}"


@dataclass(frozen=True)
class DatePage:
    """The page that changes one phase's due date."""

    cycle_id: int
    cycle_name: str
    cycle_phase: CyclePhase
    date: PhaseDate


def date_page(actor: User, cycle_id: int, phase: CyclePhase | str) -> DatePage:
    """A phase's due date as the head of product changes it."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    phase = _dated(phase, "phase")
    row = _row(cycle.id, phase)
    date = PhaseDate(phase, row.due_at, row.revision) if row else PhaseDate(phase, None)
    return DatePage(cycle.id, cycle.name, cycle.phase, date)
