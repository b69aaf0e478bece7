"""Delegation boards: the verbs of Delegation Poker between a person and their direct manager.

The manager opens a person's board; its rows start as the decision rights of the person's
level (decision, DACI role, expected delegation level) and either of the two adds rows for
their own recurring decisions. A round: each picks a level 1-7 per row, unseen by the other;
when the second has picked every row the picks are revealed together; they agree a level per
row (a note is required where their picks were two or more apart); the round closes once every
row has an agreed level. Closed rounds are the board's history.

Pick values never reach the audit log before the reveal: a pick is recorded without its level,
and the reveal records every pick of the round at once. Saves that decide the round's state
(picks, agreements, closing) lock the round's row first, so two people finishing at the same
moment on PostgreSQL still reveal it once, and two agreements of one row meet as a conflict.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    DELEGATION_LEVELS,
    DaciRole,
    DecisionRight,
    DelegationAgreement,
    DelegationBoard,
    DelegationPick,
    DelegationRound,
    DelegationRow,
    NotificationKind,
    User,
)
from app.models.base import utcnow
from app.services import audit
from app.services.notifications import notify

DECISION_MAX = 300
NOTE_MAX = 2_000
SPREAD = 2  # picks this far apart (or more) are talked through: the row is highlighted


def level_label(level: int | None) -> str:
    """ "4 Agree", or "" for no level."""
    return f"{level} {DELEGATION_LEVELS[level]}" if level in DELEGATION_LEVELS else ""


# --- reading what the verbs act on ------------------------------------------------------------


def find_board(person_id: int) -> DelegationBoard | None:
    return db.session.scalar(select(DelegationBoard).where(DelegationBoard.person_id == person_id))


def board_of(actor: User, person_id: int, action: str) -> DelegationBoard:
    """The person's board, if the actor may `action` it (else not found, as if it did not
    exist)."""
    board = find_board(person_id)
    if board is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, action, board)
    return board


def players(board: DelegationBoard) -> tuple[int, int | None]:
    """The two who play on the board: the person and their direct manager (None without)."""
    manager_id = db.session.scalar(select(User.manager_id).where(User.id == board.person_id))
    return board.person_id, manager_id


def active_rows(board_id: int) -> list[DelegationRow]:
    return list(
        db.session.scalars(
            select(DelegationRow)
            .where(DelegationRow.board_id == board_id, DelegationRow.removed_at.is_(None))
            .order_by(DelegationRow.position, DelegationRow.id)
        )
    )


def open_round(board_id: int, *, lock: bool = False) -> DelegationRound | None:
    """The board's round not closed yet (there is at most one); `lock` holds its row until the
    transaction ends, so that saves deciding the round's state take turns."""
    query = select(DelegationRound).where(
        DelegationRound.board_id == board_id, DelegationRound.closed_at.is_(None)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _round_to_play(board: DelegationBoard, round_id: int) -> DelegationRound:
    found = open_round(board.id, lock=True)
    if found is None or found.id != round_id:
        raise ValidationError("This round is closed; reload the board to see where it stands.")
    return found


def _lock_board(board: DelegationBoard) -> None:
    """Hold the board's row until the transaction ends: starting a round and changing the rows
    take turns, so that no row changes between the check and the save (on PostgreSQL)."""
    db.session.execute(
        select(DelegationBoard.id).where(DelegationBoard.id == board.id).with_for_update()
    )


def _round_while_rows_change(board: DelegationBoard) -> DelegationRound | None:
    """The open round, locked, refusing a change of rows once its picks are revealed."""
    _lock_board(board)
    current = open_round(board.id, lock=True)
    if current is not None and current.revealed_at is not None:
        raise ValidationError(
            "The picks of this round are revealed: change the rows once the round is closed."
        )
    return current


# --- the board and its rows -------------------------------------------------------------------


def open_board(actor: User, person_id: int) -> DelegationBoard:
    """Open the person's board (their direct manager does), its rows seeded from the decision
    rights of the person's current level. Opening it again gives the board that exists."""
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "delegation.open", person)
    # Two opening at once take turns on the person's row: the second finds the first's board
    # instead of meeting the unique person_id as an error.
    db.session.execute(select(User.id).where(User.id == person.id).with_for_update())
    existing = find_board(person_id)
    if existing is not None:
        return existing
    board = DelegationBoard(person_id=person.id, created_by_id=actor.id)
    db.session.add(board)
    db.session.flush()
    rights = db.session.scalars(
        select(DecisionRight)
        .where(DecisionRight.level_id == person.level_id)
        .order_by(DecisionRight.position, DecisionRight.id)
    ).all()
    for position, right in enumerate(rights):
        db.session.add(
            DelegationRow(
                board_id=board.id,
                position=position,
                decision=right.decision,
                role=right.role,
                expected=right.delegation,
                decision_right_id=right.id,
                added_by_id=actor.id,
            )
        )
    audit.record(
        actor,
        "delegation.board_opened",
        board,
        after={"person_id": person.id, "level_id": person.level_id, "rows": len(rights)},
    )
    db.session.flush()
    return board


