"""The confirmation step of every irreversible action through HTTP: publishing a cycle,
revealing a session's votes, locking a session, withdrawing a case. The page (GET) says what will
happen and to whom and changes nothing; its form (POST) does it and says so in a sentence. Also
"agree with the manager's rating for the rest" from the case's page in the session."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    CyclePhase,
    DecisionLogEntry,
    Outcome,
    PromotionCase,
    PromotionCycle,
    Rating,
    RatingSource,
)
from app.models.base import utcnow
from tests import promotion_helpers as ph
from tests.factories import sign_in

M, D = Rating.MEETS, Rating.DEVELOPING


def text(response) -> str:
    """The page's text without tags, spaces collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def log_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DecisionLogEntry))


@pytest.fixture
def meeting(app, org):
    """In calibration; the head facilitates Ada and Ben; both managers' assessments are in."""
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    for case_id in data.case_ids.values():
        ph.rate(app, case_id, RatingSource.MANAGER, dict(zip(ph.KEYS, [M, M, D, D], strict=True)))
    return data


def session_state(app, session_id: int) -> tuple:
    with app.app_context():
        session = db.session.get(CalibrationSession, session_id)
        return session.votes_revealed_at, session.locked_at, log_count()


def test_the_session_page_leads_to_the_reveal_and_lock_pages_which_change_nothing(
    app, org, meeting, client
):
    sign_in(client, org.head)
    grid = client.get(f"/sessions/{meeting.session_id}").get_data(as_text=True)
    reveal_url, lock_url = (f"/sessions/{meeting.session_id}/{a}" for a in ("reveal", "lock"))
    assert f'href="{reveal_url}"' in grid and f'href="{lock_url}"' in grid
    before = session_state(app, meeting.session_id)

    reveal = client.get(reveal_url)
    assert reveal.status_code == 200
    page = text(reveal)
    assert "Reveal the votes of Senior PM calibration?" in page
    assert "Everyone in Senior PM calibration (2 people) will see every vote on its 2 cases" in page
    assert "Will see every vote (2) Ada Manager Ben Manager" in page
    assert "Reveal the votes to everyone" in page

    lock = client.get(lock_url)
    assert lock.status_code == 200
    page = text(lock)
    assert "Lock Senior PM calibration?" in page and "Not possible yet" in page
    assert "Alice Pm: 4 of 4 competencies have no agreed rating." in page
    assert "Still without an outcome: Alice Pm, Bea Pm." in page
    assert "Finish Alice Pm's case" in page and "Finish Bea Pm's case" in page
    assert 'class="confirm-form"' not in lock.get_data(as_text=True)
    assert session_state(app, meeting.session_id) == before  # reading the pages did nothing

    done = client.post_form(reveal_url, follow_redirects=True)
    assert "The votes of Senior PM calibration are revealed to everyone in it." in text(done)
    assert session_state(app, meeting.session_id)[0] is not None


def test_agree_with_the_manager_for_the_rest_then_lock_through_the_confirmation(
    app, org, meeting, client
):
    a1 = meeting.case_ids[org.pm_a1.id]
    sign_in(client, org.head)
    case_page = f"/sessions/{meeting.session_id}/cases/{a1}/vote"
    page = text(client.get(case_page))
    assert "0 of 4 competencies have an agreed rating." in page
    assert "Skill 1.1 : not agreed yet · manager Developing" in page
    assert "Agree with the manager's rating for the rest" in page
    done = client.post_form(
        f"/sessions/{meeting.session_id}/cases/{a1}/agree-rest", follow_redirects=True
    )
    assert (
        "The manager's rating is now the agreed rating for 4 competencies of Alice Pm's case."
        in text(done)
    )
    assert "4 of 4 competencies have an agreed rating." in text(done)
    assert "Agree with the manager's rating for the rest" not in text(done)
    with app.app_context():
        reasons = db.session.scalars(
            select(DecisionLogEntry.reason).where(DecisionLogEntry.action == "rating.agreed")
        ).all()
        assert reasons == ["Agreed with the manager's rating."] * 4
        stored = db.session.scalars(
            select(CaseRating.rating).where(
                CaseRating.case_id == a1, CaseRating.source == RatingSource.AGREED
            )
        ).all()
        assert sorted(stored) == sorted([M, M, D, D])
    again = client.post_form(
        f"/sessions/{meeting.session_id}/cases/{a1}/agree-rest", follow_redirects=True
    )
    assert "Every competency of Alice Pm's case already has an agreed rating." in text(again)

    # The rest of the session, then the lock from its confirmation page.
    b1 = meeting.case_ids[org.pm_b1.id]
    client.post_form(f"/sessions/{meeting.session_id}/cases/{b1}/agree-rest")
    with app.app_context():
        for case_id in (a1, b1):
            case = db.session.get(PromotionCase, case_id)
            case.outcome, case.outcome_rationale = Outcome.NOT_YET, "Next cycle."
        db.session.commit()
    lock_url = f"/sessions/{meeting.session_id}/lock"
    page = text(client.get(lock_url))
    assert "The agreed ratings and outcomes of 2 cases become final" in page
    assert "Alice Pm: Not yet" in page and "Told that it is locked (2)" in page
    assert session_state(app, meeting.session_id)[1] is None
    done = client.post_form(lock_url, follow_redirects=True)
    assert "The session Senior PM calibration is locked." in text(done)
    assert session_state(app, meeting.session_id)[1] is not None


