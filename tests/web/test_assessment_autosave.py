"""The assessment form's autosave: the same service as Save draft, answered as JSON, and no
work lost — a stale save is refused and keeps what is stored, bad input is named, and only the
person who may fill the assessment in, while it is open, saves anything."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from app.extensions import db
from app.models import CyclePhase, PromotionCase, RatingSource
from tests import evidence_helpers
from tests.factories import sign_in
from tests.promotion_helpers import KEYS, cycle_with_cases, set_phase
from tests.queries import count_queries
from tests.web.test_assessments import (
    filled,
    manager_url,
    revision_of,
    self_url,
    stored,
)


@pytest.fixture
def cycle(app, org):
    return cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)


@pytest.fixture
def case_id(cycle, org):
    return cycle.case_ids[org.pm_a1.id]


def autosave_url(case_id: int, source: RatingSource = RatingSource.SELF) -> str:
    return (self_url if source is RatingSource.SELF else manager_url)(case_id) + "/autosave"


def opened(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def as_sent(page: str, **changes) -> dict:
    """What the form's script sends: every field of the form, no action button."""
    data = filled(page, rationale="Typed, never saved by hand.", **changes)
    data.pop("action")
    return data


def test_an_autosave_stores_the_draft_and_answers_the_new_revision(app, client, org, case_id):
    item = evidence_helpers.record(app, org.pm_a1, title="Launched CSV import")
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    data = as_sent(page, **{"c_skill-0-0-evidence": str(item), "c_skill-1-1-rating": ""})
    response = client.post_form(autosave_url(case_id), data)
    assert response.status_code == 200
    answer = response.get_json()
    assert re.fullmatch(r"All changes saved at \d\d:\d\d UTC\.", answer["message"])
    assert datetime.fromisoformat(answer["saved_at"]).utcoffset() == timedelta(0)
    rows = stored(app, case_id)
    assert rows["skill-0-0"] == ("meets", "Typed, never saved by hand.")
    assert rows["skill-1-1"] == (None, "Typed, never saved by hand.")
    with app.app_context():
        assert db.session.get(PromotionCase, case_id).self_submitted_at is None  # a draft
    # The form, opened again, carries the revision the autosave answered: the script puts it
    # in the hidden field, so the person's own Save draft after an autosave is no conflict.
    page = opened(client, self_url(case_id))
    assert revision_of(page) == str(answer["revision"])
    assert "Typed, never saved by hand." in page
    again = filled(page, rationale="Then saved by hand.") | {"revision": str(answer["revision"])}
    assert client.post_form(self_url(case_id), again).status_code == 302
    assert stored(app, case_id)["skill-0-0"] == ("meets", "Then saved by hand.")


