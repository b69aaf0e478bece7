"""Read-models of delegation boards: the board page, the person page's panel, the home page's
rounds waiting for you. Each in a fixed number of queries, whatever the rows and rounds.

Picks reach a page only through the policy's filter (delegation_pick.view): before the reveal
that is the viewer's own picks and nothing else, so the other player's picks cannot be shown
by a template, a script or a response that forgets to hide them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import (
    DELEGATION_LEVELS,
    DaciRole,
    DelegationAgreement,
    DelegationBoard,
    DelegationPick,
    DelegationRound,
    DelegationRow,
    Level,
    User,
)
from app.services.delegation import SPREAD, fingerprint_of, level_label

HISTORY_SHOWN = 6  # changes of a row's agreed level shown; earlier ones are counted


@dataclass(frozen=True)
class Step:
    """A row's agreed level from one round on (a change, or the first agreement)."""

    level: int
    round_number: int
    at: datetime


@dataclass(frozen=True)
class Agreement:
    level: int
    note: str
    revision: int
    by_name: str | None
    at: datetime

    @property
    def label(self) -> str:
        return level_label(self.level)


@dataclass(frozen=True)
class Row:
    """A decision on the board, with its agreed level against the level's expectation."""

    id: int
    decision: str
    role: DaciRole | None
    expected: int | None
    agreed: Agreement | None  # from the latest closed round that agreed it
    history: tuple[Step, ...]  # the last changes, oldest first
    earlier: int  # changes before those shown
    is_seeded: bool
    added_by_name: str | None
    removed_at: datetime | None

    @property
    def difference(self) -> int | None:
        """Agreed minus expected (positive: more autonomy than the level expects)."""
        if self.agreed is None or self.expected is None:
            return None
        return self.agreed.level - self.expected

    @property
    def standing(self) -> str | None:
        """ "above", "at" or "below" the level's expectation; None without both."""
        diff = self.difference
        if diff is None:
            return None
        return "above" if diff > 0 else "below" if diff < 0 else "at"

    @property
    def expected_label(self) -> str:
        return level_label(self.expected)


@dataclass(frozen=True)
class Player:
    id: int
    name: str
    picked: int  # rows picked in the open round (a count: never which level)


@dataclass(frozen=True)
class OpenRound:
    """The round being played. `picks` holds what the viewer may see of them: their own, and
    the other's only once revealed."""

    id: int
    number: int
    opened_at: datetime
    revealed_at: datetime | None
    picks: dict[int, dict[int, int]]  # row id → {picker id: level}
    agreements: dict[int, Agreement]  # row id → the agreement saved so far
    players: tuple[Player, ...]
    rows: int

    @property
    def is_revealed(self) -> bool:
        return self.revealed_at is not None

    def done(self, player: Player) -> bool:
        return player.picked >= self.rows

    def spread(self, row_id: int) -> int:
        levels = list(self.picks.get(row_id, {}).values())
        return max(levels) - min(levels) if len(levels) > 1 else 0

    def is_far_apart(self, row_id: int) -> bool:
        return self.is_revealed and self.spread(row_id) >= SPREAD

    @property
    def all_agreed(self) -> bool:
        return self.is_revealed and len(self.agreements) >= self.rows

    @property
    def agreed_fingerprint(self) -> str:
        """What the Close button was pressed on: each agreement's revision (see
        delegation.fingerprint)."""
        return fingerprint_of({row_id: a.revision for row_id, a in self.agreements.items()})


