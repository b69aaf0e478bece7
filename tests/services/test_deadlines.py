"""Phase due dates: reading one or many, setting them when a cycle opens or moves, changing them
with a reason kept in the decision log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import event, select

from app.core.errors import ConflictError, ForbiddenError, ValidationError
from app.extensions import db
from app.infra import timezones
from app.models import CyclePhase, DecisionLogEntry, PromotionCycle
from app.models.reach import PhaseDeadline
from app.services.promotions import cycles, deadlines
from app.services.promotions.log import LogAction
from tests import promotion_helpers as ph
from tests.promotion_helpers import user

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


# --- setting and changing -----------------------------------------------------------------------


def log(cycle_id: int) -> list[DecisionLogEntry]:
    return list(
        db.session.scalars(
            select(DecisionLogEntry)
            .where(DecisionLogEntry.cycle_id == cycle_id)
            .order_by(DecisionLogEntry.id)
        )
    )


@pytest.fixture
def cycle_id(app, org):
    ph.publish_sample(app)
    return ph.make_cycle(app)


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        yield


def test_opening_a_cycle_sets_when_nominations_are_due(app, org, ctx, frozen):
    ph.publish_sample(app)
    cycle = cycles.create_cycle(user(org.head), "H1 2027", due_at=NOON)
    assert deadlines.due_at(cycle.id, CyclePhase.NOMINATIONS) == NOON
    entry = log(cycle.id)[-1]
    assert entry.action == LogAction.DEADLINE_SET
    assert entry.to_value == "Nominations: Wed 10 Mar 2027, 12:00 UTC"
    assert entry.actor_id == org.head.id


def test_moving_a_cycle_sets_the_next_phase_due_date(app, org, ctx, cycle_id, frozen):
    cycle = db.session.get(PromotionCycle, cycle_id)
    cycle.phase = CyclePhase.SELF_ASSESSMENT
    db.session.flush()
    cycles.move_phase(
        user(org.head),
        cycle_id,
        CyclePhase.NOMINATIONS,
        "Two managers asked for another week",
        expected_revision=cycle.revision,
        due_at=NOON,
    )
    assert deadlines.due_at(cycle_id, CyclePhase.NOMINATIONS) == NOON


def test_a_date_already_past_is_refused(app, org, ctx, cycle_id, frozen):
    with pytest.raises(ValidationError) as refused:
        deadlines.set_due(user(org.head), cycle_id, "nominations", NOON.replace(month=2))
    assert refused.value.field == "due_at" and "still to come" in refused.value.message


def test_only_the_head_of_product_sets_dates(app, org, ctx, cycle_id, frozen):
    with pytest.raises(ForbiddenError):
        deadlines.set_due(user(org.manager_a), cycle_id, "nominations", NOON)
    with pytest.raises(ForbiddenError):
        deadlines.change_due(
            user(org.manager_a), cycle_id, "nominations", NOON, "why", expected_revision=0
        )


def test_published_has_no_due_date(app, org, ctx, cycle_id, frozen):
    with pytest.raises(ValidationError):
        deadlines.set_due(user(org.head), cycle_id, CyclePhase.PUBLISHED, NOON)


def test_changing_a_date_needs_a_reason_and_the_log_keeps_both_dates(
    app, org, ctx, cycle_id, frozen
):
    head = user(org.head)
    deadlines.set_due(head, cycle_id, "self_assessment", NOON)
    with pytest.raises(ValidationError) as refused:
        deadlines.change_due(
            head, cycle_id, "self_assessment", NOON.replace(day=17), " ", expected_revision=1
        )
    assert refused.value.field == "reason"
    later = NOON.replace(day=17)
    row = deadlines.change_due(
        head, cycle_id, "self_assessment", later, "Spring break", expected_revision=1
    )
    assert row.revision == 2 and deadlines.due_at(cycle_id, "self_assessment") == later
    entry = log(cycle_id)[-1]
    assert (entry.action, entry.reason) == (LogAction.DEADLINE_CHANGED, "Spring break")
    assert entry.from_value == "Self-assessment: Wed 10 Mar 2027, 12:00 UTC"
    assert entry.to_value == "Self-assessment: Wed 17 Mar 2027, 12:00 UTC"


def test_a_stale_change_is_a_conflict_showing_their_date(app, org, ctx, cycle_id, frozen):
    head = user(org.head)
    deadlines.set_due(head, cycle_id, "calibration", NOON)
    with pytest.raises(ConflictError) as conflict:
        deadlines.change_due(head, cycle_id, "calibration", NOON, "again", expected_revision=0)
    assert conflict.value.current["due_at"] == NOON


def test_removing_a_date_is_logged(app, org, ctx, cycle_id, frozen):
    head = user(org.head)
    deadlines.set_due(head, cycle_id, "decisions", NOON)
    assert (
        deadlines.change_due(head, cycle_id, "decisions", None, "Not needed", expected_revision=1)
        is None
    )
    assert deadlines.due_at(cycle_id, "decisions") is None
    assert log(cycle_id)[-1].to_value == "Decisions: no date"


# --- time zones and daylight saving ---------------------------------------------------------------


def test_a_typed_time_is_read_in_the_persons_zone_on_either_side_of_a_dst_change():
    # Berlin moves from CET (+1) to CEST (+2) on 28 March 2027.
    before = deadlines.read_local("2027-03-27T17:00", "Europe/Berlin")
    after = deadlines.read_local("2027-03-29T17:00", "Europe/Berlin")
    assert before == datetime(2027, 3, 27, 16, 0, tzinfo=UTC)
    assert after == datetime(2027, 3, 29, 15, 0, tzinfo=UTC)
    assert timezones.format_instant(before, "Europe/Berlin") == "Sat 27 Mar 2027, 17:00 CET"
    assert timezones.format_instant(after, "Europe/Berlin") == "Mon 29 Mar 2027, 17:00 CEST"


def test_a_time_the_clocks_skip_is_refused_next_to_the_field():
    with pytest.raises(ValidationError) as refused:
        deadlines.read_local("2027-03-14T02:30", "America/New_York")
    assert refused.value.field == "due_at"
    assert "does not exist in America/New_York" in refused.value.message


def test_a_time_that_happens_twice_means_the_first():
    # New York goes back from EDT to EST at 02:00 on 7 November 2027: 01:30 happens twice.
    due = deadlines.read_local("2027-11-07T01:30", "America/New_York")
    assert due == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert timezones.format_instant(due, "America/New_York") == "Sun 7 Nov 2027, 01:30 EDT"


def test_one_instant_shows_as_each_viewer_s_own_time():
    due = datetime(2027, 6, 30, 15, 0, tzinfo=UTC)
    assert timezones.format_instant(due, "UTC") == "Wed 30 Jun 2027, 15:00 UTC"
    assert timezones.format_instant(due, "Asia/Kolkata") == "Wed 30 Jun 2027, 20:30 IST"
    assert timezones.format_instant(due, "Pacific/Auckland") == "Thu 1 Jul 2027, 03:00 NZST"
    assert timezones.format_instant(due, "Asia/Dubai") == "Wed 30 Jun 2027, 19:00 UTC+0400"
    assert timezones.format_instant(due, "Not/AZone") == "Wed 30 Jun 2027, 15:00 UTC"


def test_nonsense_is_refused_as_a_date():
    with pytest.raises(ValidationError):
        deadlines.read_local("next tuesday", "UTC")
    assert deadlines.read_local("  ", "UTC") is None
