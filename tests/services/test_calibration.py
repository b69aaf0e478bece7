"""Calibration sessions as services: planning, blind votes, the grid, agreeing, outcomes, lock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import policy
from app.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    CyclePhase,
    Notification,
    NotificationKind,
    Outcome,
    PromotionCase,
    RatingSource,
    Vote,
    case_rating_evidence,
)
from app.services.promotions.calibration import decisions, grid, panels, planning, votes
from tests.evidence_helpers import record as record_evidence
from tests.promotion_helpers import (
    B,
    D,
    E,
    M,
    all_meets,
    cycle_with_cases,
    log_entries,
    make_case,
    make_session,
    rate,
    ratings,
    set_phase,
    user,
    vote,
)


@pytest.fixture
def unplanned(app, org):
    """A cycle in manager assessment with cases for pm_a1 and pm_b1 (L1 → L2), no session."""
    return cycle_with_cases(app, org, phase=CyclePhase.MANAGER_ASSESSMENT)


@pytest.fixture
def meeting(app, org):
    """A cycle in calibration; the head facilitates manager_a and manager_b; manager ratings
    submitted for both cases."""
    data = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    for case_id in data.case_ids.values():
        rate(app, case_id, RatingSource.SELF, ratings(M, M, E, E))
        rate(app, case_id, RatingSource.MANAGER, ratings(M, M, D, D), by=org.manager_a)
    return data


# --- planning -----------------------------------------------------------------------------------


def test_the_head_creates_a_session_logged_and_announced(app, org, unplanned, ctx):
    session = planning.create_session(
        user(org.head),
        unplanned.cycle_id,
        "  Senior   PM  ",
        org.head.id,
        [org.manager_a.id, org.manager_b.id],
        [unplanned.case_ids[org.pm_a1.id]],
    )
    db.session.commit()
    assert session.name == "Senior PM"
    assert db.session.get(PromotionCase, unplanned.case_ids[org.pm_a1.id]).session_id == session.id
    assert db.session.get(PromotionCase, unplanned.case_ids[org.pm_b1.id]).session_id is None
    [entry] = log_entries("session.created")
    assert (entry.session_id, entry.to_value, entry.actor_id) == (
        session.id,
        "Senior PM",
        org.head.id,
    )
    assert "Alice Pm" in entry.reason and "Ada Manager" in entry.reason
    told = db.session.scalars(
        select(Notification.recipient_id).where(
            Notification.kind == NotificationKind.SESSION_ADDED,
            Notification.session_id == session.id,
        )
    ).all()
    assert sorted(told) == sorted([org.manager_a.id, org.manager_b.id])  # not the head: her action


def test_every_case_proposing_a_level_is_added(app, org, unplanned, ctx):
    session = planning.create_session(
        user(org.head),
        unplanned.cycle_id,
        "L2",
        org.manager_a.id,
        [org.manager_b.id, org.head.id],
        [],
        proposing_level_id=unplanned.level_ids["L2"],
    )
    in_scope = db.session.scalars(
        select(PromotionCase.id).where(PromotionCase.session_id == session.id)
    ).all()
    assert sorted(in_scope) == sorted(unplanned.case_ids.values())


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"name": " "}, "name", "Give the session a name."),
        ({"facilitator_id": "pm"}, "facilitator_id", "Choose a facilitator"),
        ({"participant_ids": []}, "participant_ids", "at least one participant"),
        ({"participant_ids": ["pm"]}, "participant_ids", "managers or the head"),
        ({"case_ids": []}, "case_ids", "Choose the cases in scope."),
        ({"participant_ids": ["director"]}, "participant_ids", "candidate in this session"),
    ],
)
def test_bad_plans_are_refused_with_the_field(app, org, unplanned, ctx, change, field, message):
    director_case = make_case(
        app,
        unplanned.cycle_id,
        org.director,
        current_level_id=unplanned.level_ids["L1"],
        proposed_level_id=unplanned.level_ids["L2"],
    )
    people = {"pm": org.pm_a2.id, "director": org.director.id}
    values = {
        "name": "Senior PM",
        "facilitator_id": org.head.id,
        "participant_ids": [org.manager_a.id],
        "case_ids": [director_case],
    }
    for name, value in change.items():
        values[name] = (
            people[value]
            if isinstance(value, str) and value in people
            else [people[v] for v in value]
            if isinstance(value, list)
            else value
        )
    with pytest.raises(ValidationError) as refused:
        planning.create_session(user(org.head), unplanned.cycle_id, **values)
    assert refused.value.field == field
    assert message in refused.value.message


def test_a_case_in_another_session_a_duplicate_name_and_a_withdrawn_case_are_refused(
    app, org, unplanned, ctx
):
    head = user(org.head)
    a1, b1 = unplanned.case_ids[org.pm_a1.id], unplanned.case_ids[org.pm_b1.id]
    planning.create_session(
        head, unplanned.cycle_id, "First", org.head.id, [org.manager_a.id], [a1]
    )
    with pytest.raises(ValidationError, match="already in another session"):
        planning.create_session(
            head, unplanned.cycle_id, "Second", org.head.id, [org.manager_a.id], [a1]
        )
    with pytest.raises(ValidationError, match="already has a session called"):
        planning.create_session(
            head, unplanned.cycle_id, "first", org.head.id, [org.manager_a.id], [b1]
        )
    db.session.get(PromotionCase, b1).withdrawn_at = db.func.now()
    db.session.flush()
    with pytest.raises(ValidationError, match="open cases of this cycle"):
        planning.create_session(
            head, unplanned.cycle_id, "Third", org.head.id, [org.manager_a.id], [b1]
        )


def test_only_the_head_plans_and_only_before_decisions(app, org, unplanned, ctx):
    args = ("S", org.head.id, [org.manager_a.id], [unplanned.case_ids[org.pm_a1.id]])
    with pytest.raises(ForbiddenError):
        planning.create_session(user(org.manager_a), unplanned.cycle_id, *args)
    db.session.rollback()  # the helper writes from its own connection
    set_phase(app, unplanned.cycle_id, CyclePhase.DECISIONS)
    with pytest.raises(ValidationError, match="Planning calibration sessions is open during"):
        planning.create_session(user(org.head), unplanned.cycle_id, *args)


def test_changing_the_scope_is_logged_with_what_changed(app, org, meeting, ctx):
    session = db.session.get(CalibrationSession, meeting.session_id)
    scope = planning.Scope(
        "Renamed",
        org.head.id,
        [org.manager_a.id, org.director.id],
        [meeting.case_ids[org.pm_a1.id]],
    )
    planning.change_session(
        user(org.head), meeting.session_id, scope, expected_revision=session.revision
    )
    db.session.commit()
    [entry] = log_entries("session.changed")
    assert (entry.from_value, entry.to_value) == ("Senior PM calibration", "Renamed")
    assert "Participants added: Dora Director" in entry.reason
    assert "Participants removed: Ben Manager" in entry.reason
    assert "Cases removed: Bea Pm" in entry.reason
    assert db.session.get(PromotionCase, meeting.case_ids[org.pm_b1.id]).session_id is None
    with pytest.raises(ConflictError):
        planning.change_session(user(org.head), meeting.session_id, scope, expected_revision=1)


# --- votes --------------------------------------------------------------------------------------


def test_a_vote_needs_every_competency_and_each_change_is_logged(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    ada = user(org.manager_a)
    with pytest.raises(ValidationError, match=r"still open: Skill 1\.1"):
        votes.vote(ada, meeting.session_id, a1, dict(list(all_meets().items())[:3]))
    assert votes.vote(ada, meeting.session_id, a1, all_meets()) == 4
    assert votes.vote(ada, meeting.session_id, a1, {**all_meets(), "skill-1-1": "exceeds"}) == 1
    db.session.commit()
    entries = log_entries("vote")
    assert len(entries) == 5
    assert (entries[-1].competency_key, entries[-1].from_value, entries[-1].to_value) == (
        "skill-1-1",
        "meets",
        "exceeds",
    )
    stored = db.session.scalars(select(Vote.rating).where(Vote.voter_id == ada.id)).all()
    assert sorted(stored) == sorted([M, M, M, E])


def test_only_participants_vote_and_only_in_calibration(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    with pytest.raises(ForbiddenError, match="only the participants vote"):
        votes.vote(user(org.head), meeting.session_id, a1, all_meets())  # facilitator
    with pytest.raises(NotFoundError):
        votes.vote(user(org.director), meeting.session_id, a1, all_meets())
    with pytest.raises(NotFoundError):
        votes.vote(user(org.pm_a1), meeting.session_id, a1, all_meets())
    db.session.rollback()  # the helper writes from its own connection
    set_phase(app, meeting.cycle_id, CyclePhase.DECISIONS)
    with pytest.raises(ValidationError, match="Voting is open during calibration"):
        votes.vote(user(org.manager_a), meeting.session_id, a1, all_meets())


# --- the grid -----------------------------------------------------------------------------------


def _spread_shown(page, case_id) -> bool:
    row = next(r for r in page.rows if r.case.id == case_id)
    return row.votes_visible and all(c.spread is not None for c in row.cells)


def test_votes_are_blind_until_you_vote_or_the_facilitator_reveals(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    vote(app, meeting.session_id, a1, org.manager_b, ratings(B, M, E, M))
    db.session.expire_all()
    ada = user(org.manager_a)
    before = grid.session_page(ada, meeting.session_id)
    row = next(r for r in before.rows if r.case.id == a1)
    assert not row.votes_visible and row.voters == 1 and before.voters == 2
    assert all(c.spread is None for c in row.cells)
    assert [c.manager for c in row.cells] == [M, M, D, D]  # the manager's rating is no secret
    votes.vote(ada, meeting.session_id, a1, all_meets())
    db.session.commit()
    after = grid.session_page(ada, meeting.session_id)
    assert _spread_shown(after, a1)
    cell = next(r for r in after.rows if r.case.id == a1).cells[0]
    assert cell.spread.counts[B] == 1 and cell.spread.counts[M] == 1
    assert (cell.spread.low, cell.spread.high) == (B, M)
    assert not _spread_shown(after, meeting.case_ids[org.pm_b1.id])
    assert not _spread_shown(grid.session_page(user(org.head), meeting.session_id), a1)
    votes.reveal(user(org.head), meeting.session_id)
    db.session.commit()
    assert _spread_shown(grid.session_page(user(org.head), meeting.session_id), a1)
    assert len(log_entries("votes.revealed")) == 1
    with pytest.raises(ValidationError, match="already revealed"):
        votes.reveal(user(org.head), meeting.session_id)


def test_the_grid_s_vote_visibility_is_the_policy_s(app, org, meeting, ctx):
    a1, b1 = meeting.case_ids[org.pm_a1.id], meeting.case_ids[org.pm_b1.id]
    vote(app, meeting.session_id, a1, org.manager_a, all_meets())
    db.session.expire_all()
    for revealed in (False, True):
        for person in (org.head, org.manager_a, org.manager_b):
            viewer = user(person)
            page = grid.session_page(viewer, meeting.session_id)
            for row in page.rows:
                assert row.votes_visible == policy.can(viewer, "votes.view", row.case), (
                    person.name,
                    row.case.id,
                    revealed,
                )
        if not revealed:
            votes.reveal(user(org.head), meeting.session_id)
            db.session.commit()
    assert {a1, b1} == {r.case.id for r in page.rows}


def test_the_agenda_puts_the_widest_disagreement_first_among_cases_you_may_see(
    app, org, meeting, ctx
):
    third = make_case(
        app,
        meeting.cycle_id,
        org.pm_a2,
        current_level_id=meeting.level_ids["L1"],
        proposed_level_id=meeting.level_ids["L2"],
    )
    a1, b1 = meeting.case_ids[org.pm_a1.id], meeting.case_ids[org.pm_b1.id]
    with app.app_context():
        db.session.get(PromotionCase, third).session_id = meeting.session_id
        db.session.commit()
    rate(app, third, RatingSource.MANAGER, ratings(B, B, B, B))  # a1 and b1: M M D D
    vote(app, meeting.session_id, a1, org.manager_b, ratings(M, M, D, D))  # agrees: width 0
    vote(app, meeting.session_id, b1, org.manager_b, ratings(B, E, D, D))  # width 2
    vote(app, meeting.session_id, third, org.manager_b, ratings(E, E, E, B))  # width 3
    db.session.expire_all()
    ben = grid.session_page(user(org.manager_b), meeting.session_id)
    assert [r.case.id for r in ben.rows] == [third, b1, a1]
    assert [r.width for r in ben.rows] == [3, 2, 0]
    # Ada has voted on a1 only: that one comes first, the blind ones after it by name (Arun, Bea).
    db.session.rollback()  # the helper writes from its own connection
    vote(app, meeting.session_id, a1, org.manager_a, all_meets())
    db.session.expire_all()
    ada = grid.session_page(user(org.manager_a), meeting.session_id)
    assert [r.case.id for r in ada.rows] == [a1, third, b1]


# --- one cell -----------------------------------------------------------------------------------


def test_a_cell_shows_ratings_with_evidence_and_votes_with_names_only_when_allowed(
    app, org, meeting, ctx
):
    a1 = meeting.case_ids[org.pm_a1.id]
    item = record_evidence(app, org.pm_a1, title="Ran the pricing test", body="**Won** 4 %")
    with app.app_context():
        row = db.session.scalars(
            select(CaseRating).where(
                CaseRating.case_id == a1,
                CaseRating.source == RatingSource.MANAGER,
                CaseRating.competency_key == "skill-0-0",
            )
        ).one()
        db.session.execute(case_rating_evidence.insert().values(rating_id=row.id, evidence_id=item))
        db.session.commit()
    vote(app, meeting.session_id, a1, org.manager_b, ratings(B, M, M, M))
    db.session.expire_all()
    ada = user(org.manager_a)
    shown = grid.cell_page(ada, meeting.session_id, a1, "skill-0-0")
    assert shown.competency.expectation == "Does skill 0.0 at L2."
    assert shown.manager.rating is M and shown.self_rating.rating is M
    [linked] = shown.manager.evidence
    assert (linked.title, linked.excerpt) == ("Ran the pricing test", "Won 4 %")
    assert shown.votes is None and shown.voters == 1
    votes.vote(ada, meeting.session_id, a1, all_meets())
    db.session.commit()
    shown = grid.cell_page(ada, meeting.session_id, a1, "skill-0-0")
    assert [(v.voter, v.rating) for v in shown.votes] == [("Ada Manager", M), ("Ben Manager", B)]
    with pytest.raises(NotFoundError):
        grid.cell_page(user(org.director), meeting.session_id, a1, "skill-0-0")
    with pytest.raises(NotFoundError):
        grid.cell_page(ada, meeting.session_id, a1, "no-such-skill")


def test_the_self_rating_waits_for_the_manager_s(app, org, ctx):
    data = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    a1 = data.case_ids[org.pm_a1.id]
    rate(app, a1, RatingSource.SELF, all_meets())
    rate(app, a1, RatingSource.MANAGER, all_meets(), submit=False)
    shown = grid.cell_page(user(org.manager_b), data.session_id, a1, "skill-0-0")
    assert shown.self_rating is None and shown.self_hidden and shown.manager is None


# --- agreeing -----------------------------------------------------------------------------------


def test_agreeing_away_from_the_manager_needs_a_reason_and_is_logged(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    head = user(org.head)
    args = (head, meeting.session_id, a1, "skill-1-0")
    with pytest.raises(ValidationError) as refused:
        decisions.agree(*args, E, "Strong launches.", "", expected_revision=0)
    assert refused.value.field == "reason" and "Developing" in refused.value.message
    with pytest.raises(ValidationError) as refused:
        decisions.agree(*args, D, "  ", "", expected_revision=0)
    assert refused.value.field == "rationale"
    for rationale, reason, field in (("x" * 5001, "", "rationale"), ("Why.", "y" * 5001, "reason")):
        with pytest.raises(ValidationError, match="at most 5,000") as refused:
            decisions.agree(*args, E, rationale, reason, expected_revision=0)
        assert refused.value.field == field  # the too-long text is named, not the other one
    same = decisions.agree(*args, D, "As the manager says.", "", expected_revision=0)
    db.session.commit()
    changed = decisions.agree(
        *args, E, "Strong launches.", "Two launches the manager missed.", expected_revision=1
    )
    db.session.commit()
    assert same is changed and changed.rating is E and changed.updated_by_id == org.head.id
    entries = log_entries("rating.agreed")
    assert [(e.from_value, e.to_value) for e in entries] == [
        ("developing", "developing"),
        ("developing", "exceeds"),
    ]
    assert entries[-1].reason == "Two launches the manager missed."


def test_two_saves_of_the_same_cell_the_second_gets_a_conflict_with_the_stored_value(
    app, org, meeting, ctx
):
    a1 = meeting.case_ids[org.pm_a1.id]
    args = (user(org.head), meeting.session_id, a1, "skill-0-0")
    decisions.agree(*args, M, "Agreed in the room.", "", expected_revision=0)
    db.session.commit()
    with pytest.raises(ConflictError) as conflict:  # read before the first save: revision 0
        decisions.agree(*args, E, "Mine.", "Because.", expected_revision=0)
    assert conflict.value.current["rating"] is M
    assert conflict.value.current["rationale"] == "Agreed in the room."
    assert conflict.value.current["by"] == "Hana Head"
    db.session.rollback()
    stored = db.session.scalars(
        select(CaseRating).where(CaseRating.source == RatingSource.AGREED)
    ).one()
    assert stored.rating is M  # nothing silently overwritten


def test_the_database_refuses_a_second_save_that_raced_past_the_check(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    rate(app, a1, RatingSource.AGREED, {"skill-0-0": M}, by=org.head)  # saved meanwhile

    def second_insert():
        row = CaseRating(case_id=a1, competency_key="skill-0-0", source=RatingSource.AGREED)
        db.session.add(row)
        return row

    with pytest.raises(ConflictError) as conflict:
        decisions._save_or_conflict(second_insert, a1, "skill-0-0")
    assert conflict.value.current["rating"] is M and conflict.value.current["by"] == "Hana Head"


def test_outcomes_need_a_rationale_and_a_current_revision(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    head = user(org.head)
    revision = db.session.get(PromotionCase, a1).revision
    with pytest.raises(ValidationError) as refused:
        decisions.set_outcome(head, a1, Outcome.PROMOTE, "", expected_revision=revision)
    assert refused.value.field == "outcome_rationale"
    with pytest.raises(ForbiddenError):
        decisions.set_outcome(
            user(org.manager_a), a1, Outcome.PROMOTE, "Ready.", expected_revision=revision
        )
    decisions.set_outcome(head, a1, "promote", "Ready.", expected_revision=revision)
    db.session.commit()
    with pytest.raises(ConflictError) as conflict:
        decisions.set_outcome(head, a1, Outcome.DEFER, "Wait.", expected_revision=revision)
    assert conflict.value.current == {"outcome": Outcome.PROMOTE, "rationale": "Ready."}
    [entry] = log_entries("outcome")
    assert (entry.from_value, entry.to_value, entry.reason) == ("", "promote", "Ready.")


# --- outcomes for every case (locking: test_calibration_lock.py) ------------------------------


def _decide_all(meeting, head):
    for case_id in meeting.case_ids.values():
        revision = db.session.get(PromotionCase, case_id).revision
        decisions.set_outcome(
            head, case_id, Outcome.NOT_YET, "Next cycle.", expected_revision=revision
        )
    db.session.commit()


# --- panels -------------------------------------------------------------------------------------


def test_the_case_panel_shows_the_candidate_results_only_once_published(app, org, meeting, ctx):
    a1 = meeting.case_ids[org.pm_a1.id]
    head = user(org.head)
    decisions.agree(
        head, meeting.session_id, a1, "skill-0-0", M, "Clear wins.", "", expected_revision=0
    )
    _decide_all(meeting, head)
    from app.services.promotions import loading

    panel = panels.case_panel(user(org.pm_a1), loading.case(a1))
    assert not panel.shows_result and panel.agreed == [] and panel.outcome is None
    assert not panel.may_open_session
    committee = panels.case_panel(user(org.manager_b), loading.case(a1))
    assert committee.shows_result and committee.outcome is Outcome.NOT_YET
    db.session.rollback()  # the helper writes from its own connection
    set_phase(app, meeting.cycle_id, CyclePhase.PUBLISHED)
    panel = panels.case_panel(user(org.pm_a1), loading.case(a1))
    assert panel.shows_result and panel.outcome is Outcome.NOT_YET
    assert [(line.name, line.rating, line.rationale) for line in panel.agreed] == [
        ("Skill 0.0", M, "Clear wins.")
    ]


def test_the_cycle_panel_lists_the_sessions_a_person_may_open(app, org, meeting, ctx):
    other = make_session(
        app,
        meeting.cycle_id,
        facilitator=org.manager_b,
        participants=[org.director],
        case_ids=[],
        name="Another",
    )
    names = lambda person: [s.name for s in panels.sessions_of(user(person), meeting.cycle_id)]  # noqa: E731
    assert names(org.head) == ["Another", "Senior PM calibration"]
    assert names(org.manager_a) == ["Senior PM calibration"]
    assert names(org.director) == ["Another"]
    assert names(org.manager_b) == ["Another", "Senior PM calibration"]
    assert names(org.pm_a1) == []
    assert other
