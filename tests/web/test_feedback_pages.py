"""The feedback pages through HTTP: who reads a request and its answers (a matrix of viewers,
before and after the requester shares an answer with their manager, reading the bodies), the
forms' refusals, a stale save of an answer (409 with both versions), thanks and lessons on the
team page, and query counts that do not grow with the data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AskStatus,
    EvidenceKind,
    FeedbackAsk,
    FeedbackRequest,
    Role,
    Thanks,
    User,
)
from app.services.feedback import asks, lessons
from app.services.feedback import thanks as thanks_service
from tests.evidence_helpers import publish_and_place, record
from tests.factories import sign_in
from tests.queries import count_queries
from tests.web.test_conversation import text_of

pytestmark = pytest.mark.midday

S = "\u2019"  # the typographic apostrophe the pages print
SECRET = "Zebra-crossing impact"  # the answer's impact: it must show only to its readers


@pytest.fixture
def placed(app, org):
    publish_and_place(
        app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, org.director, org.manager_a]
    )
    return org


@pytest.fixture
def asked(app, placed):
    """Dev (reports to Dora, who reports to Ada, who reports to the head) asks Arun and Bea;
    Arun answers. Returns (request id, Arun's ask id, Bea's ask id)."""
    org = placed
    with app.app_context():
        request = asks.ask_for_feedback(
            db.session.get(User, org.pm_d1.id),
            asks.RequestInput(
                colleague_ids=[org.pm_a2.id, org.pm_b1.id],
                competency_keys=["skill-0-0"],
                message="How did the pricing review go?",
            ),
        )
        by_giver = {
            a.giver_id: a
            for a in db.session.scalars(
                select(FeedbackAsk).where(FeedbackAsk.request_id == request.id)
            )
        }
        arun = by_giver[org.pm_a2.id]
        asks.answer(
            db.session.get(User, org.pm_a2.id),
            arun,
            asks.AnswerInput("Pricing review.", "Led with data.", SECRET),
            expected_revision=arun.revision,
        )
        db.session.commit()
        return request.id, arun.id, by_giver[org.pm_b1.id].id


def share(app, org, request_id, ask_id):
    with app.app_context():
        asks.share_with_manager(db.session.get(User, org.pm_d1.id), request_id, ask_id)
        db.session.commit()


REQUESTER, ASKED, OTHER_ASKED, MANAGER, SKIP, HEAD, STRANGER = (
    "requester",
    "colleague asked (answered)",
    "another colleague asked",
    "requester's manager",
    "skip-level manager",
    "head of product",
    "stranger",
)
VIEWERS = {
    REQUESTER: "pm_d1",
    ASKED: "pm_a2",
    OTHER_ASKED: "pm_b1",
    MANAGER: "director",
    SKIP: "manager_a",
    HEAD: "head",
    STRANGER: "manager_b",
}


def expected(viewer: str, shared: bool) -> dict[str, object]:
    """What each page shows the viewer: a status, and whether the answer's text is in it."""
    return {
        "request page": (200, True) if viewer == REQUESTER else (404, False),
        "answer page": (200, True) if viewer == ASKED else (404, False),
        # the person page opens for Dev, his line and the head; the answer shows only to the
        # manager once shared
        "person page": (
            200 if viewer in (REQUESTER, MANAGER, SKIP, HEAD) else 404,
            viewer == MANAGER and shared,
        ),
        "feedback index": (200, False),  # states and names, never an answer
    }


@pytest.mark.parametrize("shared", [False, True], ids=["before sharing", "after sharing"])
@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_who_reads_a_request_and_its_answers(app, client, placed, asked, viewer, shared):
    request_id, arun_ask, _bea_ask = asked
    if shared:
        share(app, placed, request_id, arun_ask)
    sign_in(client, getattr(placed, VIEWERS[viewer]))
    paths = {
        "request page": f"/feedback/requests/{request_id}",
        "answer page": f"/feedback/asks/{arun_ask}",
        "person page": f"/people/{placed.pm_d1.id}",
        "feedback index": "/feedback/",
    }
    found = {}
    for name, path in paths.items():
        response = client.get(path)
        found[name] = (response.status_code, SECRET in response.get_data(as_text=True))
    assert found == expected(viewer, shared)


