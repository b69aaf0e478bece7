"""The decision log as people may read it (blind votes, labels, CSV) and the fairness figures.

Reads and writes each run in an app context of their own: SQLite takes the write lock at the
start of every transaction, so an open reading session would block the next write.
"""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    Outcome,
    PromotionCase,
    Rating,
    RatingSource,
    Role,
    User,
    calibration_participants,
)
from app.models.base import utcnow
from app.services.promotions import log as decision_log
from app.services.promotions import records
from app.services.promotions.log import LogAction
from tests import promotion_helpers as ph

R = Rating
SCOPES = {
    "case": records.case_scope,
    "session": records.session_scope,
    "cycle": records.cycle_scope,
}


def write(app, actor, action: LogAction, *, cycle_id: int, **values) -> None:
    """One decision log entry, committed, written the way the other services write them."""
    with app.app_context():
        person = db.session.get(User, actor.id) if actor is not None else None
        decision_log.record(person, action, cycle_id=cycle_id, **values)
        db.session.commit()


def rows(app, person, kind: str, object_id: int) -> list[records.LogRow]:
    """The whole log of a case, session or cycle as `person` reads it."""
    with app.app_context():
        viewer = db.session.get(User, person.id)
        return records.log_rows(viewer, SCOPES[kind](viewer, object_id))


def csv_table(app, person, kind: str, object_id: int) -> list[list[str]]:
    with app.app_context():
        viewer = db.session.get(User, person.id)
        scope = SCOPES[kind](viewer, object_id)
        text = records.log_csv(scope, records.log_rows(viewer, scope))
    return list(csv.reader(io.StringIO(text)))


def fairness(app, cycle_id: int, min_group: int = 3, *, person=None) -> records.Fairness:
    with app.app_context():
        viewer = db.session.get(User, person.id)
        return records.fairness(viewer, cycle_id, min_group=min_group)


def reveal(app, session_id: int) -> None:
    with app.app_context():
        db.session.get(CalibrationSession, session_id).votes_revealed_at = utcnow()
        db.session.commit()


def withdraw(app, case_id: int) -> None:
    with app.app_context():
        db.session.get(PromotionCase, case_id).withdrawn_at = utcnow()
        db.session.commit()


def join_session(app, session_id: int, person, case_id: int | None = None) -> None:
    with app.app_context():
        db.session.execute(
            calibration_participants.insert().values(session_id=session_id, user_id=person.id)
        )
        if case_id is not None:
            db.session.get(PromotionCase, case_id).session_id = session_id
        db.session.commit()


def leave_session(app, session_id: int, person) -> None:
    with app.app_context():
        session = db.session.execute(
            select(CalibrationSession)
            .where(CalibrationSession.id == session_id)
            .options(selectinload(CalibrationSession.participants))
        ).scalar_one()
        session.participants = [p for p in session.participants if p.id != person.id]
        db.session.commit()


@pytest.fixture
def calibrating(app, org):
    """A cycle in calibration: cases for pm_a1 (manager_a) and pm_b1 (manager_b) in one session
    facilitated by the head, manager_a and manager_b participating."""
    return ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)


def other_case(app, data, person) -> int:
    levels = data.level_ids
    return ph.make_case(
        app, data.cycle_id, person, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
    )


def cast(app, data, voter, case_id, key="skill-0-0", to=R.EXCEEDS) -> None:
    """A vote as the calibration service leaves it: the row and its log entry."""
    ph.vote(app, data.session_id, case_id, voter, {key: to})
    write(
        app,
        voter,
        LogAction.VOTE,
        cycle_id=data.cycle_id,
        session_id=data.session_id,
        case_id=case_id,
        competency_key=key,
        to_value=to,
        reason="Led the pricing launch end to end.",
    )


def agree(app, data, case_id, key, *, was=None, now=R.MEETS, reason="") -> None:
    """An agreed rating set by the session's facilitator, as calibration logs it."""
    with app.app_context():
        session = db.session.get(CalibrationSession, data.session_id)
        decision_log.record(
            db.session.get(User, session.facilitator_id),
            LogAction.AGREED_RATING,
            cycle_id=data.cycle_id,
            session_id=data.session_id,
            case_id=case_id,
            competency_key=key,
            from_value=was,
            to_value=now,
            reason=reason,
        )
        db.session.commit()


def seen(row: records.LogRow) -> tuple:
    return row.who, row.action, row.competency, row.from_label, row.to_label, row.reason


