"""The coaching part of a person's export: 1:1s, growth-plan goals, the delegation board,
feedback and thanks (docs/personal-data-export.md describes the format).

Each kind of object is read in one query for all of the person's rows (joined on the person, no
IN lists that grow), so an export takes the same number of queries whatever the amount, and
everything is listed in a fixed order. What the person may see of another's writing is the
policy's to say: their own private notes only (private_note.view), the other player's
Delegation Poker picks only once a round is revealed (delegation_pick.view).

Within a 1:1 or a board, who did something is "you" or "them" (the other of the two), so the
file can be imported into the pair again; other people appear by name, except the other person
of a 1:1 pair, whose email lets an import find them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from app import policy
from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    CoachingLink,
    DelegationAgreement,
    DelegationBoard,
    DelegationPick,
    DelegationRound,
    DelegationRow,
    Evidence,
    FeedbackAsk,
    FeedbackRequest,
    Framework,
    Goal,
    Level,
    Meeting,
    OneOnOne,
    PrivateNote,
    Thanks,
    User,
)
from app.models.goals import goal_evidence
from app.services.personal_data.naming import slug


def when(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _day(moment) -> str | None:
    return moment.isoformat() if moment else None


def _by(user_id: int | None, person_id: int) -> str | None:
    if user_id is None:
        return None
    return "you" if user_id == person_id else "them"


def sections(person: User, places: dict[int, int]) -> dict[str, Any]:
    """The coaching sections of the export; `places` maps the person's evidence ids to their
    place (from 1) in the export's evidence list, which is how goals and agenda items point at
    them."""
    goals, goal_places = _goals(person, places)
    return {
        "one_on_ones": _one_on_ones(person, places, goal_places),
        "goals": goals,
        "delegation_board": _board(person),
        "feedback_requests": _feedback_requests(person),
        "thanks_received": _thanks_received(person, places),
    }


def contributions(person: User) -> dict[str, list]:
    """What the person did on other people's coaching objects."""
    return {
        "feedback_given": _feedback_given(person),
        "thanks_given": _thanks_given(person),
        **_board_contributions(person),
    }


# --- 1:1s ---------------------------------------------------------------------------------------


def _one_on_ones(person: User, places: dict[int, int], goal_places: dict[int, int]) -> list:
    mine = policy.where("oneonone.view", person)
    other = aliased(User)
    other_id = func.coalesce(
        func.nullif(OneOnOne.lead_id, person.id), func.nullif(OneOnOne.member_id, person.id)
    )
    pairs = db.session.execute(
        select(OneOnOne, other.name, other.email)
        .outerjoin(other, other.id == other_id)
        .where(mine)
        .order_by(OneOnOne.created_at, OneOnOne.id)
    ).all()
    meetings = _grouped(
        select(Meeting)
        .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
        .where(mine)
        .order_by(Meeting.starts_at, Meeting.id),
        "one_on_one_id",
    )
    agenda = _grouped(
        select(AgendaItem)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
        .where(mine)
        .order_by(AgendaItem.position, AgendaItem.id),
        "meeting_id",
    )
    notes = {
        note.meeting_id: note
        for note in db.session.execute(
            select(PrivateNote)
            .join(Meeting, Meeting.id == PrivateNote.meeting_id)
            .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
            .where(mine, policy.where("private_note.view", person))
        ).scalars()
    }
    actions = _grouped(
        select(ActionItem)
        .join(OneOnOne, OneOnOne.id == ActionItem.one_on_one_id)
        .where(mine)
        .order_by(ActionItem.created_at, ActionItem.id),
        "one_on_one_id",
    )
    links = _agenda_links(person, mine, places, goal_places)
    exported = []
    for pair, name, email in pairs:
        listed = meetings[pair.id]
        numbers = {meeting.id: n for n, meeting in enumerate(listed, start=1)}
        exported.append(
            {
                "with": {"name": name, "email": email},
                "you_are": "lead" if pair.lead_id == person.id else "member",
                "kind": pair.kind.value,
                "cadence": pair.cadence.value,
                "created_at": when(pair.created_at),
                "markdown_file": f"one-on-ones/{_file_stem(name)}-{pair.id}.md",
                "meetings": [
                    _meeting(m, person.id, agenda[m.id], notes.get(m.id), links) for m in listed
                ],
                "action_items": [_action(a, person.id, numbers) for a in actions[pair.id]],
            }
        )
    return exported


