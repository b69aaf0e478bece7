"""The coaching part of "Your data": 1:1s, goals, the delegation board, feedback, thanks and
lessons, exported for their person (never another's private notes or unrevealed picks) and
imported again."""

import io
import json
import zipfile

import pytest
from sqlalchemy import delete, select, update

from app.core.errors import RowErrors
from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    DelegationAgreement,
    DelegationBoard,
    Evidence,
    FeedbackAsk,
    FeedbackRequest,
    Goal,
    Meeting,
    OneOnOne,
    PairKind,
    Thanks,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services import personal_data
from app.services.personal_data import importing as personal_data_import
from tests.coaching_data import (
    add_board,
    add_feedback,
    add_goals,
    add_meetings,
    add_thanks,
    coaching_of_alice,
)
from tests.evidence_helpers import publish_and_place
from tests.services.test_personal_data import QueryCounter


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
        {"competency": {"framework": "sample", "key": "skill-1-0"}},
        {"evidence": lesson_place},
        {"goal": 1},
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
    assert links == [
        {"goal_of": "Alice Pm", "competency": "skill-0-0"},
        {"competency": {"framework": "sample", "key": "skill-1-0"}},
        {"evidence_of": "Alice Pm", "title": "Pricing test that failed"},
    ]


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


# --- import -------------------------------------------------------------------------------------


def fresh_organisation() -> None:
    """The same people, none of their content: as if they moved to another Rungs together."""
    for model in (Thanks, FeedbackRequest, DelegationBoard, OneOnOne, Goal, Evidence):
        db.session.execute(delete(model))
    db.session.commit()


def without_times(document: dict) -> dict:
    """The export with ids and the times an import sets anew left out (what must survive)."""
    text = json.dumps(document, sort_keys=True)
    cleaned = json.loads(text)
    cleaned.pop("exported_at")
    for section in ("evidence", "contributions", "help_seen", "thanks_received"):
        cleaned.pop(section)
    return cleaned


def test_round_trip_into_a_fresh_organisation(app, org, alice_coached, ctx):
    alice_file = personal_data.export_document(person(org.pm_a1))
    ada_file = personal_data.export_document(person(org.manager_a))
    fresh_organisation()
    report = personal_data_import.import_items(person(org.pm_a1), alice_file)
    db.session.commit()
    coaching = report.coaching
    assert len(report.imported) == 1
    assert (coaching.goals, coaching.feedback_requests) == (1, 1)
    # Alice is Ada's report: she may not open their 1:1s; Ada imports them.
    assert coaching.meetings == 0
    assert any("ask Ada Manager to open them" in line for line in coaching.skipped)
    assert any("private draft" in line for line in coaching.skipped)  # the lesson flag
    assert any("agreed round stays in the file" in line for line in coaching.skipped)
    ada_report = personal_data_import.import_items(person(org.manager_a), ada_file).coaching
    db.session.commit()
    # Ada brings back the meetings, her action items and private notes; Alice's topics are
    # Alice's to bring back.
    assert (ada_report.meetings, ada_report.agenda_items, ada_report.action_items) == (2, 0, 2)
    assert ada_report.private_notes == 2
    again = personal_data_import.import_items(person(org.pm_a1), alice_file).coaching
    db.session.commit()
    assert (again.meetings, again.agenda_items, again.private_notes, again.links) == (0, 2, 2, 3)

    after = personal_data.export_document(person(org.pm_a1))
    before = alice_file
    (pair,) = after["one_on_ones"]
    (old_pair,) = before["one_on_ones"]
    assert pair["with"] == old_pair["with"] and pair["cadence"] == old_pair["cadence"]
    for new, old in zip(pair["meetings"], old_pair["meetings"], strict=True):
        assert new["starts_at"] == old["starts_at"]
        assert new["shared_notes"] == old["shared_notes"]
        assert new["your_private_notes"]["body"] == old["your_private_notes"]["body"]
        assert [(a["text"], a["by"], a["links"]) for a in new["agenda"]] == [
            (a["text"], a["by"], a["links"]) for a in old["agenda"]
        ]
    assert [(a["text"], a["owner"], a["due_on"], a["raised_in"]) for a in pair["action_items"]] == [
        (a["text"], a["owner"], a["due_on"], a["raised_in"]) for a in old_pair["action_items"]
    ]
    keys = ("framework", "competency", "change", "measure", "target_on", "status", "evidence")
    assert [{k: g[k] for k in keys} for g in after["goals"]] == [
        {k: g[k] for k in keys} for g in before["goals"]
    ]
    assert after["goals"][0]["agreed_by"] is None  # agreed again here
    assert after["delegation_board"] is None  # the board stays in the file
    (request,) = after["feedback_requests"]
    old_request = before["feedback_requests"][0]
    assert {k: request[k] for k in ("competencies", "message", "due_on", "created_at")} == {
        k: old_request[k] for k in ("competencies", "message", "due_on", "created_at")
    }
    assert request["asked"] == [] and old_request["asked"]  # the answers stay in the file
    # Ada's own view of the pair came back too: her notes, not Alice's.
    (ada_pair,) = personal_data.export_document(person(org.manager_a))["one_on_ones"]
    assert ada_pair["meetings"][0]["your_private_notes"]["body"] == "LEAD SECRET 0"


