"""Delegation Poker through the services: seeding, hidden picks, the reveal, the spread,
agreeing, closing and the board's history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    AuditEvent,
    DaciRole,
    DelegationRound,
    Notification,
    NotificationKind,
)
from app.services import delegation
from app.services.delegation import pages
from tests.delegation_helpers import RIGHTS, play, publish_with_rights, row_ids, user


@pytest.fixture
def placed(app, org):
    publish_with_rights(app, [org.pm_a1, org.pm_a2, org.pm_b1])
    return org


def test_the_manager_opens_a_board_seeded_from_the_level_s_decision_rights(ctx, placed):
    board = delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
    rows = delegation.active_rows(board.id)
    assert [(r.decision, r.role, r.expected) for r in rows] == [
        (right["decision"], DaciRole(right["role"]), right["delegation"]) for right in RIGHTS
    ]
    assert all(r.decision_right_id for r in rows)
    # Opening again gives the same board; nobody but the direct manager may open it.
    assert delegation.open_board(user(placed.manager_a), placed.pm_a1.id).id == board.id
    for outsider in (placed.pm_a1, placed.head, placed.manager_b, placed.pm_a2):
        with pytest.raises(NotFoundError):
            delegation.open_board(user(outsider), placed.pm_a2.id)
    assert (
        db.session.scalar(
            select(AuditEvent.action).where(
                AuditEvent.entity_type == "delegation_boards", AuditEvent.entity_id == board.id
            )
        )
        == "delegation.board_opened"
    )


def test_either_adds_rows_without_expectation_and_removing_keeps_history(app, placed):
    play(
        app,
        placed.manager_a,
        placed.pm_a1,
        person_levels=[4, 5, 2],
        manager_levels=[4, 5, 2],
        agree=[4, 5, 2],
        close=True,
    )
    with app.app_context():
        own = delegation.add_row(user(placed.pm_a1), placed.pm_a1.id, "  Roadmap  wording ", None)
        assert (own.decision, own.expected, own.role) == ("Roadmap wording", None, None)
        with pytest.raises(ValidationError) as refused:
            delegation.add_row(user(placed.pm_a1), placed.pm_a1.id, "   ", None)
        assert refused.value.field == "decision"
        with pytest.raises(NotFoundError):  # a peer does not play on the board
            delegation.add_row(user(placed.pm_a2), placed.pm_a1.id, "Sneaky", None)
        first = row_ids(placed.pm_a1)[0]
        delegation.remove_row(user(placed.manager_a), placed.pm_a1.id, first)
        db.session.commit()
        page = pages.board_page(user(placed.manager_a), placed.pm_a1.id)
        assert first not in [r.id for r in page.rows]
        removed = page.removed[0]
        assert removed.id == first and removed.removed_at is not None
        assert [s.level for s in removed.history] == [4]  # its agreed level stays


def test_picks_stay_hidden_until_both_picked_every_row_then_reveal_together(app, placed):
    with app.app_context():
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
        started = delegation.start_round(user(placed.manager_a), placed.pm_a1.id)
        db.session.commit()
        rows = row_ids(placed.pm_a1)
        round_id = started.id
        opened = db.session.scalars(
            select(Notification).where(
                Notification.kind == NotificationKind.DELEGATION_ROUND_OPENED
            )
        ).all()
        assert [(n.recipient_id, n.round_id) for n in opened] == [(placed.pm_a1.id, round_id)]

        revealed = delegation.save_picks(
            user(placed.manager_a),
            placed.pm_a1.id,
            round_id,
            dict(zip(rows, [2, 3, 1], strict=True)),
        )
        assert revealed is False
        # The person picks two of three rows: still hidden from both.
        assert not delegation.save_picks(
            user(placed.pm_a1), placed.pm_a1.id, round_id, {rows[0]: 6, rows[1]: 3}
        )
        db.session.commit()
        for viewer, own in ((placed.pm_a1, {6, 3}), (placed.manager_a, {2, 3, 1})):
            current = pages.board_page(user(viewer), placed.pm_a1.id).current
            assert not current.is_revealed
            seen = {p for picks in current.picks.values() for p in picks}
            assert seen == {viewer.id}  # only their own picks reached the page
            assert {lvl for picks in current.picks.values() for lvl in picks.values()} == own
        skip = pages.board_page(user(placed.head), placed.pm_a1.id).current
        assert skip.picks == {}  # the line above reads the board but no pick before the reveal
        # No audit entry holds a pick's level before the reveal.
        logged = db.session.scalars(
            select(AuditEvent.after).where(AuditEvent.action == "delegation.picked")
        ).all()
        assert logged and all(set(after) == {"picked", "rows"} for after in logged)

        assert delegation.save_picks(user(placed.pm_a1), placed.pm_a1.id, round_id, {rows[2]: 1})
        db.session.commit()
        assert db.session.get(DelegationRound, round_id).revealed_at is not None
        current = pages.board_page(user(placed.pm_a1), placed.pm_a1.id).current
        assert current.picks[rows[0]] == {placed.pm_a1.id: 6, placed.manager_a.id: 2}
        assert current.is_far_apart(rows[0]) and current.spread(rows[0]) == 4
        assert not current.is_far_apart(rows[1]) and not current.is_far_apart(rows[2])
        told = db.session.execute(
            select(Notification.recipient_id, Notification.actor_id).where(
                Notification.kind == NotificationKind.DELEGATION_REVEALED
            )
        ).all()
        assert sorted(told) == sorted(
            [(placed.pm_a1.id, placed.manager_a.id), (placed.manager_a.id, placed.pm_a1.id)]
        )
        with pytest.raises(ValidationError):  # no picking after the reveal
            delegation.save_picks(user(placed.pm_a1), placed.pm_a1.id, round_id, {rows[0]: 1})


def test_a_pick_must_be_a_level_and_only_players_pick(app, placed):
    with app.app_context():
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
        started = delegation.start_round(user(placed.pm_a1), placed.pm_a1.id)
        rows = row_ids(placed.pm_a1)
        for bad in ("0", "8", "x"):
            with pytest.raises(ValidationError) as refused:
                delegation.save_picks(
                    user(placed.pm_a1), placed.pm_a1.id, started.id, {rows[0]: bad}
                )
            assert refused.value.field == f"pick-{rows[0]}"
        for outsider in (placed.head, placed.pm_a2, placed.manager_b):
            with pytest.raises(NotFoundError):
                delegation.save_picks(user(outsider), placed.pm_a1.id, started.id, {rows[0]: 3})
        with pytest.raises(ValidationError):  # one round at a time
            delegation.start_round(user(placed.manager_a), placed.pm_a1.id)


def test_agreeing_needs_the_reveal_a_note_where_apart_and_conflicts_show_both(app, placed):
    round_id = play(
        app, placed.manager_a, placed.pm_a1, person_levels=[6, 3, 2], manager_levels=[3, 3, 2]
    )
    with app.app_context():
        rows = row_ids(placed.pm_a1)
        with pytest.raises(ValidationError) as refused:
            delegation.agree(
                user(placed.pm_a1), placed.pm_a1.id, round_id, rows[0], 5, "", expected_revision=0
            )
        assert refused.value.field == "note"
        saved = delegation.agree(
            user(placed.pm_a1),
            placed.pm_a1.id,
            round_id,
            rows[0],
            5,
            "Owns the backlog now.",
            expected_revision=0,
        )
        db.session.commit()
        # The manager's page still showed no agreement: their save is a conflict, not a loss.
        with pytest.raises(ConflictError) as conflict:
            delegation.agree(
                user(placed.manager_a),
                placed.pm_a1.id,
                round_id,
                rows[0],
                4,
                "Hm.",
                expected_revision=0,
            )
        assert conflict.value.current["level"] == 5
        assert conflict.value.current["note"] == "Owns the backlog now."
        db.session.rollback()
        again = delegation.agree(
            user(placed.manager_a),
            placed.pm_a1.id,
            round_id,
            rows[0],
            4,
            "Four, for now.",
            expected_revision=saved.revision,
        )
        assert (again.level, again.note) == (4, "Four, for now.")
        with pytest.raises(ValidationError) as early:
            delegation.close_round(user(placed.manager_a), placed.pm_a1.id, round_id)
        assert "2 rows are still open" in early.value.message
        for row_id in rows[1:]:
            delegation.agree(
                user(placed.pm_a1), placed.pm_a1.id, round_id, row_id, 3, "", expected_revision=0
            )
        delegation.close_round(user(placed.pm_a1), placed.pm_a1.id, round_id)
        db.session.commit()
        page = pages.board_page(user(placed.pm_a1), placed.pm_a1.id)
        assert page.current is None and page.closed_rounds == 1
        assert [(r.agreed.level, r.standing, r.difference) for r in page.rows] == [
            (4, "at", 0),
            (3, "below", -2),
            (3, "above", 1),
        ]


def test_history_shows_delegation_widening_over_rounds(app, placed):
    for agreed in ([3, 5, 2], [4, 5, 2], [6, 5, 3]):
        play(
            app,
            placed.manager_a,
            placed.pm_a1,
            person_levels=agreed,
            manager_levels=agreed,
            agree=agreed,
            close=True,
        )
    with app.app_context():
        page = pages.board_page(user(placed.manager_a), placed.pm_a1.id)
        assert [[s.level for s in r.history] for r in page.rows] == [[3, 4, 6], [5], [2, 3]]
        assert [s.round_number for s in page.rows[0].history] == [1, 2, 3]
        panel = pages.panel(
            user(placed.manager_a), db.session.get(type(user(placed.pm_a1)), placed.pm_a1.id)
        )
        assert (panel.above, panel.at, panel.below, panel.closed_rounds) == (2, 1, 0, 3)


def test_home_lists_rounds_waiting_for_picks_or_agreement(app, placed):
    with app.app_context():
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
        started = delegation.start_round(user(placed.manager_a), placed.pm_a1.id)
        db.session.commit()
        waiting = pages.waiting_for(user(placed.pm_a1))
        assert [(w.person_id, w.is_revealed, w.picked, w.rows) for w in waiting] == [
            (placed.pm_a1.id, False, 0, 3)
        ]
        rows = row_ids(placed.pm_a1)
        delegation.save_picks(
            user(placed.pm_a1), placed.pm_a1.id, started.id, dict.fromkeys(rows, 4)
        )
        db.session.commit()
        assert pages.waiting_for(user(placed.pm_a1)) == []  # done: waiting for the manager
        assert len(pages.waiting_for(user(placed.manager_a))) == 1
        assert pages.waiting_for(user(placed.head)) == []  # reads, does not play
        delegation.save_picks(
            user(placed.manager_a), placed.pm_a1.id, started.id, dict.fromkeys(rows, 4)
        )
        db.session.commit()
        assert [w.is_revealed for w in pages.waiting_for(user(placed.pm_a1))] == [True]


def test_removing_the_last_unpicked_row_reveals_the_round(app, placed):
    with app.app_context():
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
        started = delegation.start_round(user(placed.manager_a), placed.pm_a1.id)
        rows = row_ids(placed.pm_a1)
        delegation.save_picks(
            user(placed.pm_a1), placed.pm_a1.id, started.id, dict.fromkeys(rows, 4)
        )
        delegation.save_picks(
            user(placed.manager_a), placed.pm_a1.id, started.id, dict.fromkeys(rows[:2], 4)
        )
        assert db.session.get(DelegationRound, started.id).revealed_at is None
        delegation.remove_row(user(placed.manager_a), placed.pm_a1.id, rows[2])
        assert db.session.get(DelegationRound, started.id).revealed_at is not None
        with pytest.raises(ValidationError):  # rows stay put while agreeing
            delegation.add_row(user(placed.pm_a1), placed.pm_a1.id, "Late", None)


def test_changing_rows_locks_the_round_before_checking_or_writing(app, placed, monkeypatch):
    """On PostgreSQL the reveal and a row change take turns: add_row and remove_row hold the
    round's lock before they look at its state and before they write anything."""
    with app.app_context():
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
        delegation.start_round(user(placed.manager_a), placed.pm_a1.id)
        db.session.commit()
        seen = []
        real = delegation.open_round

        def spy(board_id, *, lock=False):
            seen.append((lock, bool(db.session.dirty or db.session.new)))
            return real(board_id, lock=lock)

        monkeypatch.setattr(delegation, "open_round", spy)
        delegation.add_row(user(placed.pm_a1), placed.pm_a1.id, "Own", None)
        assert seen[0] == (True, False)
        db.session.commit()
        seen.clear()
        delegation.remove_row(user(placed.pm_a1), placed.pm_a1.id, row_ids(placed.pm_a1)[0])
        assert seen[0] == (True, False)