def test_the_manager_reads_a_shared_answer_on_the_reports_page_until_it_is_taken_back(
    app, client, placed, asked
):
    request_id, arun_ask, _ = asked
    sign_in(client, placed.pm_d1)
    page = text_of(client.get(f"/feedback/requests/{request_id}"))
    assert "Arun Pm Answered" in page and f"Waiting for Bea Pm{S}s answer." in page
    response = client.post_form(f"/feedback/requests/{request_id}/answers/{arun_ask}/share")
    assert response.status_code == 302
    assert "Shared with your manager" in text_of(client.get(response.location))
    client.post_form("/logout")

    sign_in(client, placed.director)
    hub = text_of(client.get(f"/people/{placed.pm_d1.id}"))
    assert "Feedback shared with you" in hub and "From Arun Pm" in hub and SECRET in hub
    assert "shared with you feedback from Arun Pm" in text_of(client.get("/notifications"))
    client.post_form("/logout")

    sign_in(client, placed.pm_d1)
    client.post_form(f"/feedback/requests/{request_id}/answers/{arun_ask}/unshare")
    client.post_form("/logout")
    sign_in(client, placed.director)
    assert SECRET not in client.get(f"/people/{placed.pm_d1.id}").get_data(as_text=True)


def test_another_giver_and_the_requester_cannot_share_or_answer_what_is_not_theirs(
    client, placed, asked
):
    request_id, arun_ask, bea_ask = asked
    sign_in(client, placed.pm_b1)
    assert (
        client.post_form(f"/feedback/requests/{request_id}/answers/{arun_ask}/share").status_code
        == 404
    )
    assert client.post_form(f"/feedback/asks/{arun_ask}/decline").status_code == 404
    client.post_form("/logout")
    sign_in(client, placed.pm_d1)
    assert client.get(f"/feedback/asks/{bea_ask}").status_code == 404
    # an ask of another request, under this request's address
    assert (
        client.post_form(
            f"/feedback/requests/{request_id + 1}/answers/{arun_ask}/share"
        ).status_code
        == 404
    )


def test_asking_from_the_form_and_its_refusals(app, client, placed):
    sign_in(client, placed.pm_a1)
    form = text_of(client.get("/feedback/new"))
    assert "Colleagues to ask" in form and "Arun Pm" in form and "Alice Pm ·" not in form
    refused = client.post_form("/feedback/new", {"competency_keys": "skill-0-0"})
    assert refused.status_code == 400
    assert "Choose at least one colleague to ask." in text_of(refused)
    past = client.post_form(
        "/feedback/new",
        {
            "colleague_ids": str(placed.pm_a2.id),
            "competency_keys": "skill-0-0",
            "due_on": (date.today() - timedelta(days=1)).isoformat(),
        },
    )
    assert past.status_code == 400 and "The due date is in the past." in text_of(past)
    with app.app_context():
        assert db.session.scalar(select(FeedbackRequest)) is None
    sent = client.post_form(
        "/feedback/new",
        {
            "colleague_ids": [str(placed.pm_a2.id), str(placed.pm_b1.id)],
            "competency_keys": "skill-0-0",
            "due_on": (date.today() + timedelta(days=7)).isoformat(),
        },
    )
    assert sent.status_code == 302
    page = text_of(client.get(sent.location))
    assert f"Waiting for Arun Pm{S}s answer." in page and f"Waiting for Bea Pm{S}s answer." in page


def test_a_stale_save_of_an_answer_answers_409_with_both_versions(app, client, placed, asked):
    _, arun_ask, _ = asked
    sign_in(client, placed.pm_a2)
    form = client.get(f"/feedback/asks/{arun_ask}").get_data(as_text=True)
    assert SECRET in form and "Save changes" in form
    with app.app_context():
        stale = db.session.get(FeedbackAsk, arun_ask).revision
    saved = client.post_form(
        f"/feedback/asks/{arun_ask}",
        {"situation": "S", "behaviour": "B", "impact": "Newer impact", "revision": stale},
    )
    assert saved.status_code == 302
    conflict = client.post_form(
        f"/feedback/asks/{arun_ask}",
        {"situation": "S", "behaviour": "B", "impact": "Tab two impact", "revision": stale},
    )
    assert conflict.status_code == 409
    body = conflict.get_data(as_text=True)
    assert "Newer impact" in body and "Tab two impact" in body
    with app.app_context():
        assert db.session.get(FeedbackAsk, arun_ask).impact == "Newer impact"