def test_importing_the_same_file_twice_adds_nothing(app, org, alice_coached, ctx):
    document = personal_data.export_document(person(org.manager_a))
    before = personal_data.export_document(person(org.pm_a1))
    report = personal_data_import.import_items(person(org.pm_a1), before)
    again = personal_data_import.import_items(person(org.manager_a), document)
    db.session.commit()
    for coaching in (report.coaching, again.coaching):
        assert not coaching.anything, coaching
    after = personal_data.export_document(person(org.pm_a1))
    assert without_times(after) == without_times(before)


def test_the_lesson_flag_comes_back_on_a_shared_lesson_here(app, org, alice_coached, ctx):
    document = personal_data.export_document(person(org.pm_a1))
    item = db.session.get(Evidence, alice_coached["lesson"])
    item.lesson_shared_at = None
    db.session.commit()
    report = personal_data_import.import_items(person(org.pm_a1), document)
    assert report.coaching.lessons == 1
    assert db.session.get(Evidence, alice_coached["lesson"]).lesson_shared_at is not None


@pytest.fixture
def loner(app, make, alice_coached, org):
    """Someone on Alice's level with no manager and nobody else here."""
    made = make.person(name="Lone Pm", email="lone@example.com")
    with app.app_context():
        db.session.get(User, made.id).level_id = db.session.get(User, org.pm_a1.id).level_id
        db.session.commit()
    return made


def test_what_cannot_come_back_is_skipped_with_a_reason(app, org, loner, ctx):
    document = personal_data.export_document(person(org.pm_a1))
    document["one_on_ones"][0]["with"]["email"] = "gone@example.com"
    document["feedback_requests"][0]["asked"][0]["from"]["email"] = "gone@example.com"
    document["goals"][0]["competency"] = "no-such-skill"
    report = personal_data_import.import_items(person(loner), document).coaching
    assert report.skipped == [
        "Goal 1 (“Run discovery on my own 0”): your career path here has no competency "
        "'no-such-skill'.",
        "“Pricing test that failed” was offered to your team as a lesson; here it is a private "
        "draft: share it, then offer it as a lesson again.",
        "1:1 with Ada Manager: nobody else here has the email gone@example.com.",
        "Feedback request 1 (2026-03-02): 1 answer stays in the file: an answer belongs to "
        "the colleague who gave it; ask them again here.",
        "Your delegation board: 1 agreed round stays in the file: a board is opened and "
        "played with your manager here.",
    ]
    assert report.feedback_requests == 1


def meeting_at(starts_at: str, minutes: int = 30) -> dict:
    meeting = {"starts_at": starts_at, "duration_minutes": minutes}
    return {"one_on_ones": [{"with": {"email": "a@b.c"}, "meetings": [meeting]}]}


