"""The self-assessment and manager assessment pages, and the case page's assessments panel."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import render_template_string
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, policy
from app.extensions import db
from app.models import CaseRating, CyclePhase, Evidence, PromotionCase, RatingSource, Visibility
from app.services.promotions import assessments, loading
from tests import evidence_helpers
from tests.factories import sign_in
from tests.promotion_helpers import (
    KEYS,
    all_meets,
    cycle_with_cases,
    make_session,
    rate,
    set_phase,
)
from tests.queries import count_queries

REVISION = re.compile(r'name="revision" type="hidden" value="(\d+)"')


@pytest.fixture
def cycle(app, org):
    return cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)


@pytest.fixture
def case_id(cycle, org):
    return cycle.case_ids[org.pm_a1.id]


def self_url(case_id: int) -> str:
    return f"/cases/{case_id}/self-assessment"


def manager_url(case_id: int) -> str:
    return f"/cases/{case_id}/manager-assessment"


def revision_of(page: str) -> str:
    found = REVISION.search(page)
    assert found, "no revision in the form"
    return found.group(1)


def filled(
    page: str, *, action="draft", rating="meets", rationale="Shown in the Q2 launch.", **extra
):
    data = {"revision": revision_of(page), "statement": "My statement.", "action": action}
    for key in KEYS:
        data[f"c_{key}-rating"] = rating
        data[f"c_{key}-rationale"] = rationale
    data.update(extra)
    return data


def stored(app, case_id, source=RatingSource.SELF) -> dict:
    with app.app_context():
        rows = db.session.scalars(
            select(CaseRating).where(CaseRating.case_id == case_id, CaseRating.source == source)
        )
        return {row.competency_key: (row.rating, row.rationale) for row in rows}


def link(app, case_id, source, evidence_ids) -> None:
    """Link every rating of `source` to these items (rows written directly, as in a save)."""
    with app.app_context():
        rows = db.session.scalars(
            select(CaseRating)
            .where(CaseRating.case_id == case_id, CaseRating.source == source)
            .options(selectinload(CaseRating.evidence))
        )
        for row in rows:
            row.evidence = [db.session.get(Evidence, i) for i in evidence_ids]
        db.session.commit()


def test_the_self_assessment_form_shows_each_competency_with_its_expectation_and_evidence(
    app, client, org, case_id
):
    item = evidence_helpers.record(app, org.pm_a1, title="Launched CSV import")
    evidence_helpers.record(app, org.pm_a1, title="Secret draft", visibility=Visibility.PRIVATE)
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    assert page.count('class="group assessment-competency"') == len(KEYS)
    assert "<legend>Skill 0.0</legend>" in page
    assert "Does skill 0.0 at L2." in page
    for label in ("Below", "Developing", "Meets", "Exceeds"):
        assert f">{label}</label>" in page
    assert 'name="c_skill-0-0-rating" id="c_skill-0-0-rating-2" value="meets"' in page
    assert "<summary" in page and "Launched CSV import" in page
    assert f'href="/evidence/{item}"' in page
    assert "Secret draft" not in page  # private drafts are never offered
    assert 'value="draft"' in page and 'value="submit"' in page


def test_a_draft_is_kept_and_shown_again(app, client, org, case_id):
    item = evidence_helpers.record(app, org.pm_a1, title="Launched CSV import")
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    data = {
        "revision": revision_of(page),
        "statement": "I *led* discovery.",
        "action": "draft",
        "c_skill-0-0-rating": "developing",
        "c_skill-0-0-rationale": "Growing into it.",
        "c_skill-0-0-evidence": str(item),
    }
    response = client.post_form(self_url(case_id), data)
    assert response.status_code == 302
    assert stored(app, case_id) == {"skill-0-0": ("developing", "Growing into it.")}
    page = client.get(self_url(case_id)).get_data(as_text=True)
    assert "Draft saved" in page
    assert 'value="developing" aria-describedby="c_skill-0-0-rating-1-hint" checked' in page
    checkbox = f"c_skill-0-0-evidence-{item}"
    assert f'id="{checkbox}" aria-describedby="{checkbox}-hint" checked' in page
    assert "I *led* discovery." in page


def test_submitting_with_gaps_names_them_and_stores_nothing(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    data = filled(page, action="submit")
    data["c_skill-0-1-rating"] = ""
    data["c_skill-1-1-rationale"] = " "
    response = client.post_form(self_url(case_id), data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Skill 0.1 (a rating)" in text and "Skill 1.1 (a rationale)" in text
    assert 'href="#c_skill-0-1-rating"' in text  # the summary jumps to the field
    assert "Shown in the Q2 launch." in text  # what was typed is still there
    assert stored(app, case_id) == {}


def test_once_submitted_the_self_assessment_is_read_only(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    assert client.post_form(self_url(case_id), filled(page, action="submit")).status_code == 302
    assert stored(app, case_id) == dict.fromkeys(KEYS, ("meets", "Shown in the Q2 launch."))
    page = client.get(self_url(case_id)).get_data(as_text=True)
    assert "Self-assessment submitted" in page
    assert '<form method="post" novalidate' not in page and 'value="submit"' not in page
    assert "Submitted on" in page and "Shown in the Q2 launch." in page
    data = {"revision": "99", "action": "draft", "c_skill-0-0-rating": "below"}
    response = client.post_form(self_url(case_id), data)
    assert response.status_code == 400
    assert "was submitted on" in response.get_data(as_text=True)
    assert set(stored(app, case_id).values()) == {("meets", "Shown in the Q2 launch.")}


def test_outside_its_phase_the_form_is_read_only_and_a_post_says_why(
    app, client, org, cycle, case_id
):
    set_phase(app, cycle.cycle_id, CyclePhase.NOMINATIONS)
    sign_in(client, org.pm_a1)
    response = client.get(self_url(case_id))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Self-assessment is open during self-assessment" in page
    assert 'value="submit"' not in page
    response = client.post_form(self_url(case_id), {"revision": "1", "action": "draft"})
    assert response.status_code == 400
    assert "Self-assessment is open during self-assessment" in response.get_data(as_text=True)
    assert stored(app, case_id) == {}


@pytest.mark.parametrize(
    ("who", "url", "phase"),
    [
        ("pm_b1", self_url, CyclePhase.SELF_ASSESSMENT),
        ("manager_b", self_url, CyclePhase.SELF_ASSESSMENT),
        ("manager_a", self_url, CyclePhase.SELF_ASSESSMENT),  # the manager, before their own
        ("pm_a1", manager_url, CyclePhase.MANAGER_ASSESSMENT),  # the candidate
        ("manager_b", manager_url, CyclePhase.MANAGER_ASSESSMENT),
        ("pm_a2", manager_url, CyclePhase.MANAGER_ASSESSMENT),
    ],
)
def test_the_wrong_person_gets_not_found(app, client, org, cycle, case_id, who, url, phase):
    set_phase(app, cycle.cycle_id, phase)
    sign_in(client, getattr(org, who))
    assert client.get(url(case_id)).status_code == 404
    response = client.post_form(url(case_id), {"revision": "1", "action": "draft"})
    assert response.status_code == 404
    assert stored(app, case_id) == {} and stored(app, case_id, RatingSource.MANAGER) == {}


def test_a_missing_case_is_not_found(client, org):
    sign_in(client, org.pm_a1)
    assert client.get(self_url(424242)).status_code == 404


def test_linking_someone_elses_evidence_is_refused(app, client, org, case_id):
    other = evidence_helpers.record(app, org.pm_b1, title="Bea's launch")
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    data = filled(page) | {"c_skill-1-0-evidence": str(other)}
    response = client.post_form(self_url(case_id), data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"Skill 1.0: evidence item {other} cannot be linked" in text
    assert "Bea&#39;s launch" not in text and "Bea's launch" not in text
    assert stored(app, case_id) == {}


def test_an_unknown_rating_value_is_refused(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    response = client.post_form(self_url(case_id), filled(page, rating="stellar"))
    assert response.status_code == 400
    assert "“stellar” is not on the scale" in response.get_data(as_text=True)
    assert stored(app, case_id) == {}


def test_a_form_without_csrf_is_refused(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    page = client.get(self_url(case_id)).get_data(as_text=True)
    assert client.post(self_url(case_id), data=filled(page)).status_code == 400
    assert stored(app, case_id) == {}


def test_saving_over_a_newer_save_is_a_conflict_showing_both(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    old_page = client.get(self_url(case_id)).get_data(as_text=True)
    first = filled(old_page, rationale="Typed on the laptop.")
    assert client.post_form(self_url(case_id), first).status_code == 302
    second = filled(old_page, rating="exceeds", rationale="Typed on the phone.")
    response = client.post_form(self_url(case_id), second)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Typed on the laptop." in text and "Typed on the phone." in text
    assert set(stored(app, case_id).values()) == {("meets", "Typed on the laptop.")}
    # The form now carries the current revision: saving again replaces theirs, knowingly.
    again = second | {"revision": revision_of(text)}
    assert client.post_form(self_url(case_id), again).status_code == 302
    assert set(stored(app, case_id).values()) == {("exceeds", "Typed on the phone.")}


def test_the_manager_sees_the_self_assessment_only_after_submitting_their_own(
    app, client, org, cycle, case_id
):
    rate(app, case_id, RatingSource.SELF, all_meets(), rationale="SELF-SECRET rationale")
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    sign_in(client, org.manager_a)
    assert client.get(self_url(case_id)).status_code == 404
    page = client.get(manager_url(case_id)).get_data(as_text=True)
    assert "SELF-SECRET" not in page
    assert "Nomination statement" in page and "Ready: leads discovery" in page
    data = filled(page, action="submit", rationale="Manager view.")
    data["statement"] = "Ready: leads **discovery** for the group."
    assert client.post_form(manager_url(case_id), data).status_code == 302
    response = client.get(self_url(case_id))
    assert response.status_code == 200
    assert "SELF-SECRET rationale" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PromotionCase, case_id).statement.startswith("Ready: leads **")


def test_the_head_of_product_reads_the_manager_assessment_but_the_candidate_never_does(
    app, client, org, cycle, case_id
):
    rate(app, case_id, RatingSource.MANAGER, all_meets(), rationale="MANAGER-ONLY")
    set_phase(app, cycle.cycle_id, CyclePhase.PUBLISHED)
    sign_in(client, org.pm_a1)
    assert client.get(manager_url(case_id)).status_code == 404
    client.post_form("/logout")
    sign_in(client, org.head)
    page = client.get(manager_url(case_id)).get_data(as_text=True)
    assert "MANAGER-ONLY" in page and 'value="submit"' not in page


def test_the_form_page_reads_in_a_fixed_number_of_queries(app, client, org, cycle, case_id):
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    sign_in(client, org.manager_a)
    evidence_helpers.record(app, org.pm_a1, title="First")
    few = count_queries(app, client, manager_url(case_id))
    for n in range(10):
        evidence_helpers.record(app, org.pm_a1, title=f"Item {n}", occurred_on=date(2026, 2, n + 1))
    assert count_queries(app, client, manager_url(case_id)) == few


# --- the case page's panel ------------------------------------------------------------------


@pytest.fixture
def panel_app(make_app):
    """An app with a page that includes only the panel, as the case page does."""
    other = make_app()

    @other.route("/test/cases/<int:case_id>/panel")
    @access.requires("case.view")
    def panel_page(case_id):
        case = loading.case(case_id)
        policy.authorize(current_user, "case.view", case)
        return render_template_string(
            '{% extends "base.html" %}{% block content %}'
            '{% include "assessments/_case_panel.html" %}{% endblock %}',
            case=case,
            panel=assessments.panel(current_user, case),
        )

    return other


def panel(panel_app, person, case_id) -> str:
    client = panel_app.test_client()
    sign_in(client, person)
    response = client.get(f"/test/cases/{case_id}/panel")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_panel_shows_each_viewer_what_they_may_see(app, panel_app, org, cycle, case_id):
    item = evidence_helpers.record(app, org.pm_a1, title="Launched CSV import")
    rate(app, case_id, RatingSource.SELF, all_meets(), rationale="SELF-WORDS")
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    manager_view = panel(panel_app, org.manager_a, case_id)
    assert "SELF-WORDS" not in manager_view
    assert "Shown once the manager assessment is in" in manager_view
    assert "Start the manager assessment" in manager_view

    link(app, case_id, RatingSource.SELF, [item])
    rate(app, case_id, RatingSource.MANAGER, all_meets(), rationale="MANAGER-WORDS")

    candidate_view = panel(panel_app, org.pm_a1, case_id)
    assert "SELF-WORDS" in candidate_view and "MANAGER-WORDS" not in candidate_view
    assert "Manager assessment" not in candidate_view
    assert f'href="/evidence/{item}"' in candidate_view

    manager_view = panel(panel_app, org.manager_a, case_id)
    assert "SELF-WORDS" in manager_view and "MANAGER-WORDS" in manager_view
    assert "Launched CSV import" in manager_view
    assert f'href="/evidence/{item}"' in manager_view  # the manager may open it

    # A session participant from another team sees the title, date and kind, but no link.
    make_session(
        app, cycle.cycle_id, facilitator=org.head, participants=[org.manager_b], case_ids=[case_id]
    )
    outsider_view = panel(panel_app, org.manager_b, case_id)
    assert "Launched CSV import" in outsider_view
    assert f'href="/evidence/{item}"' not in outsider_view


def test_the_panel_reads_in_a_fixed_number_of_queries(app, panel_app, org, cycle, case_id):
    client = panel_app.test_client()
    sign_in(client, org.manager_a)
    rate(app, case_id, RatingSource.MANAGER, all_meets())
    url = f"/test/cases/{case_id}/panel"
    items = [evidence_helpers.record(app, org.pm_a1, title=f"Item {n}") for n in range(8)]
    link(app, case_id, RatingSource.MANAGER, items[:1])
    few = count_queries(panel_app, client, url)
    link(app, case_id, RatingSource.MANAGER, items)
    assert count_queries(panel_app, client, url) == few
