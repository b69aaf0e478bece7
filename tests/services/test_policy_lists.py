"""The promotion lists show what the rules' checks allow, for everyone.

Check and filter agree rule by rule (tests/services/test_policy_rules.py); here the services that
build the case list and the sessions panel must use the filters, over an organisation with a
cycle in every phase, sessions, a withdrawn case and a PM who has a report of their own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import CalibrationSession, CyclePhase, PromotionCase, Role, User
from app.models.base import utcnow
from tests import promotion_helpers as helpers


@pytest.fixture
def world(app, make, org):
    """A cycle per phase, each with cases for four people, two of them in a session."""
    # A PM with a line below them (as after a manager became a PM once their direct report
    # was deactivated): Lea → Rob → Sam.
    lead = make.person(name="Lea Lead", manager=org.manager_b)
    report = make.person(name="Rob Report", role=Role.MANAGER, manager=lead)
    skip = make.person(name="Sam Skip", manager=report)
    outsider = make.person(name="Omar Outsider", role=Role.MANAGER, manager=org.head)
    levels = helpers.publish_sample(app)
    candidates = [org.pm_a1, org.pm_b1, org.pm_d1, skip, report]
    helpers.place(app, [*candidates, org.pm_a2], levels["L1"])
    for number, phase in enumerate(CyclePhase):
        cycle_id = helpers.make_cycle(app, name=f"Cycle {number}", phase=phase)
        case_ids = [
            helpers.make_case(
                app,
                cycle_id,
                person,
                current_level_id=levels["L1"],
                proposed_level_id=levels["L2"],
            )
            for person in candidates
        ]
        helpers.make_session(
            app,
            cycle_id,
            facilitator=org.director if number % 2 else outsider,
            participants=[org.manager_b, org.pm_a2] if number % 2 else [lead],
            case_ids=case_ids[:2] if number % 2 else case_ids[2:],
            name=f"Session {number}",
        )
        helpers.make_session(
            app, cycle_id, facilitator=org.manager_a, participants=[], case_ids=[], name="Empty"
        )
        with app.app_context():
            db.session.get(PromotionCase, case_ids[1]).withdrawn_at = utcnow()
            db.session.commit()
    return [*org.__dict__.values(), lead, report, skip, outsider]


def test_the_lists_show_what_the_checks_allow(app, world):
    """The case list and the sessions panel follow the rules' filters. Lea, a PM with a line
    below her, sees Sam's cases in the list as on the case page (the old batch copy of the
    rule counted people below only for managers, so it listed her direct report's alone)."""
    from app.models import PromotionCycle
    from app.services.promotions import case_lists
    from app.services.promotions.calibration import panels

    with app.app_context():
        cycles = db.session.scalars(select(PromotionCycle)).all()
        for person in world:
            viewer = db.session.get(User, person.id)
            for cycle in cycles:
                cases = db.session.scalars(
                    select(PromotionCase).where(PromotionCase.cycle_id == cycle.id)
                ).all()
                listed = {row.id: row for row in case_lists.cycle_cases(viewer, cycle.id, 1)[1]}
                assert set(listed) == {c.id for c in cases if policy.can(viewer, "case.view", c)}
                for case in cases:
                    if case.id in listed and case.session_id is not None:
                        session = db.session.get(CalibrationSession, case.session_id)
                        shown = listed[case.id].may_open_session
                        assert shown == policy.can(viewer, "session.view", session)
                sessions = db.session.scalars(
                    select(CalibrationSession).where(CalibrationSession.cycle_id == cycle.id)
                ).all()
                assert {s.id for s in panels.sessions_of(viewer, cycle.id)} == {
                    s.id for s in sessions if policy.can(viewer, "session.view", s)
                }
        lead = db.session.scalar(select(User).where(User.name == "Lea Lead"))
        for cycle in cycles:
            names = {row.candidate_name for row in case_lists.cycle_cases(lead, cycle.id, 1)[1]}
            assert {"Rob Report", "Sam Skip"} <= names