def test_successive_autosaves_chain_their_revisions(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    data = as_sent(opened(client, self_url(case_id)))
    for words in ("One.", "One, two.", "One, two, three."):
        data["c_skill-0-0-rationale"] = words
        response = client.post_form(autosave_url(case_id), data)
        assert response.status_code == 200, response.get_json()
        data["revision"] = str(response.get_json()["revision"])
    assert stored(app, case_id)["skill-0-0"] == ("meets", "One, two, three.")


def test_an_autosave_never_submits(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    data = as_sent(opened(client, self_url(case_id))) | {"action": "submit"}
    assert client.post_form(autosave_url(case_id), data).status_code == 200
    with app.app_context():
        assert db.session.get(PromotionCase, case_id).self_submitted_at is None


def test_a_stale_autosave_is_a_conflict_that_keeps_what_is_stored(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    old_page = opened(client, self_url(case_id))
    laptop = filled(old_page, rationale="Saved on the laptop.")
    assert client.post_form(self_url(case_id), laptop).status_code == 302
    response = client.post_form(
        autosave_url(case_id), as_sent(old_page, rating="exceeds")
    )  # from the phone's tab, opened before
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["conflict"] is True
    assert "saved in another window or by someone else" in answer["error"]
    assert set(stored(app, case_id).values()) == {("meets", "Saved on the laptop.")}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"c_skill-1-0-rating": "stellar"}, "Skill 1.0: “stellar” is not on the scale"),
        ({"c_skill-0-1-rationale": "x" * 1_001}, "Skill 0.1: keep the rationale to 1,000"),
        ({"c_skill-0-0-evidence": "12; drop"}, "Skill 0.0: “12; drop” is not an evidence item"),
        ({"c_made-up-rating": "meets"}, "has no competency made-up"),
        ({"statement": "x" * 20_001}, "keep it to 20,000"),
        # Refused for every request before any view reads it, answered as JSON here too.
        ({"c_skill-0-0-rationale": "a\x00b"}, "“c_skill-0-0-rationale” contains a control"),
        ({"statement": "bell\x07"}, "“statement” contains a control character"),
        ({"statement": "x" * 1_000_000}, "“statement” is far too long"),
    ],
)
def test_bad_input_is_refused_naming_the_competency_and_stores_nothing(
    app, client, org, case_id, change, message
):
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    assert client.post_form(autosave_url(case_id), as_sent(page)).status_code == 200
    before = stored(app, case_id)
    response = client.post_form(
        autosave_url(case_id), as_sent(page) | change, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert stored(app, case_id) == before


def test_a_submitted_assessment_is_not_autosaved(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    assert client.post_form(self_url(case_id), filled(page, action="submit")).status_code == 302
    response = client.post_form(autosave_url(case_id), as_sent(page, rating="below"))
    assert response.status_code == 400
    assert "was submitted on" in response.get_json()["error"]
    assert set(stored(app, case_id).values()) == {("meets", "Shown in the Q2 launch.")}


def test_a_closed_phase_is_not_autosaved(app, client, org, cycle, case_id):
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    response = client.post_form(autosave_url(case_id), as_sent(page))
    assert response.status_code == 400
    assert "Self-assessment is open during self-assessment" in response.get_json()["error"]
    assert stored(app, case_id) == {}


@pytest.mark.parametrize(
    ("who", "source", "phase"),
    [
        ("pm_b1", RatingSource.SELF, CyclePhase.SELF_ASSESSMENT),
        ("manager_a", RatingSource.SELF, CyclePhase.SELF_ASSESSMENT),  # the candidate's own
        ("pm_a1", RatingSource.MANAGER, CyclePhase.MANAGER_ASSESSMENT),  # the candidate
        ("manager_b", RatingSource.MANAGER, CyclePhase.MANAGER_ASSESSMENT),
    ],
)
def test_people_who_may_not_fill_it_in_save_nothing(
    app, client, org, cycle, case_id, who, source, phase
):
    set_phase(app, cycle.cycle_id, phase)
    sign_in(client, getattr(org, who))
    data = {"revision": "1", "c_skill-0-0-rating": "below", "c_skill-0-0-rationale": "Mine now."}
    response = client.post_form(
        autosave_url(case_id, source), data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not found."}  # the script says so in words
    assert stored(app, case_id) == {} and stored(app, case_id, RatingSource.MANAGER) == {}


def test_an_autosave_without_the_csrf_token_is_refused(app, client, org, case_id):
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    data = as_sent(page)
    data.pop("csrf_token", None)
    assert client.post(autosave_url(case_id), data=data).status_code == 400
    assert stored(app, case_id) == {}


def test_the_manager_autosaves_their_own_assessment(app, client, org, cycle, case_id):
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    sign_in(client, org.manager_a)
    page = opened(client, manager_url(case_id))
    response = client.post_form(autosave_url(case_id, RatingSource.MANAGER), as_sent(page))
    assert response.status_code == 200
    assert stored(app, case_id, RatingSource.MANAGER) == dict.fromkeys(
        KEYS, ("meets", "Typed, never saved by hand.")
    )
    assert stored(app, case_id) == {}


# --- the page around it ---------------------------------------------------------------------


def test_the_form_has_section_links_with_progress_and_a_filterable_evidence_list(
    app, client, org, case_id
):
    for n in range(5):
        evidence_helpers.record(
            app, org.pm_a1, title=f"Launch {n}", competency_keys=["skill-0-0", "skill-1-1"]
        )
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    data = filled(page) | {"c_skill-0-1-rationale": ""}
    assert client.post_form(self_url(case_id), data).status_code == 302
    page = opened(client, self_url(case_id))
    start = page.index('aria-label="Sections of this form"')
    nav = page[start : page.index("</nav>", start)]
    assert 'href="#area-1"' in nav and 'href="#area-2"' in nav
    assert re.search(r"Area 0</span> .*?<span data-area-done>1</span> of 2", nav)
    assert re.search(r"Area 1</span> .*?<span data-area-done>2</span> of 2", nav)
    assert nav.count("rated and explained") == 2
    assert '<section class="assessment-area" id="area-1"' in page
    assert "<span data-progress-done>3</span> of 4 competencies rated and explained" in page
    assert 'data-autosave-url="/cases/' in page and "js/assessment.js" in page
    assert 'role="status" aria-live="polite" hidden' in page  # shown by the script only
    # Each item says when, what and what it is tagged with; a filter box (shown by the script).
    assert "Tagged Skill 0.0, Skill 1.1" in page
    assert page.count('<div class="evidence-filter" hidden>') == 2  # skill-0-0 and skill-1-1
    assert "Evidence for Skill 0.0: <span data-linked-count>0</span> of 5 shared items" in page


def test_the_form_reads_in_a_fixed_number_of_queries_with_tagged_items(
    app, client, org, cycle, case_id
):
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    sign_in(client, org.manager_a)
    evidence_helpers.record(app, org.pm_a1, title="First", competency_keys=KEYS)
    few = count_queries(app, client, manager_url(case_id))
    for n in range(12):
        evidence_helpers.record(
            app,
            org.pm_a1,
            title=f"Item {n}",
            occurred_on=date(2026, 2, n + 1),
            competency_keys=KEYS[n % 3 :],
        )
    assert count_queries(app, client, manager_url(case_id)) == few


def test_signed_out_the_script_is_told_so_and_a_page_still_goes_to_sign_in(
    app, client, org, case_id
):
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    data = as_sent(page)
    assert client.post_form("/logout").status_code == 302
    response = client.post_form(autosave_url(case_id), data, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "You were signed out.", "signed_out": True}
    assert stored(app, case_id) == {}
    # A person's browser asking for the page is sent to sign in, as before.
    assert client.get(self_url(case_id)).headers["Location"].startswith("/login")


def test_a_refused_submit_says_not_submitted_and_names_each_competency_once(
    app, client, org, case_id
):
    sign_in(client, org.pm_a1)
    page = opened(client, self_url(case_id))
    data = filled(page, action="submit", **{"c_skill-0-0-rationale": "x" * 1_001})
    answer = client.post_form(self_url(case_id), data)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "<h2>Not submitted yet: fix this first</h2>" in html
    assert "Skill 0.0 rationale: Skill 0.0:" not in html
    assert re.search(r'<a href="#[^"]+">Skill 0\.0: keep the rationale to 1,000', html)
    assert 'maxlength="1000"' not in html  # a pasted text is never cut silently
    assert stored(app, case_id) == {}


def test_two_writes_to_the_case_at_once_answer_retry_and_store_nothing(
    app, client, org, case_id, monkeypatch
):
    """Not a conflict of content (nothing to show the person): the script sends it again."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.services.promotions import assessments

    def at_the_same_moment(*_args, **_kwargs):
        raise StaleDataError("UPDATE promotion_cases expected 1 row, matched 0")

    sign_in(client, org.pm_a1)
    data = as_sent(opened(client, self_url(case_id)))
    monkeypatch.setattr(assessments, "save", at_the_same_moment)
    response = client.post_form(autosave_url(case_id), data)
    assert response.status_code == 409
    assert response.get_json()["retry"] is True
    assert "conflict" not in response.get_json()
    assert stored(app, case_id) == {}