HOSTILE = [
    (meeting_at("0001-01-01T00:30:00+01:00"), "is out of the range of dates"),
    (meeting_at("2062-03-02T09:00:00Z"), "is not within two years of today"),
    (meeting_at("9999-12-31T23:59:00Z"), "is not within two years of today"),
    (meeting_at("2026-12-07T09:00:00Z", 20), "duration_minutes 20 is not one of 15, 30, 45"),
    ({"one_on_ones": "lots"}, "The export's one_on_ones must be a list."),
    ({"one_on_ones": [[]]}, "1:1 1 is not an object."),
    ({"one_on_ones": [{"with": {"email": 5}}]}, "1:1 1's email must be text."),
    (
        {"one_on_ones": [{"with": {"email": "a@b.c"}, "meetings": [{"starts_at": "soon"}]}]},
        "1:1 1, meeting 1's starts_at 'soon' is not a time like 2026-03-02T09:00:00Z.",
    ),
    (
        {"one_on_ones": [{"with": {"email": "a@b.c"}, "meetings": [{}] * 5_001}]},
        "1:1 1 has 5,001 meetings; an export holds at most 5,000.",
    ),
    (
        {"goals": [{"competency": "x", "change": "y", "status": "won"}]},
        "Goal 1's status 'won' is not one of not_started",
    ),
    (
        {"goals": [{"competency": "x", "change": "y", "evidence": [True]}]},
        "evidence 1's place True is not a whole number",
    ),
    ({"goals": [{"competency": "x", "change": "y\x00"}]}, "Goal 1's change contains a control"),
    (
        {
            "delegation_board": {
                "rows": [],
                "rounds": [
                    {
                        "number": 1,
                        "opened_at": "2026-01-01T00:00:00Z",
                        "agreements": [{"row": 1, "level": 9}],
                    }
                ],
            }
        },
        "the board has no rows",
    ),
    (
        {
            "delegation_board": {
                "rows": [{"decision": "d"}],
                "rounds": [
                    {
                        "number": 1,
                        "opened_at": "2026-01-01T00:00:00Z",
                        "agreements": [{"row": 1, "level": 9}],
                    }
                ],
            }
        },
        "level 9 is not a whole number from 1 to 7",
    ),
    (
        {"feedback_requests": [{"created_at": "2026-01-01T00:00:00Z", "asked": [{"from": {}}]}]},
        "has no email",
    ),
    ({"goals": [{}] * 2_001}, "The export has 2,001 goals; an export holds at most 2,000."),
]


@pytest.mark.parametrize(("changes", "message"), HOSTILE)
def test_hostile_coaching_sections_are_refused_whole_with_a_message(
    app, org, ctx, changes, message
):
    publish_and_place(app, [org.pm_a1])
    document = {"format": "rungs-personal-data/1", "evidence": [], **changes}
    with pytest.raises(RowErrors) as error:
        personal_data_import.import_items(person(org.pm_a1), document)
    assert any(message in line for line in error.value.errors), error.value.errors
    for model in (Goal, OneOnOne, DelegationBoard, FeedbackRequest):
        assert db.session.execute(select(model)).first() is None


def test_a_bad_item_refuses_the_coaching_too(app, org, alice_coached, ctx):
    document = personal_data.export_document(person(org.pm_a1))
    fresh_organisation()
    document["evidence"][0]["kind"] = "party"
    with pytest.raises(RowErrors):
        personal_data_import.import_items(person(org.pm_a1), document)
    db.session.rollback()
    assert db.session.execute(select(Goal)).first() is None


def test_unknown_fields_are_named_and_ignored(app, org, alice_coached, ctx):
    document = personal_data.export_document(person(org.pm_a1))
    document["mood"] = "sunny"
    document["goals"][0]["\x07bell"] = 1
    document["one_on_ones"][0]["meetings"][0]["location"] = "Room 4"
    report = personal_data_import.import_items(person(org.pm_a1), document).coaching
    assert report.unknown_fields == ["goals.'\\x07bell'", "meetings.location", "top level.mood"]


