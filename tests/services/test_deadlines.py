"""Phase due dates: reading one or many, setting them when a cycle opens or moves, changing them
with a reason kept in the decision log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from app.extensions import db
from app.models import CyclePhase
from app.models.reach import PhaseDeadline
from app.services.promotions import deadlines
from tests import promotion_helpers as ph

NOON = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def add_deadline(cycle_id: int, phase: CyclePhase, due: datetime) -> None:
    db.session.add(PhaseDeadline(cycle_id=cycle_id, phase=phase, due_at=due))
    db.session.flush()


def test_due_at_is_none_without_a_date_and_aware_utc_with_one(app, org, ctx):
    cycle_id = ph.make_cycle(app)
    assert deadlines.due_at(cycle_id, CyclePhase.NOMINATIONS) is None
    add_deadline(cycle_id, CyclePhase.NOMINATIONS, NOON)
    due = deadlines.due_at(cycle_id, "nominations")
    assert due == NOON and due.tzinfo is not None
    assert deadlines.due_at(cycle_id, CyclePhase.SELF_ASSESSMENT) is None


def test_deadlines_for_reads_many_cycles_in_one_query(app, org, ctx):
    first = ph.make_cycle(app, name="H1 2027")
    second = ph.make_cycle(app, name="H2 2027")
    add_deadline(first, CyclePhase.NOMINATIONS, NOON)
    add_deadline(first, CyclePhase.SELF_ASSESSMENT, NOON.replace(day=20))
    add_deadline(second, CyclePhase.CALIBRATION, NOON.replace(month=5))
    statements = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        found = deadlines.deadlines_for([first, second, first])
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert found == {
        (first, CyclePhase.NOMINATIONS): NOON,
        (first, CyclePhase.SELF_ASSESSMENT): NOON.replace(day=20),
        (second, CyclePhase.CALIBRATION): NOON.replace(month=5),
    }
    assert deadlines.deadlines_for([]) == {}
