"""Promotion cycles through HTTP: who reaches which page, the forms with their errors and
conflicts, what a candidate sees before and after publishing, notifications and query counts."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    FrameworkVersion,
    Notification,
    NotificationKind,
    Outcome,
    PromotionCase,
    PromotionCycle,
    RatingSource,
    User,
)
from app.models.base import utcnow
from tests import promotion_helpers as ph
from tests.factories import sign_in
from tests.queries import count_queries


def text(response) -> str:
    """The page's text without tags, spaces collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def switch(client, person) -> None:
    """Sign out, then in as someone else."""
    client.post_form("/logout")
    sign_in(client, person)


def revision(app, cycle_id: int) -> int:
    with app.app_context():
        return db.session.get(PromotionCycle, cycle_id).revision


def case_row(app, case_id: int) -> PromotionCase:
    with app.app_context():
        case = db.session.get(PromotionCase, case_id)
        db.session.expunge(case)
        return case


def settle(app, case_ids, *, outcome=Outcome.PROMOTE, decision=None) -> None:
    with app.app_context():
        for case_id in case_ids:
            case = db.session.get(PromotionCase, case_id)
            case.outcome, case.outcome_rationale = outcome, "Agreed."
            case.decision = decision
            if case.session_id:
                db.session.get(CalibrationSession, case.session_id).locked_at = utcnow()
        db.session.commit()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- who reaches which page ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "page", "status"),
    [
        ("head", "index", 200),
        ("pm_a1", "index", 200),
        ("manager_b", "index", 200),
        ("head", "new", 200),
        ("manager_a", "new", 403),
        ("pm_a1", "new", 403),
        ("pm_a2", "cycle", 200),
        ("manager_a", "nominate", 200),
        ("pm_a2", "nominate", 403),
        ("pm_a1", "case", 200),  # the candidate
        ("manager_a", "case", 200),  # their manager
        ("head", "case", 200),
        ("manager_b", "case", 404),  # another line, not in a session with the case
        ("pm_a2", "case", 404),  # a colleague
        ("director", "case", 404),  # a manager below the candidate's manager
        ("manager_a", "missing_case", 404),
        ("head", "missing_cycle", 404),
    ],
)
def test_who_reaches_which_page(app, org, client, who, page, status):
    data = ph.cycle_with_cases(app, org, candidates=("pm_a1",))
    case_id = data.case_ids[org.pm_a1.id]
    urls = {
        "index": "/promotions",
        "new": "/promotions/new",
        "cycle": f"/promotions/{data.cycle_id}",
        "nominate": f"/promotions/{data.cycle_id}/nominate",
        "case": f"/cases/{case_id}",
        "missing_case": "/cases/999",
        "missing_cycle": "/promotions/999",
    }
    sign_in(client, getattr(org, who))
    assert client.get(urls[page]).status_code == status


def test_every_signed_in_person_has_the_promotions_link(app, org, client):
    sign_in(client, org.pm_a1)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/promotions"' in page and ">Promotions</a>" in page


def test_empty_states(app, org, client):
    ph.publish_sample(app)
    sign_in(client, org.manager_a)
    page = text(client.get("/promotions"))
    assert "No promotion cycle yet. The head of product opens one" in page
    assert "No cases yet." in page
    assert "Open a cycle" not in page


# --- opening a cycle ----------------------------------------------------------------------------


def test_the_head_opens_a_cycle_from_the_form(app, org, client):
    ph.publish_sample(app)
    sign_in(client, org.head)
    form = client.get("/promotions/new").get_data(as_text=True)
    version_ids = re.findall(r'name="version_ids" value="(\d+)"[^>]*checked', form)
    assert version_ids  # every published version offered, checked by default
    response = client.post_form("/promotions/new", {"name": "H1 2027", "version_ids": version_ids})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "H1 2027" in page and "Phase: Nominations" in page
    assert "Nominate" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "H1 2027"}, "Choose at least one career path."),
        ({"name": "", "version_ids": "VERSION"}, "Give the cycle a name"),
        ({"name": "x" * 121, "version_ids": "VERSION"}, "Use at most 120 characters."),
        ({"name": "h1 2027", "version_ids": "VERSION"}, "There is already a cycle called"),
        ({"name": "H2 2027", "version_ids": "999"}, "published framework versions only"),
    ],
)
def test_a_bad_cycle_form_says_why_and_opens_nothing(app, org, client, data, message):
    ph.publish_sample(app)
    ph.make_cycle(app, name="H1 2027")
    with app.app_context():
        version_id = db.session.scalar(select(FrameworkVersion.id))
    data = {k: str(version_id) if v == "VERSION" else v for k, v in data.items()}
    sign_in(client, org.head)
    response = client.post_form("/promotions/new", data)
    assert response.status_code == 400
    assert message in text(response)
    assert count(app, PromotionCycle) == 1