def test_only_the_facilitator_reaches_the_session_confirmations(app, org, meeting, client):
    a1 = meeting.case_ids[org.pm_a1.id]
    sign_in(client, org.manager_a)
    for action in ("reveal", "lock"):
        assert client.get(f"/sessions/{meeting.session_id}/{action}").status_code == 403
    agree = client.post_form(f"/sessions/{meeting.session_id}/cases/{a1}/agree-rest")
    assert agree.status_code == 403
    client.post_form("/logout")
    sign_in(client, org.pm_a1)
    assert client.get(f"/sessions/{meeting.session_id}/lock").status_code == 403


def decided(app, org):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.DECISIONS, with_session=True)
    with app.app_context():
        for person, decision in ((org.pm_a1, Outcome.PROMOTE), (org.pm_b1, Outcome.NOT_YET)):
            case = db.session.get(PromotionCase, data.case_ids[person.id])
            case.outcome, case.outcome_rationale, case.decision = decision, "Agreed.", decision
        db.session.get(CalibrationSession, data.session_id).locked_at = utcnow()
        db.session.commit()
    return data


def cycle_state(app, cycle_id: int) -> tuple:
    with app.app_context():
        cycle = db.session.get(PromotionCycle, cycle_id)
        return cycle.phase, cycle.published_at, cycle.revision, log_count()


def test_the_publish_page_says_who_is_promoted_and_changes_nothing(app, org, client):
    data = decided(app, org)
    sign_in(client, org.head)
    cycle_page = client.get(f"/promotions/{data.cycle_id}").get_data(as_text=True)
    url = f"/promotions/{data.cycle_id}/publish"
    assert f'href="{url}"' in cycle_page
    before = cycle_state(app, data.cycle_id)
    page = text(client.get(url))
    assert "Publish H1 2027?" in page
    assert "1 person will be promoted; 2 candidates will see their outcome." in page
    assert "Promoted to their new level (1) Alice Pm (L1 → L2)" in page
    assert "Told their outcome, staying at their level (1) Bea Pm (Not yet)" in page
    assert "cannot be undone" in page
    assert cycle_state(app, data.cycle_id) == before

    # The old phase form does not publish: it leads to the confirmation.
    moved = client.post_form(
        f"/promotions/{data.cycle_id}/phase", {"to_phase": "published", "revision": before[2]}
    )
    assert moved.status_code == 303 and moved.headers["Location"].endswith(url)
    assert cycle_state(app, data.cycle_id) == before

    stale = client.post_form(url, {"revision": before[2] - 1})
    assert stale.status_code == 409 and "Someone moved H1 2027" in text(stale)
    assert cycle_state(app, data.cycle_id) == before

    done = client.post_form(url, {"revision": before[2]}, follow_redirects=True)
    assert "H1 2027 is now published." in text(done)
    assert cycle_state(app, data.cycle_id)[0] is CyclePhase.PUBLISHED
    after = text(client.get(url))
    assert "Not possible yet" in after and "H1 2027 is already published" in after


def test_publishing_is_refused_with_the_cases_still_without_a_decision(app, org, client):
    data = decided(app, org)
    with app.app_context():
        db.session.get(PromotionCase, data.case_ids[org.pm_b1.id]).decision = None
        db.session.commit()
    sign_in(client, org.head)
    url = f"/promotions/{data.cycle_id}/publish"
    page = client.get(url)
    assert "1 case has none: Bea Pm." in text(page)
    assert 'class="confirm-form"' not in page.get_data(as_text=True)
    refused = client.post_form(url, {"revision": cycle_state(app, data.cycle_id)[2]})
    assert refused.status_code == 400 and "1 case has none: Bea Pm." in text(refused)
    assert cycle_state(app, data.cycle_id)[1] is None
    client.post_form("/logout")
    sign_in(client, org.manager_a)
    assert client.get(url).status_code == 403


def test_withdrawing_goes_through_a_page_that_names_whom_it_concerns(app, org, client):
    data = ph.cycle_with_cases(app, org)
    case_id = data.case_ids[org.pm_a1.id]
    sign_in(client, org.manager_a)
    url = f"/cases/{case_id}/withdraw"
    assert f'href="{url}"' in client.get(f"/cases/{case_id}").get_data(as_text=True)
    page = text(client.get(url))
    assert "Withdraw Alice Pm's case?" in page
    assert "Alice Pm's case (L1 → L2) leaves H1 2027 for good" in page
    assert "Alice Pm (candidate)" in page and "Ada Manager (manager)" in page
    assert "Why withdraw" in page
    with app.app_context():
        assert db.session.get(PromotionCase, case_id).is_open
    no_reason = client.post_form(url, {"reason": ""})
    assert no_reason.status_code == 400 and "Say why the case is withdrawn" in text(no_reason)
    done = client.post_form(url, {"reason": "Moving teams."}, follow_redirects=True)
    assert "Alice Pm's case is withdrawn from H1 2027." in text(done)
    assert "Alice Pm's case was already withdrawn." in text(client.get(url))