def test_an_empty_part_is_refused_next_to_its_field(app, client, placed, asked):
    _, _, bea_ask = asked
    sign_in(client, placed.pm_b1)
    with app.app_context():
        revision = db.session.get(FeedbackAsk, bea_ask).revision
    refused = client.post_form(
        f"/feedback/asks/{bea_ask}",
        {"situation": "S", "behaviour": "", "impact": "I", "revision": revision},
    )
    assert refused.status_code == 400
    assert 'id="behaviour-error">Describe the behaviour.' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FeedbackAsk, bea_ask).status is AskStatus.PENDING


def test_home_lists_the_request_waiting_for_an_answer(client, placed, asked):
    sign_in(client, placed.pm_b1)
    home = text_of(client.get("/"))
    assert "To do" in home and "Feedback for Dev Pm" in home
    client.post_form("/logout")
    sign_in(client, placed.pm_a2)  # answered: nothing due
    assert "Feedback for Dev Pm" not in text_of(client.get("/"))


def test_thanks_from_an_evidence_page_show_to_all_with_the_link_only_for_readers(
    app, client, placed
):
    item_id = record(app, placed.pm_a1, title="Checkout rescue")
    sign_in(client, placed.manager_a)
    item = text_of(client.get(f"/evidence/{item_id}"))
    assert "Thank Alice Pm for this" in item
    sent = client.post_form(
        f"/feedback/thanks/new?evidence_id={item_id}",
        {"evidence_id": item_id, "message": "You saved the quarter."},
    )
    assert sent.status_code == 302 and sent.location.endswith(f"/evidence/{item_id}")
    client.post_form("/logout")
    for viewer, link in ((placed.manager_a, True), (placed.pm_b1, False)):
        sign_in(client, viewer)
        page = client.get("/feedback/thanks").get_data(as_text=True)
        assert "You saved the quarter." in page
        assert (f'href="/evidence/{item_id}"' in page) is link
        client.post_form("/logout")
    sign_in(client, placed.pm_a1)
    assert "Thank Alice Pm" not in text_of(client.get(f"/evidence/{item_id}"))  # the owner
    hub = text_of(client.get(f"/people/{placed.pm_a1.id}"))
    assert "Thanks received" in hub and "You saved the quarter." in hub


def test_a_thanks_form_for_an_item_the_giver_cannot_read_is_not_found(app, client, placed):
    item_id = record(app, placed.pm_a1, title="Checkout rescue")
    sign_in(client, placed.pm_b1)
    assert client.get(f"/feedback/thanks/new?evidence_id={item_id}").status_code == 404


def test_the_team_page_shows_recent_thanks_and_lessons_the_manager_may_read(app, client, placed):
    org = placed
    item_id = record(
        app,
        org.pm_a1,
        title="Checkout outage",
        kind=EvidenceKind.LEARNING,
        body=lessons.TEMPLATE,
    )
    with app.app_context():
        lessons.share_lesson(db.session.get(User, org.pm_a1.id), item_id)
        thanks_service.give_thanks(db.session.get(User, org.pm_b1.id), org.pm_a2.id, "Nice demo.")
        db.session.commit()
    sign_in(client, org.manager_a)
    team = text_of(client.get("/team"))
    assert "Recent thanks" in team and "Nice demo." in team
    assert "Recent lessons" in team and "Checkout outage" in team
    client.post_form("/logout")
    sign_in(client, org.manager_b)
    team = text_of(client.get("/team"))
    assert "Nice demo." not in team and "Checkout outage" not in team


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("pm_a2", True), ("director", True), ("pm_b1", False), ("pm_d1", False)],
    ids=["teammate", "teammate (a manager)", "other team", "teammate's report"],
)
def test_lessons_from_your_team_on_the_feedback_page(app, client, placed, viewer, sees):
    org = placed
    item_id = record(app, org.pm_a1, title="Checkout outage", kind=EvidenceKind.LEARNING, body="x")
    sign_in(client, getattr(org, viewer))
    assert "Checkout outage" not in text_of(client.get("/feedback/"))  # not yet a lesson
    client.post_form("/logout")

    sign_in(client, org.pm_a1)
    shared = client.post_form(f"/feedback/lessons/{item_id}/share")
    assert shared.status_code == 302
    assert "Shared with your team as a lesson" in text_of(client.get(shared.location))
    client.post_form("/logout")

    sign_in(client, getattr(org, viewer))
    assert ("Checkout outage" in text_of(client.get("/feedback/"))) is sees
    assert client.get(f"/evidence/{item_id}").status_code == (200 if sees else 404)
    client.post_form("/logout")

    sign_in(client, org.pm_a1)
    client.post_form(f"/feedback/lessons/{item_id}/stop")
    client.post_form("/logout")
    sign_in(client, getattr(org, viewer))
    assert "Checkout outage" not in text_of(client.get("/feedback/"))
    assert client.get(f"/evidence/{item_id}").status_code == 404  # none is in Alice's line