# --- queries ------------------------------------------------------------------------------------


def fill(app, org, count: int) -> None:
    """`count` of each kind for Alice, as a person and (on Arun's board) as a manager's report's
    colleague: meetings with agenda items and notes, action items, goals, board rows and
    rounds, feedback both ways and thanks both ways; Ada gets the same as a manager."""
    with app.app_context():
        pair = OneOnOne(lead_id=org.manager_a.id, member_id=org.pm_a1.id, kind=PairKind.MANAGER)
        mentoring = OneOnOne(lead_id=org.pm_a1.id, member_id=org.pm_b1.id, kind=PairKind.MENTOR)
        db.session.add_all([pair, mentoring])
        db.session.flush()
        add_meetings(pair.id, org.manager_a.id, org.pm_a1.id, count)
        add_meetings(mentoring.id, org.pm_a1.id, org.pm_b1.id, count)
        add_goals(org.pm_a1.id, org.manager_a.id, count)
        add_board(org.pm_a1.id, org.manager_a.id, count, rounds=3)
        add_board(org.pm_a2.id, org.manager_a.id, count, rounds=2)
        add_feedback(org.pm_a1.id, org.pm_a2.id, count)
        add_feedback(org.pm_a2.id, org.pm_a1.id, count)
        add_thanks(org.pm_a2.id, org.pm_a1.id, count)
        add_thanks(org.pm_a1.id, org.pm_a2.id, count)
        db.session.commit()


def export_queries(app, who) -> tuple[int, dict]:
    with app.app_context(), QueryCounter(app) as counter:
        document = personal_data.export_document(person(who))
        personal_data.summary(person(who))
    return counter.count, document


@pytest.mark.parametrize("who", ["pm_a1", "manager_a"])
def test_the_export_reads_as_many_queries_for_5_as_for_200_of_each(app, org, who):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.manager_a])
    queries = []
    for count in (5, 200):
        with app.app_context():
            fresh_organisation()
        fill(app, org, count)
        used, document = export_queries(app, getattr(org, who))
        queries.append(used)
        if who == "pm_a1":
            assert len(document["goals"]) == count
            assert len(document["one_on_ones"][1]["meetings"]) == count
            assert len(document["delegation_board"]["rounds"][0]["agreements"]) == count
        else:
            assert len(document["contributions"]["delegation_agreements"]) == 3 * count
    assert queries[0] == queries[1]


# --- any value anywhere -------------------------------------------------------------------------

ODD_VALUES = [None, True, {}, "x" * 100_000, "2026-03-02T09:00:00"]


