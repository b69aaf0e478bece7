"""Growth-plan goals in promotion packets: only the committee view, only when the cycle says so;
the data version includes them, so the same inputs still give the same bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Goal, GoalStatus, PromotionCase, PromotionCycle, User
from app.models.base import utcnow
from app.services import goals as goal_service
from app.services import packets
from app.services.goals import cycles
from tests import packet_helpers
from tests.goal_helpers import agree, goal_input, link, move, propose


def _text(pdf: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


@pytest.fixture
def case(app, org):
    built = packet_helpers.realistic_case(app, org, items=6)
    done = propose(app, org.manager_a, org.pm_a1, change="Lead discovery", measure="GOALMEASURE")
    agree(app, org.pm_a1, done)
    move(app, org.pm_a1, done, GoalStatus.IN_PROGRESS)
    move(app, org.manager_a, done, GoalStatus.DONE, "GOALOUTCOME: 3 of 3 bets from interviews")
    dropped = propose(app, org.pm_a1, org.pm_a1, competency_key="skill-1-1", change="Pricing")
    agree(app, org.manager_a, dropped)
    move(app, org.pm_a1, dropped, GoalStatus.DROPPED, "GOALDROPPED: moved team")
    propose(app, org.pm_a1, org.pm_a1, competency_key="skill-2-0", change="UNAGREEDGOAL")
    with app.app_context():  # the committee decides once the plan stands: the packet's anchor
        db.session.get(PromotionCase, built.case_id).decided_at = utcnow()
        db.session.commit()
    return built


def _set(app, org, cycle_id: int, show: bool) -> None:
    with app.app_context():
        cycles.set_packets_show_goals(db.session.get(User, org.head.id), cycle_id, show)
        db.session.commit()


def test_off_no_view_shows_goals(app, org, case):
    with app.app_context():
        committee = packets.assemble(case.case_id, "committee")
        text = _text(packets.render(case.case_id, "committee"))
    assert committee.goals == () and not committee.shows_goals
    assert "GOALOUTCOME" not in text and "Growth plan" not in text


def test_on_the_committee_sees_agreed_goals_and_the_candidate_never(app, org, case):
    _set(app, org, case.cycle_id, True)
    with app.app_context():
        committee = packets.assemble(case.case_id, "committee")
        candidate = packets.assemble(case.case_id, "candidate")
        committee_pdf = packets.render(case.case_id, "committee")
        candidate_text = _text(packets.render(case.case_id, "candidate"))
        again = packets.render(case.case_id, "committee")
    assert [(g.competency, g.status) for g in committee.goals] == [
        ("Skill 0.0", "Done"),
        ("Skill 1.1", "Dropped"),
    ]
    text = _text(committee_pdf)
    for mark in ("Growth plan", "GOALMEASURE", "GOALOUTCOME", "GOALDROPPED", "Proposed"):
        assert mark in text
    assert "UNAGREEDGOAL" not in text  # not agreed: not part of the plan
    assert candidate.goals == () and "GOALOUTCOME" not in candidate_text
    assert "Growth plan" not in candidate_text
    assert again == committee_pdf  # the same inputs, the same bytes
    dump = os.environ.get("PACKET_DUMP")
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        Path(dump, "goals-committee.pdf").write_bytes(committee_pdf)


def test_the_data_version_follows_the_setting_and_the_goals(app, org, case):
    with app.app_context():
        off = packets.data_version(packets.assemble(case.case_id, "committee"))
    _set(app, org, case.cycle_id, True)
    with app.app_context():
        on = packets.data_version(packets.assemble(case.case_id, "committee"))
        assert packets.data_version(packets.assemble(case.case_id, "committee")) == on
        candidate = packets.data_version(packets.assemble(case.case_id, "candidate"))
    _set(app, org, case.cycle_id, False)
    with app.app_context():
        assert packets.data_version(packets.assemble(case.case_id, "committee")) == off
        assert packets.data_version(packets.assemble(case.case_id, "candidate")) == candidate
    assert on != off


def test_the_setting_is_the_heads_and_audited(app, org, case):
    _set(app, org, case.cycle_id, True)
    with app.app_context():
        assert db.session.get(PromotionCycle, case.cycle_id).packets_show_goals
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cycle.packets_show_goals")
        ).one()
        assert (event.before, event.after) == (
            {"packets_show_goals": False},
            {"packets_show_goals": True},
        )
        from app.core.errors import ForbiddenError

        with pytest.raises(ForbiddenError):
            cycles.set_packets_show_goals(
                db.session.get(User, org.manager_a.id), case.cycle_id, False
            )


def test_the_cycle_page_offers_the_setting_to_the_head(app, client, org, case):
    from tests.factories import sign_in

    sign_in(client, org.head)
    page = client.get(f"/promotions/{case.cycle_id}").get_data(as_text=True)
    assert "Committee packets show the candidate's growth-plan goals" in page
    response = client.post_form(
        f"/promotions/{case.cycle_id}/packet-goals", {"packets_show_goals": "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(PromotionCycle, case.cycle_id).packets_show_goals
    client.post_form("/logout")
    sign_in(client, org.manager_a)
    page = client.get(f"/promotions/{case.cycle_id}").get_data(as_text=True)
    assert "growth-plan goals" not in page
    assert client.post_form(f"/promotions/{case.cycle_id}/packet-goals", {}).status_code == 403


def test_a_decided_cases_packet_stays_as_it_was_when_the_plan_changes_later(app, org, case):
    _set(app, org, case.cycle_id, True)
    with app.app_context():
        before = packets.assemble(case.case_id, "committee")
        pdf = packets.render(case.case_id, "committee")
        done, dropped, unagreed = db.session.execute(
            select(Goal.id).where(Goal.person_id == org.pm_a1.id).order_by(Goal.id)
        ).scalars()
    assert "as recorded on" in _text(pdf)
    move(app, org.pm_a1, done, GoalStatus.IN_PROGRESS)
    link(app, org.pm_a1, done, case.evidence_ids[0])
    move(app, org.pm_a1, dropped, GoalStatus.IN_PROGRESS)
    link(app, org.pm_a1, dropped, case.evidence_ids[1])
    agree(app, org.manager_a, unagreed)
    with app.app_context():
        goal = db.session.get(Goal, done)
        goal_service.update_goal(
            db.session.get(User, org.manager_a.id),
            goal,
            goal_input(change="REWRITTENLATER"),
            expected_revision=goal.revision,
        )
        db.session.commit()
        after = packets.assemble(case.case_id, "committee")
        assert packets.render(case.case_id, "committee") == pdf
    assert after == before
    assert [(g.competency, g.status) for g in after.goals] == [
        ("Skill 0.0", "Done"),
        ("Skill 1.1", "Dropped"),
    ]
