"""Rules about coaching between cycles: 1:1s, growth-plan goals, delegation boards, feedback
and thanks.

The shared content of a 1:1 is the pair's alone: the head of product sees none of it unless
they are one of the two. A private note is its author's alone (the services read them only
through `private_notes_of`). Goals follow growth (the person, their line, their mentors);
boards the reporting line; a feedback answer goes to its requester, and to the requester's
manager once shared.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from app.models import (
    DelegationBoard,
    DelegationPick,
    DelegationRound,
    FeedbackAsk,
    FeedbackRequest,
    Goal,
    OneOnOne,
    PrivateNote,
    Thanks,
    User,
)
from app.policy import lines
from app.policy.rules import matches, rule


@rule("coaching.use", "thanks.give", "feedback.request")
def _signed_in(actor: User, target: Any) -> bool:
    """Everyone has 1:1s to go to, asks for feedback and thanks colleagues."""
    return True


def direct_reports_query(manager_id: int):
    return select(User.id).where(User.manager_id == manager_id)


# 1:1s -------------------------------------------------------------------------------------


def one_on_ones_of(actor: User) -> ColumnElement[bool]:
    """The pairs the actor is one of (oneonone.view): nobody else, the head included."""
    return or_(OneOnOne.lead_id == actor.id, OneOnOne.member_id == actor.id)


@rule("oneonone.view", "oneonone.write", on=OneOnOne, where=one_on_ones_of)
def _in_pair(actor: User, pair: OneOnOne | None) -> bool:
    return pair is None or actor.id in (pair.lead_id, pair.member_id)


def leads_for(actor: User) -> ColumnElement[bool]:
    """Whose 1:1 space the actor may open as the lead (oneonone.open): their direct reports and
    their mentees."""
    return or_(User.manager_id == actor.id, User.id.in_(lines.mentees_of_query(actor.id)))


@rule("oneonone.open", on=User, where=leads_for)
def _may_lead(actor: User, person: User | None) -> bool:
    if person is None:
        return True
    if person.id == actor.id:
        return False
    return person.manager_id == actor.id or matches(person, leads_for(actor))


def private_notes_of(actor: User) -> ColumnElement[bool]:
    """A private note is its author's alone (private_note.view)."""
    return PrivateNote.author_id == actor.id


@rule("private_note.view", on=PrivateNote, where=private_notes_of)
def _own_note(actor: User, note: PrivateNote | None) -> bool:
    return note is None or note.author_id == actor.id


# Growth-plan goals --------------------------------------------------------------------------


def goals_readable_by(viewer: User) -> ColumnElement[bool]:
    """Whose goals the viewer may read (goal.view): as for growth, the person, their managers
    up the line and their mentors."""
    return or_(
        Goal.person_id == viewer.id,
        Goal.person_id.in_(lines.reports_below_query(viewer.id)),
        Goal.person_id.in_(lines.mentees_of_query(viewer.id)),
    )


@rule("goal.view", on=Goal, where=goals_readable_by)
def _can_view_goal(actor: User, goal: Goal | None) -> bool:
    if goal is None or goal.person_id == actor.id:
        return True
    return matches(goal, goals_readable_by(actor))


def goals_editable_by(actor: User) -> ColumnElement[bool]:
    """The goals the actor agrees and updates (goal.edit): their own and their direct
    reports'."""
    return or_(Goal.person_id == actor.id, Goal.person_id.in_(direct_reports_query(actor.id)))


@rule("goal.edit", on=Goal, where=goals_editable_by)
def _can_edit_goal(actor: User, goal: Goal | None) -> bool:
    if goal is None or goal.person_id == actor.id:
        return True
    return matches(goal, goals_editable_by(actor))


def plannable_by(actor: User) -> ColumnElement[bool]:
    """Whose growth plan the actor may add goals to (goal.create): their own, their direct
    reports'."""
    return or_(User.id == actor.id, User.manager_id == actor.id)


@rule("goal.create", on=User, where=plannable_by)
def _can_plan(actor: User, person: User | None) -> bool:
    return person is None or person.id == actor.id or person.manager_id == actor.id