def places_in(value, path=()):
    """Every place in a section (the first of each list), as a path of keys and indexes."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*path, key)
            yield from places_in(inner, (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0)
        yield from places_in(value[0], (*path, 0))


class _Undo(Exception):
    """Leaves the savepoint after a successful import, so the next one starts empty."""


def test_any_value_anywhere_in_the_coaching_is_imported_or_refused_never_an_error(
    app, org, alice_coached, ctx
):
    exported = personal_data.export_document(person(org.pm_a1))
    fresh_organisation()
    exported["evidence"] = []  # the items have their own such test; this one is quicker without
    db.session.add(OneOnOne(lead_id=org.manager_a.id, member_id=org.pm_a1.id, kind="manager"))
    db.session.commit()
    sections = ("one_on_ones", "goals", "delegation_board", "feedback_requests")
    outcomes = {"imported": 0, "refused": 0}
    for section in sections:
        for place in places_in(exported[section], (section,)):
            for value in ODD_VALUES:
                document = json.loads(json.dumps(exported))
                target = document
                for step in place[:-1]:
                    target = target[step]
                target[place[-1]] = value
                try:
                    with db.session.begin_nested():
                        personal_data_import.import_items(person(org.pm_a1), document)
                        db.session.flush()
                        raise _Undo
                except _Undo:
                    outcomes["imported"] += 1
                except RowErrors:
                    outcomes["refused"] += 1
                db.session.rollback()
    assert outcomes["refused"] > 150 and outcomes["imported"] > 50, outcomes


def test_a_1on1_whose_other_account_is_gone_exports_and_is_skipped_on_import(
    app, org, alice_coached, ctx
):
    db.session.execute(update(OneOnOne).values(lead_id=None))
    db.session.commit()
    document = personal_data.export_document(person(org.pm_a1))
    (pair,) = document["one_on_ones"]
    assert pair["with"] == {"name": None, "email": None}
    assert pair["meetings"][0]["your_private_notes"]["body"] == "My thoughts 0"
    report = personal_data_import.import_items(person(org.pm_a1), document).coaching
    assert "1:1 with someone: their account no longer existed when you exported." in (
        report.skipped
    )


def test_a_mentor_brings_their_mentoring_1on1s_back_and_the_head_exports_none_of_it(
    app, org, alice_coached, ctx
):
    mentoring = OneOnOne(lead_id=org.pm_a2.id, member_id=org.pm_b1.id, kind=PairKind.MENTOR)
    db.session.add(mentoring)
    db.session.flush()
    add_meetings(mentoring.id, org.pm_a2.id, org.pm_b1.id, 3)
    db.session.commit()
    head = json.dumps(personal_data.export_document(person(org.head)))
    assert "Shared notes" not in head and "Topic" not in head and "Decision" not in head
    document = personal_data.export_document(person(org.pm_a2))
    fresh_organisation()
    report = personal_data_import.import_items(person(org.pm_a2), document).coaching
    db.session.commit()
    assert (report.meetings, report.private_notes, report.action_items) == (3, 3, 3)
    (space,) = db.session.execute(select(OneOnOne)).scalars()
    assert (space.lead_id, space.member_id, space.kind) == (
        org.pm_a2.id,
        org.pm_b1.id,
        PairKind.MENTOR,
    )


def test_a_file_makes_nobody_the_author_of_an_answer_a_topic_or_an_agreement(
    app, org, alice_coached, ctx
):
    """A forged file cannot put words in a colleague's mouth: answers, the other's topics and
    action items, and the board's rounds stay in the file."""
    document = personal_data.export_document(person(org.pm_a2))  # Bea: no coaching of her own
    alice = personal_data.export_document(person(org.pm_a1))
    forged_ask = dict(alice["feedback_requests"][0]["asked"][0])
    forged_ask["from"] = {"name": "Ada Manager", "email": "ada@example.com"}
    forged_ask["impact"] = "Bea is the best PM I ever had."
    request = {**alice["feedback_requests"][0], "asked": [forged_ask]}
    pair = alice["one_on_ones"][0]
    forged_pair = {**pair, "with": {"name": "Ada Manager", "email": "ada@example.com"}}
    for meeting in forged_pair["meetings"]:
        meeting["starts_at"] = meeting["starts_at"].replace("2026-03", "2026-05")
        meeting["agenda"] = [
            {**a, "by": "them", "text": "Ada says: promote Bea"} for a in meeting["agenda"]
        ]
    forged_pair["action_items"] = [
        {**a, "created_by": "them", "raised_in": None} for a in pair["action_items"]
    ]
    document.update(
        feedback_requests=[request],
        one_on_ones=[forged_pair],
        delegation_board=alice["delegation_board"],
    )
    fresh_organisation()
    bea = person(org.pm_a2)
    # Bea is Ada's report; give her a space with Ada so that the 1:1 has somewhere to go.
    db.session.add(OneOnOne(lead_id=org.manager_a.id, member_id=bea.id, kind=PairKind.MANAGER))
    db.session.commit()
    report = personal_data_import.import_items(bea, document).coaching
    db.session.commit()
    assert db.session.execute(select(FeedbackAsk)).first() is None
    (made,) = db.session.execute(select(FeedbackRequest)).scalars()
    assert made.requester_id == bea.id
    assert (
        db.session.execute(
            select(AgendaItem).where(AgendaItem.author_id == org.manager_a.id)
        ).first()
        is None
    )
    assert db.session.execute(select(ActionItem)).first() is None
    assert {m.created_by_id for m in db.session.execute(select(Meeting)).scalars()} == {bea.id}
    assert db.session.execute(select(DelegationBoard)).first() is None
    assert db.session.execute(select(DelegationAgreement)).first() is None
    assert any("written by Ada Manager" in line for line in report.skipped)
    ada_export = json.dumps(personal_data.export_document(person(org.manager_a)))
    assert "best PM" not in ada_export and "promote Bea" not in ada_export