def add_row(actor: User, person_id: int, decision: str, role: DaciRole | None) -> DelegationRow:
    """A recurring decision of the two's own: no expectation from the level."""
    board = board_of(actor, person_id, "delegation.play")
    text = " ".join((decision or "").split())
    if not text:
        raise ValidationError(
            "Name the decision, for example “Which customers to interview”.", field="decision"
        )
    if len(text) > DECISION_MAX:
        raise ValidationError(f"Keep the decision to {DECISION_MAX} characters.", field="decision")
    _round_while_rows_change(board)
    last = db.session.scalar(
        select(func.max(DelegationRow.position)).where(DelegationRow.board_id == board.id)
    )
    row = DelegationRow(
        board_id=board.id,
        position=(last if last is not None else -1) + 1,
        decision=text,
        role=role,
        added_by_id=actor.id,
    )
    db.session.add(row)
    audit.record(
        actor,
        "delegation.row_added",
        row,
        after={"board_id": board.id, "decision": text, "role": role.value if role else None},
    )
    return row


def remove_row(actor: User, person_id: int, row_id: int) -> DelegationRow:
    """Take a row off the board; its agreed levels stay in the board's history."""
    board = board_of(actor, person_id, "delegation.play")
    current = _round_while_rows_change(board)  # locked before anything is written
    row = db.session.get(DelegationRow, row_id, populate_existing=True)
    if row is None or row.board_id != board.id or row.removed_at is not None:
        raise NotFoundError("Not found.")
    row.removed_at = utcnow()
    audit.record(actor, "delegation.row_removed", row, after={"decision": row.decision})
    if current is not None:
        db.session.flush()
        _reveal_when_both_picked(actor, board, current)  # the row may have been the last unpicked
    return row


# --- a round ----------------------------------------------------------------------------------


def start_round(actor: User, person_id: int) -> DelegationRound:
    """Start the next round of Delegation Poker: both pick a level for every row."""
    board = board_of(actor, person_id, "delegation.play")
    _lock_board(board)
    if open_round(board.id) is not None:
        raise ValidationError("A round is open already: finish it before starting another.")
    if not active_rows(board.id):
        raise ValidationError("Add a decision to the board before starting a round.")
    person_id_, manager_id = players(board)
    if manager_id is None:
        raise ValidationError("Delegation Poker needs two: this person has no manager.")
    last = db.session.scalar(
        select(func.max(DelegationRound.number)).where(DelegationRound.board_id == board.id)
    )
    started = DelegationRound(board_id=board.id, number=(last or 0) + 1, opened_by_id=actor.id)
    db.session.add(started)
    audit.record(actor, "delegation.round_started", started, after={"board_id": board.id})
    other = manager_id if actor.id == person_id_ else person_id_
    notify(
        [other], NotificationKind.DELEGATION_ROUND_OPENED, actor_id=actor.id, round_id=started.id
    )
    return started


def _level(value, *, field: str) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if level not in DELEGATION_LEVELS:
        raise ValidationError("Choose a level from 1 (Tell) to 7 (Delegate).", field=field)
    return level