# --- what an entry says ------------------------------------------------------------------------


def test_entries_read_as_labels_with_competency_names_newest_first(app, org, calibrating):
    case_id, c = calibrating.case_ids[org.pm_a1.id], calibrating.cycle_id
    write(
        app,
        org.head,
        LogAction.PHASE_FORWARD,
        cycle_id=c,
        from_value=CyclePhase.MANAGER_ASSESSMENT,
        to_value=CyclePhase.CALIBRATION,
    )
    agree(app, calibrating, case_id, "skill-1-0", was=R.MEETS, now=R.DEVELOPING, reason="Thin.")
    write(app, org.head, LogAction.OUTCOME, cycle_id=c, case_id=case_id, to_value=Outcome.NOT_YET)
    write(
        app,
        None,
        LogAction.LEVEL_CHANGED,
        cycle_id=c,
        case_id=case_id,
        from_value="L1",
        to_value="L2",
    )

    # The case's log also holds the cycle's phase move, marked as an event of the whole cycle.
    of_case = rows(app, org.head, "case", case_id)
    assert [seen(row) for row in of_case] == [
        ("System", "Level changed", None, "L1", "L2", ""),
        ("Hana Head", "Outcome", None, "", "Not yet", ""),
        ("Hana Head", "Agreed rating", "Skill 1.0", "Meets", "Developing", "Thin."),
        ("Hana Head", "Phase moved forward", None, "Manager assessment", "Calibration", ""),
    ]
    assert [row.is_cycle_event for row in of_case] == [False, False, False, True]
    whole = rows(app, org.head, "cycle", c)
    assert seen(whole[-1]) == (
        "Hana Head",
        "Phase moved forward",
        None,
        "Manager assessment",
        "Calibration",
        "",
    )
    assert [row.candidate for row in whole] == ["Alice Pm", "Alice Pm", "Alice Pm", None]


def test_a_key_the_framework_does_not_know_is_shown_as_it_was_stored(app, org, calibrating):
    case_id = calibrating.case_ids[org.pm_a1.id]
    agree(app, calibrating, case_id, "gone-skill")
    [row] = rows(app, org.head, "case", case_id)
    assert row.competency == "gone-skill"


def test_the_candidate_cannot_open_their_case_log(app, org, calibrating):
    case_id = calibrating.case_ids[org.pm_a1.id]
    with pytest.raises(NotFoundError):
        rows(app, org.pm_a1, "case", case_id)
    assert rows(app, org.manager_a, "case", case_id) == []


def test_a_candidate_in_a_session_never_reads_their_own_case_there(app, org, calibrating):
    """A director proposed for promotion while sitting in a session: the entries of their own
    case are left out of the session's log; the entries of the other cases stay."""
    director_case = other_case(app, calibrating, org.director)
    join_session(app, calibrating.session_id, org.director, director_case)
    for case_id in (director_case, calibrating.case_ids[org.pm_a1.id]):
        agree(app, calibrating, case_id, "skill-0-0")

    assert [r.candidate for r in rows(app, org.director, "session", calibrating.session_id)] == [
        "Alice Pm"
    ]
    assert [r.candidate for r in rows(app, org.head, "session", calibrating.session_id)] == [
        "Alice Pm",
        "Dora Director",
    ]


# --- blind votes -------------------------------------------------------------------------------

BLIND = ("A participant", "Vote recorded", "Skill 0.0", "", "", "")
OPEN = ("Ben Manager", "Vote", "Skill 0.0", "", "Exceeds", "Led the pricing launch end to end.")


def test_a_vote_is_blind_until_the_viewer_has_voted_on_the_case_or_it_is_revealed(
    app, org, calibrating
):
    case_id = calibrating.case_ids[org.pm_a1.id]
    cast(app, calibrating, org.manager_b, case_id)

    def seen_by(person):
        [row] = rows(app, person, "session", calibrating.session_id)
        return seen(row)

    assert seen_by(org.manager_a) == BLIND
    assert seen_by(org.head) == BLIND
    assert seen_by(org.manager_b) == OPEN  # their own

    ph.vote(app, calibrating.session_id, case_id, org.manager_a, {"skill-1-1": R.MEETS})
    assert seen_by(org.manager_a) == OPEN
    assert seen_by(org.head) == BLIND

    reveal(app, calibrating.session_id)
    assert seen_by(org.head) == OPEN
    assert seen(rows(app, org.head, "case", case_id)[0]) == OPEN