@pytest.mark.parametrize("hidden", ["private draft", "in the Trash"])
def test_the_leads_export_names_the_members_linked_item_only_while_he_may_read_it(
    app, org, alice_coached, ctx, hidden
):
    def links_in_adas_export():
        (pair,) = personal_data.export_document(person(org.manager_a))["one_on_ones"]
        return pair["meetings"][0]["agenda"][0]["links"]

    shared = {"evidence_of": "Alice Pm", "title": "Pricing test that failed"}
    assert shared in links_in_adas_export()
    item = db.session.get(Evidence, alice_coached["lesson"])
    if hidden == "private draft":
        item.visibility = Visibility.PRIVATE
    else:
        item.deleted_at = utcnow()
    db.session.commit()
    links = links_in_adas_export()
    assert {"evidence_of": "Alice Pm"} in links
    assert "Pricing test" not in json.dumps(personal_data.export_document(person(org.manager_a)))


def many_topics(meetings: int, topics: int) -> dict:
    return {
        "one_on_ones": [
            {
                "with": {"name": "Alice Pm", "email": "alice@example.com"},
                "meetings": [
                    {
                        "starts_at": f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T09:00:00Z",
                        "duration_minutes": 30,
                        "agenda": [{"text": f"Topic {t}", "by": "you"} for t in range(topics)],
                    }
                    for n in range(meetings)
                ],
            }
        ]
    }


def test_an_import_takes_at_most_so_many_coaching_objects(app, org, ctx):
    publish_and_place(app, [org.manager_a, org.pm_a1])
    document = {"format": "rungs-personal-data/1", "evidence": [], **many_topics(50, 200)}
    with pytest.raises(RowErrors) as error:
        personal_data_import.import_items(person(org.manager_a), document)
    assert any(
        "The export holds 10,050 coaching objects" in line and "at most 10,000" in line
        for line in error.value.errors
    ), error.value.errors
    assert db.session.execute(select(OneOnOne)).first() is None


def test_the_largest_import_stores_its_rows_in_batches(app, org, ctx):
    """A flush per row took 34 s for this file in one write transaction (others' writes fail
    after SQLite's 5 s busy timeout); in batches it is a few statements whatever the rows."""
    publish_and_place(app, [org.manager_a, org.pm_a1])
    document = {"format": "rungs-personal-data/1", "evidence": [], **many_topics(50, 199)}
    with QueryCounter(app) as counter:
        report = personal_data_import.import_items(person(org.manager_a), document).coaching
        db.session.commit()
    assert (report.meetings, report.agenda_items) == (50, 50 * 199)
    assert counter.count < 100, counter.count


def test_a_pair_with_two_spaces_imports_into_the_oldest(app, org, alice_coached, ctx):
    """Two spaces for the same two people (made before one space per pair was enforced both
    ways): the import picks the oldest instead of failing."""
    document = personal_data.export_document(person(org.manager_a))
    older = alice_coached["pair"]
    db.session.add(OneOnOne(lead_id=org.pm_a1.id, member_id=org.manager_a.id, kind=PairKind.MENTOR))
    db.session.execute(delete(Meeting))
    db.session.commit()
    report = personal_data_import.import_items(person(org.manager_a), document).coaching
    db.session.commit()
    assert report.meetings == 2
    assert {m.one_on_one_id for m in db.session.execute(select(Meeting)).scalars()} == {older}