@dataclass(frozen=True)
class BoardPage:
    person_id: int
    person_name: str
    level_title: str | None
    manager_id: int | None
    manager_name: str | None
    viewer_id: int
    is_board: bool
    can_open: bool
    can_play: bool
    rows: list[Row] = field(default_factory=list)
    removed: list[Row] = field(default_factory=list)
    current: OpenRound | None = None
    closed_rounds: int = 0
    abandoned_rounds: int = 0  # closed without agreements
    last_closed_at: datetime | None = None
    levels: tuple[tuple[int, str], ...] = tuple(DELEGATION_LEVELS.items())
    roles: tuple[DaciRole, ...] = tuple(DaciRole)

    @property
    def is_own(self) -> bool:
        return self.person_id == self.viewer_id

    @property
    def is_player(self) -> bool:
        return self.viewer_id in (self.person_id, self.manager_id)

    def counts(self) -> dict[str, int]:
        tally = {"above": 0, "at": 0, "below": 0}
        for row in self.rows:
            if row.standing:
                tally[row.standing] += 1
        return tally

    def player_name(self, player_id: int) -> str:
        if player_id == self.viewer_id:
            return "You"
        if player_id == self.person_id:
            return self.person_name
        return self.manager_name or "Their manager"


def _person(person_id: int) -> tuple[User, str | None, str | None]:
    manager = aliased(User)
    found = db.session.execute(
        select(User, Level.title, manager.name)
        .outerjoin(Level, Level.id == User.level_id)
        .outerjoin(manager, manager.id == User.manager_id)
        .where(User.id == person_id)
    ).one_or_none()
    if found is None:
        raise NotFoundError("Not found.")
    return found[0], found[1], found[2]


def board_page(actor: User, person_id: int) -> BoardPage:
    """The board as the viewer may see it; without a board, the page that offers to open one
    (to the direct manager) or says it is not open yet (to the person)."""
    person, level_title, manager_name = _person(person_id)
    board = db.session.scalar(select(DelegationBoard).where(DelegationBoard.person_id == person_id))
    head = {
        "person_id": person.id,
        "person_name": person.name,
        "level_title": level_title,
        "manager_id": person.manager_id,
        "manager_name": manager_name,
        "viewer_id": actor.id,
    }
    if board is None:
        can_open = policy.can(actor, "delegation.open", person)
        if not (can_open or person.id == actor.id):
            raise NotFoundError("Not found.")
        return BoardPage(**head, is_board=False, can_open=can_open, can_play=False)
    policy.authorize(actor, "delegation.view", board)
    rows, removed = _rows(board.id)
    # A closed round without agreements was abandoned (see delegation.abandon_round).
    agreed = select(DelegationAgreement.id).where(
        DelegationAgreement.round_id == DelegationRound.id
    )
    rounds = db.session.execute(
        select(DelegationRound.closed_at, agreed.exists())
        .where(DelegationRound.board_id == board.id, DelegationRound.closed_at.is_not(None))
        .order_by(DelegationRound.closed_at.desc())
    ).all()
    closed = [closed_at for closed_at, has_agreements in rounds if has_agreements]
    return BoardPage(
        **head,
        is_board=True,
        can_open=False,
        can_play=policy.can(actor, "delegation.play", board),
        rows=rows,
        removed=removed,
        current=_open_round(actor, board.id, person, manager_name, len(rows)),
        closed_rounds=len(closed),
        abandoned_rounds=len(rounds) - len(closed),
        last_closed_at=closed[0] if closed else None,
    )


def _rows(board_id: int) -> tuple[list[Row], list[Row]]:
    """The board's rows (on it, and removed) with their history of agreed levels: two queries."""
    adder = aliased(User)
    found = db.session.execute(
        select(DelegationRow, adder.name)
        .outerjoin(adder, adder.id == DelegationRow.added_by_id)
        .where(DelegationRow.board_id == board_id)
        .order_by(DelegationRow.position, DelegationRow.id)
    ).all()
    steps, latest = _histories(board_id)
    built = [
        Row(
            id=row.id,
            decision=row.decision,
            role=row.role,
            expected=row.expected,
            agreed=latest.get(row.id),
            history=tuple(steps[row.id][-HISTORY_SHOWN:]),
            earlier=max(0, len(steps[row.id]) - HISTORY_SHOWN),
            is_seeded=row.decision_right_id is not None or row.expected is not None,
            added_by_name=name,
            removed_at=row.removed_at,
        )
        for row, name in found
    ]
    return [r for r in built if r.removed_at is None], [r for r in built if r.removed_at]