def test_a_new_lesson_starts_from_the_retrospective_template(client, placed):
    sign_in(client, placed.pm_a1)
    index = text_of(client.get("/evidence/"))
    assert "Log a lesson from a failure" in index
    form = client.get("/evidence/new?kind=learning_from_failure").get_data(as_text=True)
    assert '<option selected value="learning_from_failure">' in form
    for heading in lessons.SECTIONS:
        assert f"## {heading}" in form
    plain = client.get("/evidence/new").get_data(as_text=True)
    assert "## What we expected\n" not in plain.split('data-lesson-template="')[0]


# --- query counts -----------------------------------------------------------------------------


def people(app, count: int) -> list[int]:
    """`count` active colleagues without passwords (fast to make)."""
    with app.app_context():
        made = [
            User(email=f"c{i}@example.com", name=f"Colleague {i:03}", role=Role.PM)
            for i in range(count)
        ]
        db.session.add_all(made)
        db.session.commit()
        return [u.id for u in made]


def requests_both_ways(app, org, colleagues: list[int], count: int) -> None:
    """Alice sends `count` requests (one colleague each, half answered) and is asked `count`
    times; Arun thanks Alice `count` times, for an item of hers."""
    item_id = record(app, org.pm_a1, title="Checkout rescue")
    with app.app_context():
        for i in range(count):
            giver = colleagues[i % len(colleagues)]
            mine = FeedbackRequest(
                requester_id=org.pm_a1.id,
                framework_id=None,
                competency_keys=["skill-0-0"],
                due_on=date.today() + timedelta(days=i % 9 - 3),
            )
            theirs = FeedbackRequest(requester_id=giver, competency_keys=["skill-1-0"])
            db.session.add_all([mine, theirs])
            db.session.flush()
            status = AskStatus.ANSWERED if i % 2 else AskStatus.PENDING
            db.session.add_all(
                [
                    FeedbackAsk(request_id=mine.id, giver_id=giver, status=status),
                    FeedbackAsk(request_id=theirs.id, giver_id=org.pm_a1.id),
                    Thanks(
                        giver_id=org.pm_a2.id,
                        recipient_id=org.pm_a1.id,
                        message=f"Thanks {i}",
                        evidence_id=item_id if i % 2 else None,
                    ),
                ]
            )
        db.session.commit()


def one_request_to(app, org, colleagues: list[int]) -> int:
    with app.app_context():
        request = FeedbackRequest(requester_id=org.pm_a1.id, competency_keys=["skill-0-0"])
        db.session.add(request)
        db.session.flush()
        db.session.add_all(
            FeedbackAsk(
                request_id=request.id,
                giver_id=giver,
                status=AskStatus.ANSWERED,
                situation="s",
                behaviour="b",
                impact="i",
            )
            for giver in colleagues
        )
        db.session.commit()
        return request.id


@pytest.mark.parametrize("path", ["/feedback/", "/feedback/thanks", "/people/{alice}", "/"])
def test_pages_read_the_same_number_of_queries_for_5_and_200_rows(app, client, placed, path):
    colleagues = people(app, 5)
    requests_both_ways(app, placed, colleagues, 5)
    sign_in(client, placed.pm_a1)
    url = path.format(alice=placed.pm_a1.id)
    few = count_queries(app, client, url)
    requests_both_ways(app, placed, colleagues, 195)
    assert count_queries(app, client, url) == few


def test_the_request_page_reads_the_same_number_of_queries_for_5_and_200_answers(
    app, client, placed
):
    colleagues = people(app, 200)
    small = one_request_to(app, placed, colleagues[:5])
    large = one_request_to(app, placed, colleagues)
    sign_in(client, placed.pm_a1)
    few = count_queries(app, client, f"/feedback/requests/{small}")
    assert count_queries(app, client, f"/feedback/requests/{large}") == few
    assert text_of(client.get(f"/feedback/requests/{large}")).count("Share Colleague") == 200