def _file_stem(name: str | None) -> str:
    return slug(name or "someone")


def _meeting(meeting: Meeting, person_id: int, agenda: list, note, links) -> dict[str, Any]:
    return {
        "starts_at": when(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes,
        "created_by": _by(meeting.created_by_id, person_id),
        "updated_at": when(meeting.updated_at),
        "agenda": [
            {
                "text": item.text,
                "by": _by(item.author_id, person_id),
                "discussed": item.is_discussed,
                "created_at": when(item.created_at),
                "links": links[item.id],
            }
            for item in agenda
        ],
        "shared_notes": meeting.shared_notes,
        "your_private_notes": (
            {"body": note.body, "updated_at": when(note.updated_at)} if note else None
        ),
    }


def _action(action: ActionItem, person_id: int, numbers: dict[int, int]) -> dict[str, Any]:
    return {
        "text": action.text,
        "owner": _by(action.owner_id, person_id),
        "due_on": _day(action.due_on),
        "done_at": when(action.done_at),
        "raised_in": numbers.get(action.raised_in_id),
        "done_in": numbers.get(action.done_in_id),
        "created_by": _by(action.created_by_id, person_id),
        "created_at": when(action.created_at),
    }


def _agenda_links(person: User, mine, places, goal_places) -> dict[int, list]:
    """What each agenda item is about. The person's own evidence and goals by their place in
    this export; another's by owner, with the title or competency only while the person may
    read the item or goal (a private draft or an item in the Trash stays its owner's)."""
    owner = aliased(User)
    owner_id = func.coalesce(Evidence.owner_id, Goal.person_id, DelegationBoard.person_id)
    title = case((policy.where("evidence.view", person), Evidence.title), else_=None)
    goal_key = case((policy.where("goal.view", person), Goal.competency_key), else_=None)
    rows = db.session.execute(
        select(CoachingLink, title, goal_key, owner.name, owner.id, Framework.slug)
        .join(AgendaItem, AgendaItem.id == CoachingLink.agenda_item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
        .outerjoin(Evidence, Evidence.id == CoachingLink.evidence_id)
        .outerjoin(Goal, Goal.id == CoachingLink.goal_id)
        .outerjoin(DelegationBoard, DelegationBoard.id == CoachingLink.board_id)
        .outerjoin(owner, owner.id == owner_id)
        .outerjoin(Framework, Framework.id == CoachingLink.framework_id)
        .where(mine)
        .order_by(CoachingLink.id)
    ).all()
    grouped: dict[int, list] = defaultdict(list)
    for link, title, goal_key, owner_name, owner_id_, framework in rows:
        yours = owner_id_ == person.id
        if link.competency_key is not None:
            target = {"competency": {"framework": framework or "", "key": link.competency_key}}
        elif link.evidence_id is not None:
            target = (
                {"evidence": places.get(link.evidence_id)}
                if yours
                else {"evidence_of": owner_name, **({"title": title} if title else {})}
            )
        elif link.goal_id is not None:
            target = (
                {"goal": goal_places.get(link.goal_id)}
                if yours
                else {"goal_of": owner_name, **({"competency": goal_key} if goal_key else {})}
            )
        else:
            target = {"delegation_board_of": "you" if yours else owner_name}
        grouped[link.agenda_item_id].append(target)
    for targets in grouped.values():  # by content: the same links list the same way anywhere
        targets.sort(key=lambda target: json.dumps(target, sort_keys=True))
    return grouped


# --- goals --------------------------------------------------------------------------------------


def _goals(person: User, places: dict[int, int]) -> tuple[list, dict[int, int]]:
    creator, agreer = aliased(User), aliased(User)
    rows = db.session.execute(
        select(Goal, Framework.slug, Level.code, creator.name, agreer.name)
        .join(Framework, Framework.id == Goal.framework_id)
        .outerjoin(Level, Level.id == Goal.target_level_id)
        .outerjoin(creator, creator.id == Goal.created_by_id)
        .outerjoin(agreer, agreer.id == Goal.agreed_by_id)
        .where(Goal.person_id == person.id)
        .order_by(Goal.created_at, Goal.id)
    ).all()
    linked: dict[int, list] = defaultdict(list)
    for goal_id, evidence_id in db.session.execute(
        select(goal_evidence.c.goal_id, goal_evidence.c.evidence_id)
        .join(Goal, Goal.id == goal_evidence.c.goal_id)
        .where(Goal.person_id == person.id)
    ).all():
        if evidence_id in places:  # goals link their person's own evidence
            linked[goal_id].append(places[evidence_id])
    goal_places = {goal.id: n for n, (goal, *_rest) in enumerate(rows, start=1)}
    goals = [
        {
            "framework": framework,
            "competency": goal.competency_key,
            "target_level": level,
            "change": goal.change,
            "measure": goal.measure,
            "target_on": _day(goal.target_on),
            "status": goal.status.value,
            "dropped_reason": goal.dropped_reason,
            "outcome": goal.outcome,
            "created_by": created_by,
            "agreed_by": agreed_by,
            "agreed_at": when(goal.agreed_at),
            "created_at": when(goal.created_at),
            "updated_at": when(goal.updated_at),
            "closed_at": when(goal.closed_at),
            "evidence": sorted(linked[goal.id]),
        }
        for goal, framework, level, created_by, agreed_by in rows
    ]
    return goals, goal_places


# --- delegation ---------------------------------------------------------------------------------


def _board(person: User) -> dict[str, Any] | None:
    mine = DelegationBoard.person_id == person.id
    opener = aliased(User)
    found = db.session.execute(
        select(DelegationBoard, opener.name)
        .outerjoin(opener, opener.id == DelegationBoard.created_by_id)
        .where(mine)
    ).first()
    if found is None:
        return None
    board, opened_by = found
    rows = list(
        db.session.execute(
            select(DelegationRow)
            .join(DelegationBoard, DelegationBoard.id == DelegationRow.board_id)
            .where(mine)
            .order_by(DelegationRow.position, DelegationRow.id)
        ).scalars()
    )
    numbers = {row.id: n for n, row in enumerate(rows, start=1)}
    rounds = list(
        db.session.execute(
            select(DelegationRound)
            .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
            .where(mine)
            .order_by(DelegationRound.number)
        ).scalars()
    )
    picks = _grouped(
        select(DelegationPick)
        .join(DelegationRound, DelegationRound.id == DelegationPick.round_id)
        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
        .where(mine, policy.where("delegation_pick.view", person))
        .order_by(DelegationPick.row_id, DelegationPick.picker_id != person.id, DelegationPick.id),
        "round_id",
    )
    agreements = _grouped(
        select(DelegationAgreement)
        .join(DelegationRound, DelegationRound.id == DelegationAgreement.round_id)
        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
        .where(mine)
        .order_by(DelegationAgreement.row_id, DelegationAgreement.id),
        "round_id",
    )
    return {
        "opened_by": opened_by,
        "created_at": when(board.created_at),
        "rows": [
            {
                "decision": row.decision,
                "daci_role": row.role.value if row.role else None,
                "expected": row.expected,
                "from_framework": row.decision_right_id is not None,
                "added_by": _by(row.added_by_id, person.id),
                "created_at": when(row.created_at),
                "removed_at": when(row.removed_at),
            }
            for row in rows
        ],
        "rounds": [
            _round(played, picks[played.id], agreements[played.id], numbers, person.id)
            for played in rounds
        ],
    }


def _round(played, picks, agreements, numbers, person_id) -> dict[str, Any]:
    return {
        "number": played.number,
        "opened_by": _by(played.opened_by_id, person_id),
        "opened_at": when(played.opened_at),
        "revealed_at": when(played.revealed_at),
        "closed_at": when(played.closed_at),
        "picks": [
            {
                "row": numbers.get(pick.row_id),
                "by": _by(pick.picker_id, person_id),
                "level": pick.level,
                "picked_at": when(pick.picked_at),
            }
            for pick in picks
        ],
        "agreements": [
            {
                "row": numbers.get(agreed.row_id),
                "level": agreed.level,
                "note": agreed.note,
                "agreed_by": _by(agreed.agreed_by_id, person_id),
                "agreed_at": when(agreed.agreed_at),
            }
            for agreed in agreements
        ],
    }


def _board_contributions(person: User) -> dict[str, list]:
    """As a manager: the picks and agreements the person made on other people's boards."""
    others = DelegationBoard.person_id != person.id
    picks = db.session.execute(
        select(DelegationPick, DelegationRound.number, DelegationRow.decision, User.name)
        .join(DelegationRound, DelegationRound.id == DelegationPick.round_id)
        .join(DelegationRow, DelegationRow.id == DelegationPick.row_id)
        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
        .join(User, User.id == DelegationBoard.person_id)
        .where(DelegationPick.picker_id == person.id, others)
        .order_by(DelegationPick.picked_at, DelegationPick.id)
    ).all()
    agreements = db.session.execute(
        select(DelegationAgreement, DelegationRound.number, DelegationRow.decision, User.name)
        .join(DelegationRound, DelegationRound.id == DelegationAgreement.round_id)
        .join(DelegationRow, DelegationRow.id == DelegationAgreement.row_id)
        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
        .join(User, User.id == DelegationBoard.person_id)
        .where(DelegationAgreement.agreed_by_id == person.id, others)
        .order_by(DelegationAgreement.agreed_at, DelegationAgreement.id)
    ).all()
    return {
        "delegation_picks": [
            {
                "board_of": name,
                "round": number,
                "decision": decision,
                "level": pick.level,
                "picked_at": when(pick.picked_at),
            }
            for pick, number, decision, name in picks
        ],
        "delegation_agreements": [
            {
                "board_of": name,
                "round": number,
                "decision": decision,
                "level": agreed.level,
                "note": agreed.note,
                "agreed_at": when(agreed.agreed_at),
            }
            for agreed, number, decision, name in agreements
        ],
    }


# --- feedback and thanks ------------------------------------------------------------------------


def _feedback_requests(person: User) -> list:
    requests = db.session.execute(
        select(FeedbackRequest, Framework.slug)
        .outerjoin(Framework, Framework.id == FeedbackRequest.framework_id)
        .where(FeedbackRequest.requester_id == person.id)
        .order_by(FeedbackRequest.created_at, FeedbackRequest.id)
    ).all()
    asks: dict[int, list] = defaultdict(list)
    for ask, name, email in db.session.execute(
        select(FeedbackAsk, User.name, User.email)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .join(User, User.id == FeedbackAsk.giver_id)
        .where(FeedbackRequest.requester_id == person.id)
        .order_by(User.name, FeedbackAsk.id)
    ).all():
        asks[ask.request_id].append({"from": {"name": name, "email": email}, **_answer(ask)})
    return [
        {
            "framework": framework,
            "competencies": list(request.competency_keys or []),
            "message": request.message,
            "due_on": _day(request.due_on),
            "created_at": when(request.created_at),
            "asked": asks[request.id],
        }
        for request, framework in requests
    ]


def _answer(ask: FeedbackAsk) -> dict[str, Any]:
    return {
        "status": ask.status.value,
        "situation": ask.situation,
        "behaviour": ask.behaviour,
        "impact": ask.impact,
        "answered_at": when(ask.answered_at),
        "shared_with_manager_at": when(ask.shared_with_manager_at),
    }


def _feedback_given(person: User) -> list:
    rows = db.session.execute(
        select(FeedbackAsk, FeedbackRequest.created_at, User.name)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .join(User, User.id == FeedbackRequest.requester_id)
        .where(FeedbackAsk.giver_id == person.id)
        .order_by(FeedbackRequest.created_at, FeedbackAsk.id)
    ).all()
    return [
        {"for": name, "requested_at": when(requested_at), **_answer(ask)}
        for ask, requested_at, name in rows
    ]


def _thanks_received(person: User, places: dict[int, int]) -> list:
    rows = db.session.execute(
        select(Thanks, User.name)
        .join(User, User.id == Thanks.giver_id)
        .where(Thanks.recipient_id == person.id)
        .order_by(Thanks.created_at, Thanks.id)
    ).all()
    return [
        {
            "from": name,
            "message": thanks.message,
            "evidence": places.get(thanks.evidence_id),
            "created_at": when(thanks.created_at),
        }
        for thanks, name in rows
    ]


def _thanks_given(person: User) -> list:
    rows = db.session.execute(
        select(Thanks, User.name)
        .join(User, User.id == Thanks.recipient_id)
        .where(Thanks.giver_id == person.id)
        .order_by(Thanks.created_at, Thanks.id)
    ).all()
    return [
        {"to": name, "message": thanks.message, "created_at": when(thanks.created_at)}
        for thanks, name in rows
    ]


# --- summary and Markdown -----------------------------------------------------------------------


def counts(person: User) -> dict[str, int]:
    """How many of each the export will hold, in one query."""
    mine = policy.where("oneonone.view", person)
    pairs = select(func.count(OneOnOne.id)).where(mine).scalar_subquery()
    meetings = (
        select(func.count(Meeting.id))
        .join(OneOnOne, OneOnOne.id == Meeting.one_on_one_id)
        .where(mine)
        .scalar_subquery()
    )
    goals = select(func.count(Goal.id)).where(Goal.person_id == person.id).scalar_subquery()
    rounds = (
        select(func.count(DelegationRound.id))
        .join(DelegationBoard, DelegationBoard.id == DelegationRound.board_id)
        .where(DelegationBoard.person_id == person.id)
        .scalar_subquery()
    )
    requests = (
        select(func.count(FeedbackRequest.id))
        .where(FeedbackRequest.requester_id == person.id)
        .scalar_subquery()
    )
    thanks = select(func.count(Thanks.id)).where(Thanks.recipient_id == person.id).scalar_subquery()
    row = db.session.execute(select(pairs, meetings, goals, rounds, requests, thanks)).one()
    keys = ("one_on_ones", "meetings", "goals", "rounds", "feedback_requests", "thanks")
    return dict(zip(keys, (int(n) for n in row), strict=True))


def pair_markdown(pair: dict[str, Any]) -> str:
    """One 1:1 pair as Markdown: each meeting's agenda, shared notes and the person's own
    private notes, then the action items."""
    other = pair["with"]
    lines = [
        f"# 1:1 with {other['name'] or 'someone no longer in Rungs'}",
        "",
        f"You are the {pair['you_are']} ({pair['kind']}); cadence: {pair['cadence']}.",
    ]
    for number, meeting in enumerate(pair["meetings"], start=1):
        lines += ["", f"## Meeting {number}: {meeting['starts_at']}", "", "### Agenda", ""]
        lines += [
            f"- [{'x' if item['discussed'] else ' '}] {item['text']} ({item['by'] or 'someone'})"
            for item in meeting["agenda"]
        ] or ["(none)"]
        lines += ["", "### Shared notes", "", meeting["shared_notes"] or "(none)"]
        if meeting["your_private_notes"]:
            lines += ["", "### Your private notes", "", meeting["your_private_notes"]["body"]]
    lines += ["", "## Action items", ""]
    lines += [
        f"- [{'x' if a['done_at'] else ' '}] {a['text']} (owner: {a['owner'] or 'nobody'}"
        f"{', due ' + a['due_on'] if a['due_on'] else ''})"
        for a in pair["action_items"]
    ] or ["(none)"]
    return "\n".join(lines) + "\n"


def _grouped(statement, key: str) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in db.session.execute(statement).scalars():
        grouped[getattr(row, key)].append(row)
    return grouped