def _histories(board_id: int) -> tuple[dict[int, list[Step]], dict[int, Agreement]]:
    """Per row: the changes of its agreed level over closed rounds, and the latest agreement."""
    agreer = aliased(User)
    steps: dict[int, list[Step]] = defaultdict(list)
    latest: dict[int, Agreement] = {}
    for agreement, number, closed_at, name in db.session.execute(
        select(DelegationAgreement, DelegationRound.number, DelegationRound.closed_at, agreer.name)
        .join(DelegationRound, DelegationRound.id == DelegationAgreement.round_id)
        .outerjoin(agreer, agreer.id == DelegationAgreement.agreed_by_id)
        .where(DelegationRound.board_id == board_id, DelegationRound.closed_at.is_not(None))
        .order_by(DelegationRound.number)
    ):
        row_steps = steps[agreement.row_id]
        if not row_steps or row_steps[-1].level != agreement.level:
            row_steps.append(Step(agreement.level, number, closed_at))
        latest[agreement.row_id] = _agreement(agreement, name)
    return steps, latest


def _agreement(agreement: DelegationAgreement, name: str | None) -> Agreement:
    return Agreement(
        level=agreement.level,
        note=agreement.note,
        revision=agreement.revision,
        by_name=name,
        at=agreement.agreed_at,
    )


def _open_round(
    actor: User, board_id: int, person: User, manager_name: str | None, rows: int
) -> OpenRound | None:
    found = db.session.scalar(
        select(DelegationRound).where(
            DelegationRound.board_id == board_id, DelegationRound.closed_at.is_(None)
        )
    )
    if found is None:
        return None
    on_board = select(DelegationRow.id).where(
        DelegationRow.board_id == board_id, DelegationRow.removed_at.is_(None)
    )
    # Only the current players' picks count: a former manager's stay in the database only.
    player_ids = [p for p in (person.id, person.manager_id) if p is not None]
    picks: dict[int, dict[int, int]] = defaultdict(dict)
    for row_id, picker_id, level in db.session.execute(
        select(DelegationPick.row_id, DelegationPick.picker_id, DelegationPick.level).where(
            DelegationPick.round_id == found.id,
            DelegationPick.row_id.in_(on_board),
            DelegationPick.picker_id.in_(player_ids),
            policy.where("delegation_pick.view", actor),  # the one rule for whose picks show
        )
    ):
        picks[row_id][picker_id] = level
    counts = dict(
        db.session.execute(
            select(DelegationPick.picker_id, func.count(DelegationPick.id))
            .where(DelegationPick.round_id == found.id, DelegationPick.row_id.in_(on_board))
            .group_by(DelegationPick.picker_id)
        ).all()
    )
    agreer = aliased(User)
    agreements = {
        agreement.row_id: _agreement(agreement, name)
        for agreement, name in db.session.execute(
            select(DelegationAgreement, agreer.name)
            .outerjoin(agreer, agreer.id == DelegationAgreement.agreed_by_id)
            .where(DelegationAgreement.round_id == found.id)
        )
    }
    players = [Player(person.id, person.name, counts.get(person.id, 0))]
    if person.manager_id:
        players.append(
            Player(person.manager_id, manager_name or "", counts.get(person.manager_id, 0))
        )
    return OpenRound(
        id=found.id,
        number=found.number,
        opened_at=found.opened_at,
        revealed_at=found.revealed_at,
        picks=dict(picks),
        agreements=agreements,
        players=tuple(players),
        rows=rows,
    )


# --- the person page's panel and the home page ------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """The person page's "Delegation board" panel."""

    person_id: int
    is_board: bool
    can_open: bool
    above: int = 0
    at: int = 0
    below: int = 0
    rows: int = 0
    round_number: int | None = None
    is_revealed: bool = False
    closed_rounds: int = 0


