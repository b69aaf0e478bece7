"""When each phase of a cycle is due: the one place that reads and writes `PhaseDeadline`.

A due date is a UTC instant (the end of the phase's work); pages show it in the viewer's time zone
(`app.core.timezones`). Reading: `due_at` for one phase, `deadlines_for` for many cycles in one
query (the to-do list and reminders call it for every person at once). Writing: `set_due` when a
cycle is opened or moved, `change_due` later with a reason that goes to the decision log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import CyclePhase
from app.models.reach import PhaseDeadline

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
