"""The phase rules of a promotion cycle: every move, allowed and forbidden, and every activity."""

from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.models import CalibrationSession, CyclePhase, PromotionCycle
from app.models.base import utcnow
from app.policy import phases
from app.policy.phases import Activity

P = CyclePhase
ORDER = [
    P.NOMINATIONS,
    P.SELF_ASSESSMENT,
    P.MANAGER_ASSESSMENT,
    P.CALIBRATION,
    P.DECISIONS,
    P.PUBLISHED,
]

# The issue's table, written out: which activity is open in which phase.
OPEN = {
    Activity.NOMINATE: {P.NOMINATIONS},
    Activity.WITHDRAW: {P.NOMINATIONS, P.SELF_ASSESSMENT, P.MANAGER_ASSESSMENT, P.CALIBRATION},
    Activity.SELF_ASSESS: {P.SELF_ASSESSMENT},
    Activity.MANAGER_ASSESS: {P.MANAGER_ASSESSMENT},
    Activity.PLAN_SESSIONS: {
        P.NOMINATIONS,
        P.SELF_ASSESSMENT,
        P.MANAGER_ASSESSMENT,
        P.CALIBRATION,
    },
    Activity.VOTE: {P.CALIBRATION},
    Activity.CALIBRATE: {P.CALIBRATION},
    Activity.DECIDE: {P.DECISIONS},
}


def cycle_in(phase: CyclePhase) -> PromotionCycle:
    return PromotionCycle(name="H1 2027", phase=phase)


def test_the_phases_run_in_the_order_of_the_issue():
    assert list(CyclePhase) == ORDER
    assert [p.next for p in ORDER] == [*ORDER[1:], None]
    assert [p.previous for p in ORDER] == [None, *ORDER[:-1]]


@pytest.mark.parametrize("start", ORDER)
@pytest.mark.parametrize("to", ORDER)
def test_every_move(start, to):
    """Forward one step at a time; back to any earlier phase with a reason; never from published."""
    cycle = cycle_in(start)
    legal_forward = ORDER.index(to) == ORDER.index(start) + 1
    legal_back = ORDER.index(to) < ORDER.index(start) and start is not P.PUBLISHED
    if legal_forward:
        phases.check_move(cycle, to, "")
    elif legal_back:
        with pytest.raises(ValidationError, match="needs a reason"):
            phases.check_move(cycle, to, "  ")
        phases.check_move(cycle, to, "Two self-assessments were submitted by mistake.")
    else:
        with pytest.raises(ValidationError) as refused:
            phases.check_move(cycle, to, "Because.")
        assert refused.value.field == "phase"
        assert refused.value.message


def test_the_refusals_say_why():
    with pytest.raises(ValidationError, match="already in calibration"):
        phases.check_move(cycle_in(P.CALIBRATION), P.CALIBRATION, "")
    with pytest.raises(ValidationError, match=r"one at a time.*next is self-assessment"):
        phases.check_move(cycle_in(P.NOMINATIONS), P.CALIBRATION, "")
    with pytest.raises(ValidationError, match="published cycle cannot change phase"):
        phases.check_move(cycle_in(P.PUBLISHED), P.DECISIONS, "A mistake.")


@pytest.mark.parametrize("activity", list(Activity))
@pytest.mark.parametrize("phase", ORDER)
def test_every_activity_in_every_phase(activity, phase):
    cycle = cycle_in(phase)
    if phase in OPEN[activity]:
        phases.require(cycle, activity)
        assert phases.allows(phase, activity)
    else:
        assert not phases.allows(phase, activity)
        with pytest.raises(ValidationError) as refused:
            phases.require(cycle, activity)
        assert f"H1 2027 is in {phase.label.lower()}" in refused.value.message


def test_a_locked_session_refuses_every_change():
    session = CalibrationSession(name="Senior PM", cycle_id=1, facilitator_id=1)
    phases.require_unlocked(session)
    session.locked_at = utcnow()
    with pytest.raises(ValidationError, match="Senior PM is locked"):
        phases.require_unlocked(session)