def panel(actor: User, person: User) -> Panel | None:
    """What the person page shows of the person's board to whoever may read it (or, with no
    board yet, the direct manager's "Open a delegation board"); None for anyone else."""
    board = db.session.scalar(select(DelegationBoard).where(DelegationBoard.person_id == person.id))
    if board is None:
        can_open = policy.can(actor, "delegation.open", person)
        if can_open or person.id == actor.id:
            return Panel(person.id, is_board=False, can_open=can_open)
        return None
    if not policy.can(actor, "delegation.view", board):
        return None
    latest = _latest_agreed(board.id)
    rounds = db.session.execute(
        select(DelegationRound.number, DelegationRound.revealed_at, DelegationRound.closed_at)
        .where(DelegationRound.board_id == board.id)
        .order_by(DelegationRound.number.desc())
        .limit(1)
    ).one_or_none()
    closed = db.session.scalar(
        select(func.count(DelegationRound.id)).where(
            DelegationRound.board_id == board.id, DelegationRound.closed_at.is_not(None)
        )
    )
    diffs = [level - expected for level, expected in latest if expected is not None]
    is_open = rounds is not None and rounds.closed_at is None
    return Panel(
        person.id,
        is_board=True,
        can_open=False,
        above=sum(1 for d in diffs if d > 0),
        at=sum(1 for d in diffs if d == 0),
        below=sum(1 for d in diffs if d < 0),
        rows=len(latest),
        round_number=rounds.number if is_open else None,
        is_revealed=bool(is_open and rounds.revealed_at),
        closed_rounds=closed,
    )


def _latest_agreed(board_id: int) -> list[tuple[int, int | None]]:
    """(agreed level, expected level) of each row on the board, from its latest closed round."""
    closed = (
        select(DelegationAgreement.row_id, func.max(DelegationRound.number).label("number"))
        .join(DelegationRound, DelegationRound.id == DelegationAgreement.round_id)
        .where(DelegationRound.board_id == board_id, DelegationRound.closed_at.is_not(None))
        .group_by(DelegationAgreement.row_id)
        .subquery()
    )
    return list(
        db.session.execute(
            select(DelegationAgreement.level, DelegationRow.expected)
            .join(DelegationRound, DelegationRound.id == DelegationAgreement.round_id)
            .join(DelegationRow, DelegationRow.id == DelegationAgreement.row_id)
            .join(
                closed,
                (closed.c.row_id == DelegationAgreement.row_id)
                & (closed.c.number == DelegationRound.number),
            )
            .where(DelegationRound.board_id == board_id, DelegationRow.removed_at.is_(None))
        ).all()
    )


@dataclass(frozen=True)
class Waiting:
    """A round waiting for the viewer: their picks, or an agreement with the other player."""

    person_id: int
    person_name: str
    round_number: int
    is_revealed: bool
    picked: int
    rows: int


def waiting_for(actor: User) -> list[Waiting]:
    """Open rounds on the boards the viewer plays on that wait for them (one query): picking
    until they have picked every row, agreeing once revealed."""
    on_board = (DelegationRow.board_id == DelegationBoard.id) & DelegationRow.removed_at.is_(None)
    rows = select(func.count(DelegationRow.id)).where(on_board).scalar_subquery()
    picked = (
        select(func.count(DelegationPick.id))
        .join(DelegationRow, DelegationRow.id == DelegationPick.row_id)
        .where(
            DelegationPick.round_id == DelegationRound.id,
            DelegationPick.picker_id == actor.id,
            DelegationRow.removed_at.is_(None),
        )
        .scalar_subquery()
    )
    found = db.session.execute(
        select(
            DelegationBoard.person_id,
            User.name,
            DelegationRound.number,
            DelegationRound.revealed_at,
            picked,
            rows,
        )
        .join(DelegationRound, DelegationRound.board_id == DelegationBoard.id)
        .join(User, User.id == DelegationBoard.person_id)
        .where(DelegationRound.closed_at.is_(None), policy.where("delegation.play", actor))
        .order_by(User.name)
    ).all()
    return [
        Waiting(person_id, name, number, revealed_at is not None, mine, total)
        for person_id, name, number, revealed_at, mine, total in found
        if revealed_at is not None or mine < total
    ]