def save_picks(
    actor: User, person_id: int, round_id: int, picks: dict[int, str | int | None]
) -> bool:
    """The actor's secret picks, a level per row (an empty value takes a pick back). True when
    this save revealed the round: both have now picked every row."""
    board = board_of(actor, person_id, "delegation.play")
    current = _round_to_play(board, round_id)
    if current.revealed_at is not None:
        raise ValidationError("The picks of this round are revealed already: agree a level now.")
    rows = {row.id: row for row in active_rows(board.id)}
    unknown = set(picks) - set(rows)
    if unknown:
        raise ValidationError("A decision on this form is no longer on the board; reload it.")
    levels = {
        row_id: _level(value, field=f"pick-{row_id}")
        for row_id, value in picks.items()
        if value not in (None, "")
    }
    mine = {
        pick.row_id: pick
        for pick in db.session.scalars(
            select(DelegationPick).where(
                DelegationPick.round_id == current.id, DelegationPick.picker_id == actor.id
            )
        )
    }
    for row_id in picks:
        pick, level = mine.get(row_id), levels.get(row_id)
        if level is None and pick is not None:
            db.session.delete(pick)
        elif pick is None and level is not None:
            db.session.add(
                DelegationPick(round_id=current.id, row_id=row_id, picker_id=actor.id, level=level)
            )
        elif pick is not None and pick.level != level:
            pick.level, pick.picked_at = level, utcnow()
    db.session.flush()
    picked = db.session.scalar(
        select(func.count(DelegationPick.id)).where(
            DelegationPick.round_id == current.id,
            DelegationPick.picker_id == actor.id,
            DelegationPick.row_id.in_(rows),
        )
    )
    # The level of a pick stays out of the log until the reveal records them all.
    audit.record(actor, "delegation.picked", current, after={"picked": picked, "rows": len(rows)})
    return _reveal_when_both_picked(actor, board, current)


def _reveal_when_both_picked(actor: User, board: DelegationBoard, current: DelegationRound) -> bool:
    """Reveal the round once the person and their manager have each picked every row."""
    if current.revealed_at is not None:
        return False
    person_id, manager_id = players(board)
    row_ids = {row.id for row in active_rows(board.id)}
    if manager_id is None or not row_ids:
        return False
    picks: dict[int, dict[int, int]] = defaultdict(dict)
    for row_id, picker_id, level in db.session.execute(
        select(DelegationPick.row_id, DelegationPick.picker_id, DelegationPick.level).where(
            DelegationPick.round_id == current.id, DelegationPick.row_id.in_(row_ids)
        )
    ):
        picks[picker_id][row_id] = level
    if any(set(picks.get(player, {})) != row_ids for player in (person_id, manager_id)):
        return False
    current.revealed_at = utcnow()
    audit.record(
        actor,
        "delegation.round_revealed",
        current,
        after={
            "picks": {
                str(row_id): {
                    "person": picks[person_id][row_id],
                    "manager": picks[manager_id][row_id],
                }
                for row_id in sorted(row_ids)
            }
        },
    )
    # Both players hear of the reveal, the actor included (they may have revealed it by
    # removing a row, not by picking); each notice names the other player as its actor, so
    # nobody's inbox shows them as the actor of their own notice.
    other = manager_id if actor.id == person_id else person_id
    for recipient, who in ((other, actor.id), (actor.id, other)):
        if recipient != who:
            notify(
                [recipient],
                NotificationKind.DELEGATION_REVEALED,
                actor_id=who,
                round_id=current.id,
            )
    return True


def agree(
    actor: User,
    person_id: int,
    round_id: int,
    row_id: int,
    level,
    note: str,
    *,
    expected_revision: int,
) -> DelegationAgreement:
    """The level the two agreed for a row in the revealed round, with their note. A save made
    from a page that did not show the latest agreement is a conflict (both values shown)."""
    board = board_of(actor, person_id, "delegation.play")
    current = _round_to_play(board, round_id)
    if current.revealed_at is None:
        raise ValidationError("Agree a level once both of you have picked every row.")
    row = db.session.get(DelegationRow, row_id)
    if row is None or row.board_id != board.id or row.removed_at is not None:
        raise NotFoundError("Not found.")
    agreed = _level(level, field="level")
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise ValidationError(f"Keep the note to {NOTE_MAX:,} characters.", field="note")
    existing = db.session.scalar(
        select(DelegationAgreement).where(
            DelegationAgreement.round_id == current.id, DelegationAgreement.row_id == row.id
        )
    )
    if (existing.revision if existing else 0) != expected_revision:
        raise ConflictError(
            "The other player saved an agreement for this row meanwhile.",
            current=agreement_values(existing),
        )
    spread = _spread(current.id, row.id, players(board))
    if spread >= SPREAD and not text:
        raise ValidationError(
            f"Your picks were {spread} levels apart: say in the note why you settled here.",
            field="note",
        )
    before = agreement_values(existing) if existing else None
    if existing is None:
        existing = DelegationAgreement(round_id=current.id, row_id=row.id, level=agreed)
        db.session.add(existing)
    existing.level, existing.note = agreed, text
    existing.agreed_by_id, existing.agreed_at = actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor, "delegation.agreed", existing, before=before, after=agreement_values(existing)
    )
    return existing