# Delegation boards --------------------------------------------------------------------------


def boards_readable_by(viewer: User) -> ColumnElement[bool]:
    """Whose delegation board the viewer may read (delegation.view): the person's own and their
    managers' up the line."""
    return or_(
        DelegationBoard.person_id == viewer.id,
        DelegationBoard.person_id.in_(lines.reports_below_query(viewer.id)),
    )


@rule("delegation.view", on=DelegationBoard, where=boards_readable_by)
def _can_view_board(actor: User, board: DelegationBoard | None) -> bool:
    if board is None or board.person_id == actor.id:
        return True
    return matches(board, boards_readable_by(actor))


def boards_playable_by(actor: User) -> ColumnElement[bool]:
    """The boards the actor plays on (delegation.play: add rows, pick, agree): the person's
    own and their direct manager's."""
    return or_(
        DelegationBoard.person_id == actor.id,
        DelegationBoard.person_id.in_(direct_reports_query(actor.id)),
    )


@rule("delegation.play", on=DelegationBoard, where=boards_playable_by)
def _can_play(actor: User, board: DelegationBoard | None) -> bool:
    if board is None or board.person_id == actor.id:
        return True
    return matches(board, boards_playable_by(actor))


@rule("delegation.open", on=User, where=lambda actor: User.manager_id == actor.id)
def _can_open_board(actor: User, person: User | None) -> bool:
    """A manager opens a board for a direct report."""
    return person is None or person.manager_id == actor.id


def picks_visible_to(viewer: User) -> ColumnElement[bool]:
    """Which Delegation Poker picks the viewer may see (delegation_pick.view): their own at any
    time; the other player's only once the round is revealed, and only on a board they read."""
    revealed_rounds = (
        select(DelegationRound.id)
        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
        .where(DelegationRound.revealed_at.is_not(None), boards_readable_by(viewer))
    )
    return or_(DelegationPick.picker_id == viewer.id, DelegationPick.round_id.in_(revealed_rounds))


@rule("delegation_pick.view", on=DelegationPick, where=picks_visible_to)
def _can_see_pick(actor: User, pick: DelegationPick | None) -> bool:
    if pick is None or pick.picker_id == actor.id:
        return True
    return matches(pick, picks_visible_to(actor))


# Feedback and thanks ------------------------------------------------------------------------


def feedback_requests_of(actor: User) -> ColumnElement[bool]:
    """A request is its requester's (feedback_request.view)."""
    return FeedbackRequest.requester_id == actor.id


@rule("feedback_request.view", on=FeedbackRequest, where=feedback_requests_of)
def _own_request(actor: User, request: FeedbackRequest | None) -> bool:
    return request is None or request.requester_id == actor.id


def asks_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which asks, and so which answers, the viewer may read (feedback_ask.view): the colleague
    asked, the requester, and the person the requester shared that answer with (their manager
    when they shared it; a later manager does not inherit it)."""
    own_requests = select(FeedbackRequest.id).where(FeedbackRequest.requester_id == viewer.id)
    return or_(
        FeedbackAsk.giver_id == viewer.id,
        FeedbackAsk.request_id.in_(own_requests),
        and_(
            FeedbackAsk.shared_with_manager_at.is_not(None),
            FeedbackAsk.shared_with_id == viewer.id,
        ),
    )


@rule("feedback_ask.view", on=FeedbackAsk, where=asks_readable_by)
def _can_read_ask(actor: User, ask: FeedbackAsk | None) -> bool:
    if ask is None or ask.giver_id == actor.id:
        return True
    return matches(ask, asks_readable_by(actor))


@rule("feedback_ask.answer", on=FeedbackAsk, where=lambda actor: FeedbackAsk.giver_id == actor.id)
def _is_asked(actor: User, ask: FeedbackAsk | None) -> bool:
    return ask is None or ask.giver_id == actor.id


@rule("thanks.view")
def _public(actor: User, thanks: Thanks | None) -> bool:
    """Thanks are public to everyone in the organisation; a linked evidence item still shows
    only to those who may open it (evidence.view)."""
    return True