def test_voting_on_one_case_does_not_open_the_votes_of_another(app, org, calibrating):
    a1, b1 = calibrating.case_ids[org.pm_a1.id], calibrating.case_ids[org.pm_b1.id]
    cast(app, calibrating, org.manager_b, a1)
    cast(app, calibrating, org.manager_b, b1, to=R.BELOW)
    ph.vote(app, calibrating.session_id, a1, org.manager_a, {"skill-0-0": R.MEETS})

    found = rows(app, org.manager_a, "session", calibrating.session_id)

    assert [(r.candidate, r.action, r.to_label, r.is_hidden_vote) for r in found] == [
        ("Bea Pm", "Vote recorded", "", True),
        ("Alice Pm", "Vote", "Exceeds", False),
    ]


def test_a_manager_above_the_candidate_outside_the_session_sees_votes_blind(app, org, calibrating):
    case_id = calibrating.case_ids[org.pm_a1.id]
    cast(app, calibrating, org.manager_b, case_id)
    reveal(app, calibrating.session_id)
    leave_session(app, calibrating.session_id, org.manager_a)  # still pm_a1's manager

    assert [seen(r) for r in rows(app, org.manager_a, "case", case_id)] == [BLIND]


def test_vote_visibility_agrees_with_the_policy_for_everyone(app, org, calibrating):
    """`votes_visible` reads the votes.view rule for many cases at once: it must give the same
    answer as the policy, person by person and case by case, before and after votes and reveal."""
    a1, b1 = calibrating.case_ids[org.pm_a1.id], calibrating.case_ids[org.pm_b1.id]
    outside = other_case(app, calibrating, org.pm_d1)
    people = [org.head, org.manager_a, org.manager_b, org.pm_a1, org.pm_b1, org.director]

    def both_ways() -> dict[str, set[int]]:
        found = {}
        with app.app_context():
            for person in people:
                viewer = db.session.get(User, person.id)
                by_policy = {
                    case_id
                    for case_id in (a1, b1, outside)
                    if policy.can(viewer, "votes.view", db.session.get(PromotionCase, case_id))
                }
                assert policy.votes_visible(viewer, {a1, b1, outside}) == by_policy, person.name
                found[person.name] = by_policy
        return found

    assert not any(both_ways().values())
    ph.vote(app, calibrating.session_id, a1, org.manager_a, {"skill-0-0": R.MEETS})
    assert both_ways()["Ada Manager"] == {a1}
    reveal(app, calibrating.session_id)
    after = both_ways()
    assert after["Hana Head"] == after["Ben Manager"] == {a1, b1}
    assert after["Alice Pm"] == after["Dora Director"] == set()


# --- CSV ---------------------------------------------------------------------------------------


def test_the_csv_has_the_same_rows_and_masks_as_the_page(app, org, calibrating):
    case_id = calibrating.case_ids[org.pm_a1.id]
    cast(app, calibrating, org.manager_b, case_id)
    agree(app, calibrating, case_id, "skill-0-1", was=R.MEETS, now=R.EXCEEDS, reason="Café, «ok»")

    table = csv_table(app, org.manager_a, "session", calibrating.session_id)

    assert table[0] == list(records.CSV_HEADER)
    assert [row[1:] for row in table[1:]] == [
        ["Hana Head", "Agreed rating", "Alice Pm", "Skill 0.1", "Meets", "Exceeds", "Café, «ok»"],
        ["A participant", "Vote recorded", "Alice Pm", "Skill 0.0", "", "", ""],
    ]
    assert all(len(row[0]) == len("2027-01-05 14:03:00") for row in table[1:])
    with app.app_context():
        viewer = db.session.get(User, org.manager_a.id)
        scope = records.session_scope(viewer, calibrating.session_id)
        assert (
            scope.filename == f"decision-log-senior-pm-calibration-session-{scope.session.id}.csv"
        )


def test_the_case_csv_has_no_case_column(app, org, calibrating):
    case_id = calibrating.case_ids[org.pm_a1.id]
    assert csv_table(app, org.head, "case", case_id) == [
        ["When (UTC)", "Who", "What", "Competency", "From", "To", "Reason"]
    ]


@pytest.mark.parametrize(
    "reason", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1+1"]
)
def test_cells_a_spreadsheet_would_run_as_formulas_are_made_text(app, org, calibrating, reason):
    case_id = calibrating.case_ids[org.pm_a1.id]
    agree(app, calibrating, case_id, "skill-0-0", reason=reason)

    [_header, row] = csv_table(app, org.head, "case", case_id)

    assert row[-1] == "'" + reason


