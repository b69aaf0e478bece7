"""The coaching part of "Your data": 1:1s, goals, the delegation board, feedback, thanks and
lessons, exported for their person (never another's private notes or unrevealed picks) and
imported again."""

import io
import json
import zipfile

import pytest

from app.extensions import db
from app.models import User
from app.services import personal_data
from tests.coaching_data import coaching_of_alice
from tests.evidence_helpers import publish_and_place


def person(p) -> User:
    return db.session.get(User, p.id)


@pytest.fixture
def alice_coached(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.manager_a, org.pm_b1])
    return coaching_of_alice(app, org)


def test_alices_1on1_holds_the_meetings_and_her_own_private_notes_only(
    app, org, alice_coached, ctx
):
    document = personal_data.export_document(person(org.pm_a1))
    (pair,) = document["one_on_ones"]
    assert pair["with"] == {"name": "Ada Manager", "email": "ada@example.com"}
    assert (pair["you_are"], pair["kind"], pair["cadence"]) == ("member", "manager", "weekly")
    first, _second = pair["meetings"]
    assert first["starts_at"] == "2026-03-02T09:00:00Z"
    assert first["shared_notes"] == "Shared notes 0"
    assert first["your_private_notes"]["body"] == "My thoughts 0"
    assert [(a["text"], a["by"]) for a in first["agenda"]] == [("Topic 0", "you")]
    lesson_place = 1  # her only evidence item
    assert first["agenda"][0]["links"] == [
        {"evidence": lesson_place},
        {"goal": 1},
        {"competency": {"framework": "sample", "key": "skill-1-0"}},
    ]
    assert [(a["text"], a["owner"], a["raised_in"]) for a in pair["action_items"]] == [
        ("Follow up 0", "you", 1),
        ("Follow up 1", "you", 2),
    ]
    assert "LEAD SECRET" not in json.dumps(document)


def test_the_managers_export_has_the_same_pair_with_his_notes_not_hers(
    app, org, alice_coached, ctx
):
    document = personal_data.export_document(person(org.manager_a))
    (pair,) = document["one_on_ones"]
    assert pair["with"]["email"] == "alice@example.com" and pair["you_are"] == "lead"
    assert pair["meetings"][0]["your_private_notes"]["body"] == "LEAD SECRET 0"
    assert "My thoughts" not in json.dumps(document)
    links = pair["meetings"][0]["agenda"][0]["links"]
    assert links[0] == {"evidence_of": "Alice Pm", "title": "Pricing test that failed"}
    assert links[1] == {"goal_of": "Alice Pm", "competency": "skill-0-0"}


def test_goals_point_at_their_evidence_by_place_and_the_lesson_flag_is_kept(
    app, org, alice_coached, ctx
):
    document = personal_data.export_document(person(org.pm_a1))
    (goal,) = document["goals"]
    assert goal | {"created_at": None, "updated_at": None} == {
        "framework": "sample",
        "competency": "skill-0-0",
        "target_level": None,
        "change": "Run discovery on my own 0",
        "measure": "Two interviews a week",
        "target_on": "2026-09-30",
        "status": "in_progress",
        "dropped_reason": "",
        "outcome": "",
        "created_by": "Alice Pm",
        "agreed_by": "Ada Manager",
        "agreed_at": "2026-03-02T09:00:00Z",
        "created_at": None,
        "updated_at": None,
        "closed_at": None,
        "evidence": [1],
    }
    assert document["evidence"][0]["lesson_shared_at"] == "2026-03-02T09:00:00Z"


def test_the_board_shows_the_managers_picks_only_once_revealed(app, org, alice_coached, ctx):
    board = personal_data.export_document(person(org.pm_a1))["delegation_board"]
    assert board["opened_by"] == "Ada Manager"
    assert [r["decision"] for r in board["rows"]] == ["Decision 0", "Decision 1"]
    revealed, open_round = board["rounds"]
    assert [(p["row"], p["by"], p["level"]) for p in revealed["picks"]] == [
        (1, "you", 5),
        (1, "them", 3),
        (2, "you", 5),
        (2, "them", 3),
    ]
    assert [(a["row"], a["level"], a["agreed_by"]) for a in revealed["agreements"]] == [
        (1, 4, "them"),
        (2, 4, "them"),
    ]
    assert [(p["by"], p["level"]) for p in open_round["picks"]] == [("you", 5), ("you", 5)]
    assert open_round["agreements"] == []


def test_the_manager_exports_his_picks_and_agreements_as_contributions(
    app, org, alice_coached, ctx
):
    document = personal_data.export_document(person(org.manager_a))
    assert document["delegation_board"] is None
    given = document["contributions"]
    assert [(p["board_of"], p["round"], p["level"]) for p in given["delegation_picks"]] == [
        ("Alice Pm", 1, 3),
        ("Alice Pm", 1, 3),
        ("Alice Pm", 2, 7),
        ("Alice Pm", 2, 7),
    ]
    assert [(a["decision"], a["level"]) for a in given["delegation_agreements"]] == [
        ("Decision 0", 4),
        ("Decision 1", 4),
    ]


def test_feedback_and_thanks_both_ways(app, org, alice_coached, ctx):
    document = personal_data.export_document(person(org.pm_a1))
    (request,) = document["feedback_requests"]
    assert request["message"] == "How did the launch go? 0"
    assert request["competencies"] == ["skill-0-0"]
    (ask,) = request["asked"]
    assert ask["from"] == {"name": "Arun Pm", "email": "arun@example.com"}
    assert (ask["status"], ask["impact"]) == ("answered", "We shipped on time")
    (given,) = document["contributions"]["feedback_given"]
    assert (given["for"], given["behaviour"]) == ("Arun Pm", "You cut scope early")
    assert document["thanks_received"] == [
        {
            "from": "Arun Pm",
            "message": "Thanks for the demo 0",
            "evidence": 1,
            "created_at": "2026-03-02T09:00:00Z",
        }
    ]
    assert [t["to"] for t in document["contributions"]["thanks_given"]] == ["Arun Pm"]


def test_a_stranger_exports_none_of_it(app, org, alice_coached, ctx):
    document = personal_data.export_document(person(org.pm_b1))
    assert document["one_on_ones"] == [] and document["goals"] == []
    assert document["delegation_board"] is None and document["feedback_requests"] == []
    assert "Alice" not in json.dumps(document)


def test_the_zip_has_one_markdown_file_per_pair(app, org, alice_coached, ctx):
    with personal_data.export_zip(person(org.pm_a1)) as output:
        archive = zipfile.ZipFile(io.BytesIO(output.read()))
    document = json.loads(archive.read("rungs-export.json"))
    (pair,) = document["one_on_ones"]
    assert pair["markdown_file"].startswith("one-on-ones/ada-manager-")
    text = archive.read(pair["markdown_file"]).decode()
    assert text.startswith("# 1:1 with Ada Manager")
    assert "My thoughts 1" in text and "LEAD SECRET" not in text
    assert "- [ ] Follow up 0 (owner: you, due 2026-04-01)" in text


def test_two_exports_of_the_same_data_are_identical(app, org, alice_coached, ctx):
    first = personal_data.export_document(person(org.pm_a1))
    second = personal_data.export_document(person(org.pm_a1))
    first.pop("exported_at"), second.pop("exported_at")
    assert first == second


def test_the_summary_counts_the_coaching_objects(app, org, alice_coached, ctx):
    summary = personal_data.summary(person(org.pm_a1))
    assert summary.coaching == {
        "one_on_ones": 1,
        "meetings": 2,
        "goals": 1,
        "rounds": 2,
        "feedback_requests": 1,
        "thanks": 1,
    }