# --- phases -------------------------------------------------------------------------------------


def test_the_head_moves_a_cycle_forward_and_back_with_a_reason(app, org, client):
    data = ph.cycle_with_cases(app, org)
    sign_in(client, org.head)
    url = f"/promotions/{data.cycle_id}/phase"
    page = text(client.get(f"/promotions/{data.cycle_id}"))
    for label in ("Nominations", "Self-assessment", "Manager assessment", "Calibration"):
        assert label in page
    assert "Decisions" in page and "Published" in page
    response = client.post_form(
        url, {"to_phase": "self_assessment", "revision": revision(app, data.cycle_id)}
    )
    assert response.status_code == 302
    assert "is now in self-assessment" in text(client.get(response.headers["Location"]))
    refused = client.post_form(
        url, {"to_phase": "nominations", "revision": revision(app, data.cycle_id), "reason": ""}
    )
    assert refused.status_code == 400
    assert "Going back to an earlier phase needs a reason" in text(refused)
    back = client.post_form(
        url,
        {
            "to_phase": "nominations",
            "revision": revision(app, data.cycle_id),
            "reason": "Ben's team was left out.",
        },
    )
    assert back.status_code == 302
    with app.app_context():
        assert db.session.get(PromotionCycle, data.cycle_id).phase is CyclePhase.NOMINATIONS


def test_a_blocked_move_names_who_holds_it_up(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.MANAGER_ASSESSMENT)
    ph.rate(app, data.case_ids[org.pm_a1.id], RatingSource.MANAGER, ph.all_meets())
    sign_in(client, org.head)
    page = text(client.get(f"/promotions/{data.cycle_id}"))
    assert "Before moving on: Every manager assessment must be submitted" in page
    response = client.post_form(
        f"/promotions/{data.cycle_id}/phase",
        {"to_phase": "calibration", "revision": revision(app, data.cycle_id)},
    )
    assert response.status_code == 400
    assert "Still missing for: Bea Pm (manager: Ben Manager)." in text(response)
    with app.app_context():
        assert db.session.get(PromotionCycle, data.cycle_id).phase is CyclePhase.MANAGER_ASSESSMENT