def test_a_name_starting_with_a_formula_sign_is_made_text_too(app, org, make, calibrating):
    odd = make.person(name="=cmd|' /C calc'!A0", role=Role.MANAGER)
    write(
        app,
        odd,
        LogAction.CYCLE_PUBLISHED,
        cycle_id=calibrating.cycle_id,
        to_value="-1 of 2 promoted",
        reason="A harmless reason - with a dash inside",
    )

    [_header, row] = csv_table(app, org.head, "cycle", calibrating.cycle_id)

    assert row[1:] == [
        "'=cmd|' /C calc'!A0",
        "Cycle published",
        "",
        "",
        "",
        "'-1 of 2 promoted",
        "A harmless reason - with a dash inside",
    ]


# --- a fixed number of queries -----------------------------------------------------------------


def count_statements(app, work) -> int:
    statements = []

    def note(*_args):
        statements.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            work()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    return len(statements)


def test_a_log_page_reads_the_same_number_of_queries_for_5_and_50_entries(app, org, calibrating):
    case_ids = itertools.cycle(calibrating.case_ids.values())
    keys = itertools.cycle(ph.KEYS)
    voters = itertools.cycle([org.manager_a, org.manager_b])

    def fill(votes: int, agreed: int) -> None:
        for _ in range(votes):  # the log entries only: the page reads no Vote rows
            write(
                app,
                next(voters),
                LogAction.VOTE,
                cycle_id=calibrating.cycle_id,
                session_id=calibrating.session_id,
                case_id=next(case_ids),
                competency_key=next(keys),
                to_value=R.MEETS,
            )
        for _ in range(agreed):
            agree(app, calibrating, next(case_ids), next(keys))

    def page():
        viewer = db.session.get(User, org.manager_a.id)
        scope = records.session_scope(viewer, calibrating.session_id)
        return records.log_page(viewer, scope, 1)

    fill(3, 2)
    few = count_statements(app, page)
    fill(5, 40)
    assert count_statements(app, page) == few


# --- fairness ----------------------------------------------------------------------------------


@pytest.fixture
def team_of(app, org, make):
    """A cycle in calibration where manager_a has `a` candidates and manager_b `b`."""

    def build(a: int, b: int):
        levels = ph.publish_sample(app)
        a_people = [make.person(name=f"A report {i}", manager=org.manager_a) for i in range(a)]
        b_people = [make.person(name=f"B report {i}", manager=org.manager_b) for i in range(b)]
        ph.place(app, a_people + b_people, levels["L1"])
        cycle_id = ph.make_cycle(app, phase=CyclePhase.CALIBRATION)
        cases = [
            ph.make_case(
                app, cycle_id, p, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
            )
            for p in a_people + b_people
        ]
        return cycle_id, cases[:a], cases[a:]

    return build


def rate_all(app, cases, source, ratings, **kwargs) -> None:
    for case_id in cases:
        ph.rate(app, case_id, source, ratings, **kwargs)


def test_leniency_and_self_gap_per_manager(app, org, team_of):
    cycle_id, a_cases, b_cases = team_of(3, 3)
    # manager_a: one step more generous than calibration; self-ratings half a step higher
    rate_all(app, a_cases, RatingSource.MANAGER, {"skill-0-0": R.EXCEEDS, "skill-0-1": R.MEETS})
    rate_all(app, a_cases, RatingSource.AGREED, {"skill-0-0": R.MEETS, "skill-0-1": R.DEVELOPING})
    rate_all(app, a_cases, RatingSource.SELF, {"skill-0-0": R.EXCEEDS, "skill-0-1": R.EXCEEDS})
    # manager_b: one step stricter where calibrated; self-ratings on other competencies only
    rate_all(app, b_cases, RatingSource.MANAGER, {"skill-0-0": R.DEVELOPING, "skill-1-0": R.MEETS})
    rate_all(app, b_cases, RatingSource.AGREED, {"skill-0-0": R.MEETS})
    rate_all(app, b_cases, RatingSource.SELF, {"skill-1-1": R.MEETS})

    view = fairness(app, cycle_id, person=org.head)

    a, b = view.managers
    assert (a.name, a.people, a.leniency, a.leniency_pairs, a.self_gap, a.self_gap_pairs) == (
        "Ada Manager",
        3,
        1.0,
        6,
        0.5,
        6,
    )
    assert (b.name, b.people, b.leniency, b.leniency_pairs, b.self_gap) == (
        "Ben Manager",
        3,
        -1.0,
        3,
        None,
    )
    total = view.total
    assert (total.people, total.leniency, total.self_gap) == (6, pytest.approx(1 / 3), 0.5)
    assert not total.is_hidden and view.total_hidden_because is None