def agreement_values(agreement: DelegationAgreement | None) -> dict:
    if agreement is None:
        return {"level": None, "note": "", "agreed_by_id": None}
    return {
        "level": agreement.level,
        "note": agreement.note,
        "agreed_by_id": agreement.agreed_by_id,
    }


def _spread(round_id: int, row_id: int, player_ids: tuple[int, int | None]) -> int:
    """How far apart the current players' picks are (a former manager's pick does not count)."""
    levels = db.session.scalars(
        select(DelegationPick.level).where(
            DelegationPick.round_id == round_id,
            DelegationPick.row_id == row_id,
            DelegationPick.picker_id.in_([p for p in player_ids if p is not None]),
        )
    ).all()
    return max(levels) - min(levels) if levels else 0


def fingerprint_of(revisions: dict[int, int]) -> str:
    """The agreements a page showed, as "row:revision" pairs: a Close pressed on a page older
    than the latest agreement carries a different one."""
    return ",".join(f"{row_id}:{revision}" for row_id, revision in sorted(revisions.items()))


def _parse_fingerprint(text: str) -> dict[int, int]:
    pairs = {}
    for part in (text or "").split(","):
        row_id, _, revision = part.partition(":")
        if row_id.isdigit() and revision.isdigit():
            pairs[int(row_id)] = int(revision)
    return pairs


def close_round(
    actor: User, person_id: int, round_id: int, *, seen: str | None = None
) -> DelegationRound:
    """Close the round once every row has an agreed level: it becomes the agreed board.
    `seen` is the fingerprint of the agreements on the page the actor closed it from: when
    another agreement was saved since, closing is a conflict naming the rows that changed, so
    nobody seals levels they never saw."""
    board = board_of(actor, person_id, "delegation.play")
    current = _round_to_play(board, round_id)
    if current.revealed_at is None:
        raise ValidationError("The picks are not revealed yet: both pick every row first.")
    active = {row.id: row for row in active_rows(board.id)}
    rows = set(active)
    revisions = dict(
        db.session.execute(
            select(DelegationAgreement.row_id, DelegationAgreement.revision).where(
                DelegationAgreement.round_id == current.id
            )
        ).all()
    )
    agreed = set(revisions)
    if seen is not None and fingerprint_of(revisions) != seen:
        shown = _parse_fingerprint(seen)
        changed = [
            active[row_id].decision
            for row_id in sorted(rows)
            if revisions.get(row_id) != shown.get(row_id)
        ]
        raise ConflictError(
            "Agreements changed since you loaded the board: "
            + "; ".join(changed)
            + ". Look at them, then close the round.",
            current={"changed": changed},
        )
    missing = len(rows - agreed)
    if missing:
        raise ValidationError(
            f"Agree a level for every row first: {missing} "
            f"{'row is' if missing == 1 else 'rows are'} still open."
        )
    current.closed_at = utcnow()
    audit.record(actor, "delegation.round_closed", current, after={"rows": len(rows)})
    person_id_, manager_id = players(board)
    other = manager_id if actor.id == person_id_ else person_id_
    if other is not None and other != actor.id:
        notify(
            [other],
            NotificationKind.DELEGATION_ROUND_CLOSED,
            actor_id=actor.id,
            round_id=current.id,
        )
    return current


def abandon_round(actor: User, person_id: int, round_id: int) -> DelegationRound:
    """Give up the open round (the line changed under it, or it no longer fits): it closes with
    no agreements, so that a new one can start, and stays in the history as abandoned. The
    agreements saved so far are dropped, each one kept in the audit log."""
    board = board_of(actor, person_id, "delegation.play")
    current = _round_to_play(board, round_id)
    dropped = list(
        db.session.scalars(
            select(DelegationAgreement).where(DelegationAgreement.round_id == current.id)
        )
    )
    for agreement in dropped:
        audit.record(
            actor, "delegation.agreement_dropped", agreement, before=agreement_values(agreement)
        )
        db.session.delete(agreement)
    current.closed_at = utcnow()
    audit.record(
        actor,
        "delegation.round_abandoned",
        current,
        after={"revealed": current.revealed_at is not None, "agreements_dropped": len(dropped)},
    )
    return current


from app.services.delegation import notices  # noqa: E402,F401  (registers the inbox's reader)
