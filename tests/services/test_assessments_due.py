"""What a person has to assess now, as their home page lists it (assessments.due)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.models import CyclePhase, PromotionCase, Rating, RatingSource
from app.services.promotions import assessments
from tests.factories import sign_in
from tests.promotion_helpers import KEYS, cycle_with_cases, rate, set_phase, user
from tests.queries import count_queries


def due_for(app, person) -> list[tuple[int, RatingSource, int, int]]:
    with app.app_context():
        return [
            (item.case_id, item.source, item.done, item.total)
            for item in assessments.due(user(person))
        ]


def test_the_candidate_has_their_self_assessment_due_with_its_progress(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    case_id = cycle.case_ids[org.pm_a1.id]
    assert due_for(app, org.pm_a1) == [(case_id, RatingSource.SELF, 0, len(KEYS))]

    # Two rated and explained, one rated without a rationale: two count.
    rate(
        app,
        case_id,
        RatingSource.SELF,
        {KEYS[0]: Rating.MEETS, KEYS[1]: Rating.EXCEEDS},
        submit=False,
    )
    rate(app, case_id, RatingSource.SELF, {KEYS[2]: Rating.MEETS}, rationale="  ", submit=False)
    assert due_for(app, org.pm_a1) == [(case_id, RatingSource.SELF, 2, len(KEYS))]

    # Nobody else has it due: not the manager (their phase is next), not the head, not a peer.
    for person in (org.manager_a, org.head, org.pm_a2):
        assert due_for(app, person) == []


def test_submitted_withdrawn_and_closed_assessments_are_not_due(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    alice_case, bea_case = cycle.case_ids[org.pm_a1.id], cycle.case_ids[org.pm_b1.id]
    rate(app, alice_case, RatingSource.SELF, dict.fromkeys(KEYS, Rating.MEETS))
    with app.app_context():
        db.session.get(PromotionCase, bea_case).withdrawn_at = datetime.now(UTC)
        db.session.commit()
    assert due_for(app, org.pm_a1) == []
    assert due_for(app, org.pm_b1) == []

    set_phase(app, cycle.cycle_id, CyclePhase.CALIBRATION)
    assert due_for(app, org.manager_a) == []


def test_a_manager_has_their_reports_manager_assessments_due(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.MANAGER_ASSESSMENT)
    alice_case, bea_case = cycle.case_ids[org.pm_a1.id], cycle.case_ids[org.pm_b1.id]
    rate(app, alice_case, RatingSource.MANAGER, {KEYS[0]: Rating.MEETS}, submit=False)
    assert due_for(app, org.manager_a) == [(alice_case, RatingSource.MANAGER, 1, len(KEYS))]
    assert due_for(app, org.manager_b) == [(bea_case, RatingSource.MANAGER, 0, len(KEYS))]
    # The head may fill any manager assessment, but only their own reports' are due from them.
    assert due_for(app, org.head) == []
    assert due_for(app, org.pm_a1) == []


def test_the_home_page_lists_what_is_due_in_the_same_queries_for_one_case_or_two(app, org, client):
    cycle = cycle_with_cases(
        app, org, phase=CyclePhase.MANAGER_ASSESSMENT, candidates=("pm_a1", "pm_a2")
    )
    sign_in(client, org.manager_a)
    page = client.get("/").get_data(as_text=True)
    assert "To do</h2>" in page
    assert page.count('class="due-item todo-item') == 2
    assert f'href="/cases/{cycle.case_ids[org.pm_a1.id]}/manager-assessment"' in page
    two = count_queries(app, client, "/")

    with app.app_context():
        withdrawn = db.session.get(PromotionCase, cycle.case_ids[org.pm_a2.id])
        withdrawn.withdrawn_at = datetime.now(UTC)
        db.session.commit()
    assert client.get("/").get_data(as_text=True).count('class="due-item todo-item') == 1
    assert count_queries(app, client, "/") == two


def test_without_anything_due_the_home_page_has_no_due_panel(app, org, client):
    cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION)
    sign_in(client, org.pm_a1)
    assert "To do</h2>" not in client.get("/").get_data(as_text=True)