def test_drafts_and_withdrawn_cases_do_not_count(app, org, team_of):
    cycle_id, (first, second, third), _none = team_of(3, 0)
    ph.rate(app, first, RatingSource.MANAGER, {"skill-0-0": R.EXCEEDS}, submit=False)
    ph.rate(app, second, RatingSource.MANAGER, {"skill-0-0": R.BELOW})
    ph.rate(app, third, RatingSource.MANAGER, {"skill-0-0": R.EXCEEDS})
    rate_all(app, (first, second), RatingSource.AGREED, {"skill-0-0": R.MEETS})
    ph.rate(app, third, RatingSource.AGREED, {"skill-0-0": R.BELOW})
    withdraw(app, third)

    [row] = fairness(app, cycle_id, min_group=2, person=org.head).managers

    assert (row.people, row.leniency, row.leniency_pairs) == (2, -2.0, 1)


def test_a_manager_with_two_people_is_hidden_and_so_is_a_total_that_would_reveal_them(
    app, org, team_of
):
    cycle_id, a_cases, b_cases = team_of(3, 2)
    rate_all(app, a_cases + b_cases, RatingSource.MANAGER, ph.all_meets())
    rate_all(app, a_cases + b_cases, RatingSource.AGREED, ph.all_meets())

    view = fairness(app, cycle_id, person=org.head)

    assert [(m.name, m.is_hidden) for m in view.managers] == [
        ("Ada Manager", False),
        ("Ben Manager", True),
    ]
    # 5 people in all, minus Ada's 3, would give Ben's figures away
    assert view.total.is_hidden and view.total_hidden_because == "would_reveal"
    assert view.hidden_count == 1


def test_three_people_are_enough(app, org, team_of):
    cycle_id, *_ = team_of(3, 3)
    view = fairness(app, cycle_id, person=org.head)
    assert [m.is_hidden for m in view.managers] == [False, False]
    assert view.total_hidden_because is None


def test_two_hidden_managers_leave_the_total_shown(app, org, team_of):
    cycle_id, *_ = team_of(2, 2)
    view = fairness(app, cycle_id, person=org.head)
    assert [m.is_hidden for m in view.managers] == [True, True]
    assert (view.total.is_hidden, view.total.people) == (False, 4)


def test_a_cycle_smaller_than_the_group_shows_nothing(app, org, team_of):
    cycle_id, *_ = team_of(2, 0)
    view = fairness(app, cycle_id, person=org.head)
    assert view.managers[0].is_hidden
    assert view.total.is_hidden and view.total_hidden_because == "too_few"


@pytest.mark.parametrize(("min_group", "hidden"), [(2, [False, False]), (4, [True, True])])
def test_the_group_size_is_the_callers(app, org, team_of, min_group, hidden):
    cycle_id, *_ = team_of(3, 2)
    view = fairness(app, cycle_id, min_group, person=org.head)
    assert [m.is_hidden for m in view.managers] == hidden


def test_only_the_head_reads_fairness(app, org, team_of):
    cycle_id, *_ = team_of(1, 1)
    with pytest.raises(NotFoundError):
        fairness(app, cycle_id, person=org.manager_a)


def test_fairness_reads_the_same_number_of_queries_for_few_and_many_cases(app, org, make, team_of):
    cycle_id, a_cases, b_cases = team_of(3, 3)
    rate_all(app, a_cases + b_cases, RatingSource.MANAGER, ph.all_meets())

    def read():
        records.fairness(db.session.get(User, org.head.id), cycle_id, min_group=3)

    few = count_statements(app, read)
    levels = ph.publish_sample(app)
    for i in range(12):
        person = make.person(name=f"C report {i}", manager=org.director)
        case_id = ph.make_case(
            app, cycle_id, person, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
        )
        ph.rate(app, case_id, RatingSource.MANAGER, ph.all_meets())
        ph.rate(app, case_id, RatingSource.AGREED, ph.all_meets())
    assert count_statements(app, read) == few
