"""Who sees the calibration votes, in the app (votes.view) and in the committee packet.

Decided in issue 11: the packet names votes only once the session is locked (the decision record
is made), and from then on votes.view lets everyone who may have the committee packet see them in
the app too, besides the session's people. Before the lock votes stay blind until you voted or
the facilitator revealed them. The old packet named votes once revealed, to the whole manager
chain, while the app showed them only to the session's people who had voted.
"""

from __future__ import annotations

import pytest

from app import policy
from app.extensions import db
from app.models import CalibrationSession, CyclePhase, PromotionCase, User
from app.models.base import utcnow
from app.services import packets
from tests import promotion_helpers as ph


@pytest.fixture
def meeting(app, org):
    """Cases for pm_a1, pm_b1 and pm_d1 (Dora Director's report, below Ada) in one session
    facilitated by the head with Ada and Ben; Dora is not in it."""
    return ph.cycle_with_cases(
        app,
        org,
        phase=CyclePhase.CALIBRATION,
        candidates=("pm_a1", "pm_b1", "pm_d1"),
        with_session=True,
    )


def change_session(app, session_id: int, **values) -> None:
    with app.app_context():
        session = db.session.get(CalibrationSession, session_id)
        for name, value in values.items():
            setattr(session, name, value)
        db.session.commit()


def sees_votes(app, person, case_id: int) -> bool:
    with app.app_context():
        viewer = db.session.get(User, person.id)
        return policy.can(viewer, "votes.view", db.session.get(PromotionCase, case_id))


def test_a_manager_outside_the_session_sees_the_votes_once_it_is_locked(app, org, meeting):
    case_id = meeting.case_ids[org.pm_d1.id]
    ph.vote(app, meeting.session_id, case_id, org.manager_b, ph.all_meets())
    change_session(app, meeting.session_id, votes_revealed_at=utcnow())
    assert not sees_votes(app, org.director, case_id)  # revealed to the session's people only
    with app.app_context():
        assert packets.assemble(case_id, "committee").competencies[0].votes == ()

    change_session(app, meeting.session_id, locked_at=utcnow())

    assert sees_votes(app, org.director, case_id)
    with app.app_context():
        assert [v.voter for v in packets.assemble(case_id, "committee").competencies[0].votes] == [
            "Ben Manager"
        ]


def test_a_participant_who_did_not_vote_sees_the_votes_once_the_session_is_locked(
    app, org, meeting
):
    case_id = meeting.case_ids[org.pm_b1.id]  # Ada is in the session, not in Bea's line
    ph.vote(app, meeting.session_id, case_id, org.manager_b, ph.all_meets())
    assert not sees_votes(app, org.manager_a, case_id)

    change_session(app, meeting.session_id, locked_at=utcnow())

    assert sees_votes(app, org.manager_a, case_id)
    assert not sees_votes(app, org.pm_b1, case_id)  # never the candidate
    assert not sees_votes(app, org.pm_a2, case_id)  # nor anyone unrelated


def test_after_the_lock_whoever_has_the_packet_sees_its_votes_in_the_app(app, org, meeting):
    for case_id in meeting.case_ids.values():
        ph.vote(app, meeting.session_id, case_id, org.manager_a, ph.all_meets())
    change_session(app, meeting.session_id, locked_at=utcnow())
    with app.app_context():
        session = db.session.get(CalibrationSession, meeting.session_id)
        assert policy.packet_shows_votes(session)
        for person in org.__dict__.values():
            viewer = db.session.get(User, person.id)
            for case_id in meeting.case_ids.values():
                case = db.session.get(PromotionCase, case_id)
                if policy.can(viewer, "packet.committee", case):
                    assert policy.can(viewer, "votes.view", case), (person.name, case_id)


def test_reopening_the_session_makes_the_votes_blind_again(app, org, meeting):
    case_id = meeting.case_ids[org.pm_d1.id]
    ph.vote(app, meeting.session_id, case_id, org.manager_b, ph.all_meets())
    change_session(app, meeting.session_id, locked_at=utcnow())
    change_session(app, meeting.session_id, locked_at=None)
    assert not sees_votes(app, org.director, case_id)
    assert not sees_votes(app, org.manager_a, case_id)
    with app.app_context():
        assert not policy.packet_shows_votes(db.session.get(CalibrationSession, meeting.session_id))