def test_opening_a_board_locks_the_person_before_looking_for_one(ctx, placed):
    """Two managers' tabs opening at once: the second waits on the person's row and then finds
    the first's board, rather than failing on the unique person."""
    from sqlalchemy import event

    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    lock = next(i for i, s in enumerate(statements) if s.startswith("SELECT users.id \nFROM users"))
    first_board = next(i for i, s in enumerate(statements) if "FROM delegation_boards" in s)
    assert lock < first_board


def test_a_former_manager_s_picks_do_not_count_and_a_stuck_round_can_be_abandoned(app, placed):
    """The manager changes mid-round: the old manager's picks no longer count towards the reveal
    or the spread, and a round left without a second player is abandoned by the person: it
    closes with no agreements, shows as abandoned and a new round can start."""
    with app.app_context():
        delegation.open_board(user(placed.manager_a), placed.pm_a1.id)
        started = delegation.start_round(user(placed.manager_a), placed.pm_a1.id)
        rows = row_ids(placed.pm_a1)
        delegation.save_picks(
            user(placed.manager_a), placed.pm_a1.id, started.id, dict.fromkeys(rows, 7)
        )
        delegation.save_picks(user(placed.pm_a1), placed.pm_a1.id, started.id, {rows[0]: 1})
        user(placed.pm_a1).manager_id = placed.manager_b.id
        db.session.flush()
        delegation.save_picks(
            user(placed.manager_b), placed.pm_a1.id, started.id, dict.fromkeys(rows, 1)
        )
        assert db.session.get(DelegationRound, started.id).revealed_at is None
        assert delegation.save_picks(
            user(placed.pm_a1), placed.pm_a1.id, started.id, dict.fromkeys(rows, 1)
        )
        page = pages.board_page(user(placed.pm_a1), placed.pm_a1.id)
        assert not any(page.current.is_far_apart(r) for r in rows)
        # All at 1 between the current two: no note needed, whatever the old manager picked.
        delegation.agree(
            user(placed.pm_a1), placed.pm_a1.id, started.id, rows[0], 1, "", expected_revision=0
        )
        # The person loses their manager: nobody can finish the round, so it is abandoned.
        user(placed.pm_a1).manager_id = None
        db.session.flush()
        delegation.abandon_round(user(placed.pm_a1), placed.pm_a1.id, started.id)
        db.session.commit()
        page = pages.board_page(user(placed.pm_a1), placed.pm_a1.id)
        assert page.current is None
        assert (page.closed_rounds, page.abandoned_rounds) == (0, 1)
        assert all(not row.history for row in page.rows)
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("delegation.%"))
        ).all()
        assert "delegation.round_abandoned" in actions
        assert "delegation.agreement_dropped" in actions
        user(placed.pm_a1).manager_id = placed.manager_a.id
        db.session.flush()
        assert delegation.start_round(user(placed.manager_a), placed.pm_a1.id).number == 2