def test_a_stale_phase_form_is_a_conflict_showing_the_phase_now(app, org, client):
    data = ph.cycle_with_cases(app, org)
    stale = revision(app, data.cycle_id)
    ph.set_phase(app, data.cycle_id, CyclePhase.SELF_ASSESSMENT)
    sign_in(client, org.head)
    response = client.post_form(
        f"/promotions/{data.cycle_id}/phase", {"to_phase": "self_assessment", "revision": stale}
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone moved H1 2027" in page and "Phase now: Self-assessment" in page


def test_only_the_head_moves_phases(app, org, client):
    data = ph.cycle_with_cases(app, org)
    sign_in(client, org.manager_a)
    response = client.post_form(
        f"/promotions/{data.cycle_id}/phase",
        {"to_phase": "self_assessment", "revision": revision(app, data.cycle_id)},
    )
    assert response.status_code == 403
    assert "Move to self-assessment" not in text(client.get(f"/promotions/{data.cycle_id}"))


# --- nominating ---------------------------------------------------------------------------------


def test_a_manager_nominates_a_report_through_the_form(app, org, client):
    data = ph.cycle_with_cases(app, org, candidates=())
    sign_in(client, org.manager_a)
    form = text(client.get(f"/promotions/{data.cycle_id}/nominate"))
    assert "Alice Pm — now L1 · Level 1" in form and "Bea Pm" not in form
    response = client.post_form(
        f"/promotions/{data.cycle_id}/nominate",
        {
            "candidate_id": org.pm_a1.id,
            "proposed_level_id": data.level_ids["L2"],
            "statement": "Leads discovery for **the whole group**.",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>the whole group</strong>" in page  # the statement, as markdown
    assert "L1 · Level 1" in page and "L2 · Level 2" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("statement", "x" * 10_001, "Use at most 10,000 characters."),
        ("statement", "", "Write the manager statement: why Alice Pm is ready for L2."),
        ("proposed_level_id", "L1", "Propose a level above Alice Pm's current level"),
        ("proposed_level_id", "999", "Choose a level of the career paths H1 2027 uses."),
        ("candidate_id", "999", "Choose the person to nominate."),
        ("candidate_id", "BEA", "You can nominate only people who report to you."),
    ],
)
def test_bad_nominations_say_why_and_change_nothing(app, org, client, field, value, message):
    data = ph.cycle_with_cases(app, org, candidates=())
    values = {
        "candidate_id": org.pm_a1.id,
        "proposed_level_id": data.level_ids["L2"],
        "statement": "Ready.",
    }
    values[field] = {"L1": data.level_ids["L1"], "BEA": org.pm_b1.id}.get(value, value)
    sign_in(client, org.manager_a)
    response = client.post_form(f"/promotions/{data.cycle_id}/nominate", values)
    assert response.status_code == 400
    assert message in text(response)
    assert count(app, PromotionCase) == 0


def test_nominations_closed_sends_back_to_the_cycle(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    sign_in(client, org.manager_a)
    response = client.get(f"/promotions/{data.cycle_id}/nominate", follow_redirects=True)
    assert "Nominations are closed: H1 2027 is in self-assessment." in text(response)


# --- the case page ------------------------------------------------------------------------------


def test_the_candidate_sees_the_phase_and_what_to_do_never_the_outcome(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    settle(app, [case_id], decision=Outcome.PROMOTE)
    sign_in(client, org.pm_a1)
    page = text(client.get(f"/cases/{case_id}"))
    assert "The head of product is recording the decisions" in page
    assert "Promote" not in page and "Manager statement" not in page
    assert "leads discovery" not in page.lower()
    cycle_page = text(client.get(f"/promotions/{data.cycle_id}"))
    assert "Promote" not in cycle_page and "Bea Pm" not in cycle_page
    ph.set_phase(app, data.cycle_id, CyclePhase.PUBLISHED)
    page = text(client.get(f"/cases/{case_id}"))
    assert "Decision Promote" in page


def test_the_candidate_is_told_to_write_their_self_assessment(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    sign_in(client, org.pm_a1)
    page = text(client.get(f"/cases/{data.case_ids[org.pm_a1.id]}"))
    assert "Now: write your self-assessment." in page


def test_the_committee_sees_the_statement_and_results(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    settle(app, [case_id], decision=Outcome.NOT_YET)
    sign_in(client, org.manager_b)  # a participant of the session, from another line
    page = text(client.get(f"/cases/{case_id}"))
    assert "Manager statement Ready: leads discovery for the whole group." in page
    assert "Decision Not yet" in page
    assert "Record the decision" not in page
    cycle_page = text(client.get(f"/promotions/{data.cycle_id}"))
    assert "Not yet" in cycle_page


def test_the_head_records_a_decision_and_a_stale_form_is_a_conflict(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    settle(app, [case_id])
    stale = case_row(app, case_id).revision
    sign_in(client, org.head)
    page = text(client.get(f"/cases/{case_id}"))
    assert "The session's outcome (Promote)" in page
    refused = client.post_form(
        f"/cases/{case_id}/decision", {"decision": "defer", "rationale": "", "revision": stale}
    )
    assert refused.status_code == 400
    assert "differs from the session's outcome (Promote)" in text(refused)
    ok = client.post_form(
        f"/cases/{case_id}/decision", {"decision": "", "rationale": "", "revision": stale}
    )
    assert ok.status_code == 302
    assert case_row(app, case_id).decision is Outcome.PROMOTE
    conflict = client.post_form(
        f"/cases/{case_id}/decision",
        {"decision": "defer", "rationale": "Budget.", "revision": stale},
    )
    assert conflict.status_code == 409
    assert "Their decision: Promote" in text(conflict)
    assert case_row(app, case_id).decision is Outcome.PROMOTE


def test_withdrawing_needs_a_reason(app, org, client):
    data = ph.cycle_with_cases(app, org)
    case_id = data.case_ids[org.pm_a1.id]
    sign_in(client, org.manager_a)
    refused = client.post_form(f"/cases/{case_id}/withdraw", {"reason": " "})
    assert refused.status_code == 400
    assert "Say why the case is withdrawn" in text(refused)
    assert case_row(app, case_id).is_open
    too_long = client.post_form(f"/cases/{case_id}/withdraw", {"reason": "x" * 2001})
    assert too_long.status_code == 400 and "at most 2,000" in text(too_long)
    ok = client.post_form(f"/cases/{case_id}/withdraw", {"reason": "Moving teams."})
    assert ok.status_code == 302
    assert "Withdrawn" in text(client.get(f"/cases/{case_id}"))
    switch(client, org.pm_a1)
    assert client.post_form(f"/cases/{case_id}/withdraw", {"reason": "x"}).status_code == 403


# --- publishing, history and notifications ------------------------------------------------------


def test_publishing_in_the_browser_moves_people_and_their_profile_keeps_the_old_level(
    app, org, client
):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    settle(app, [data.case_ids[org.pm_a1.id]], decision=Outcome.PROMOTE)
    settle(app, [data.case_ids[org.pm_b1.id]], outcome=Outcome.DEFER, decision=Outcome.DEFER)
    sign_in(client, org.head)
    response = client.post_form(
        f"/promotions/{data.cycle_id}/publish", {"revision": revision(app, data.cycle_id)}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, org.pm_a1.id).level_id == data.level_ids["L2"]
    profile = text(client.get(f"/people/{org.pm_a1.id}"))
    assert "Level history" in profile
    assert re.search(r"L2 · Level 2 .*\(current\) · Promotion \(H1 2027\)", profile)
    assert re.search(r"L1 · Level 1 .* to \d+ \w+ \d{4}", profile)
    switch(client, org.pm_a1)
    inbox = client.get("/notifications").get_data(as_text=True)
    case_url = f'/cases/{data.case_ids[org.pm_a1.id]}"'
    assert "published the outcome of" in inbox and case_url in inbox


def test_a_notification_links_only_to_a_case_the_reader_may_open(app, org, client):
    data = ph.cycle_with_cases(app, org, candidates=("pm_a1",))
    case_id = data.case_ids[org.pm_a1.id]
    with app.app_context():
        for recipient in (org.manager_a, org.manager_b):
            db.session.add(
                Notification(
                    recipient_id=recipient.id,
                    actor_id=org.head.id,
                    kind=NotificationKind.CASE_PHASE,
                    case_id=case_id,
                )
            )
        db.session.commit()
    sign_in(client, org.manager_a)
    page = client.get("/notifications").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in page and "Alice Pm&#39;s case</a>" in page
    assert "moved H1 2027 on:" in page  # a row from before notifications kept the phase
    switch(client, org.manager_b)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"/cases/{case_id}" not in page
    assert "a case you can no longer see" in page


# --- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["head", "manager_a", "pm_a1"])
def test_the_cycle_and_list_pages_use_a_fixed_number_of_queries(app, org, client, make, who):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    sign_in(client, getattr(org, who))

    def notify(times: int) -> None:
        with app.app_context():
            for case_id in [*data.case_ids.values()] * times:
                db.session.add(
                    Notification(
                        recipient_id=getattr(org, who).id,
                        actor_id=org.head.id,
                        kind=NotificationKind.CASE_PHASE,
                        case_id=case_id,
                    )
                )
            db.session.commit()

    notify(1)
    paths = [f"/promotions/{data.cycle_id}", "/promotions", "/notifications"]
    before = [count_queries(app, client, path) for path in paths]
    levels = data.level_ids
    extra = [make.person(name=f"Extra {n}", manager=org.manager_a) for n in range(6)]
    ph.place(app, extra, levels["L1"])
    notify(5)
    for person in extra:
        ph.make_case(
            app,
            data.cycle_id,
            person,
            current_level_id=levels["L1"],
            proposed_level_id=levels["L2"],
        )
    after = [count_queries(app, client, path) for path in paths]
    assert after == before
    if who != "pm_a1":
        assert "Extra 5" in text(client.get(paths[0]))
