"""Coaching between cycles for the demo organisation: four months of Daniel's fortnightly 1:1s
with his reports and Lena's monthly mentoring of Kwame, growth-plan goals toward the next level,
delegation boards with Delegation Poker rounds, feedback requests, thanks and shared lessons.

Every step goes through the services the pages use, taken by the person who would take it, so
every rule holds (who may write what, agreeing, revealing, notifying). Afterwards the dates are
set back to when each thing happened, relative to the day of loading, so that the demo reads as
a season of work: past meetings over the last four months, and nothing in the future but the
next meetings and due dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from app.demo.coaching_texts import (
    EXTRA_ROWS,
    GENERIC,
    GOALS,
    KWAME_MENTORING,
    LENA,
    NOTES,
    ROUNDS,
    THANKS,
    UPCOMING,
    GoalPlan,
    Topic,
)
from app.extensions import db
from app.models import (
    ActionItem,
    DelegationAgreement,
    DelegationPick,
    DelegationRound,
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    FeedbackAsk,
    FeedbackRequest,
    Goal,
    GoalStatus,
    Meeting,
    Notification,
    OneOnOne,
    Thanks,
    User,
)
from app.models.base import utcnow
from app.services import delegation, goals
from app.services.feedback import asks, lessons, thanks
from app.services.oneonones import content, spaces

MANAGER = "Daniel Brandt"
REPORTS = ("Lena Fischer", "Sofia Marquez", "Kwame Mensah")
MENTOR, MENTEE = "Lena Fischer", "Kwame Mensah"
PAST_FORTNIGHTLY = 8  # about four months of meetings every other week
PAST_MONTHLY = 4


def load(today: date | None = None) -> list[str]:
    """Add the parts of the coaching demo that are not in Rungs yet; their names."""
    people = {u.name: u for u in db.session.scalars(select(User))}
    if not all(name in people for name in (MANAGER, *REPORTS)):
        return []
    now = datetime.combine(today or utcnow().date(), time(12), tzinfo=UTC)
    mark = db.session.scalar(select(func.max(Notification.id))) or 0
    loaded = []
    made_goals = _goals(people, now)
    if made_goals:
        loaded.append("goals")
    if _boards(people, now):
        loaded.append("delegation")
    if _one_on_ones(people, now, made_goals):
        loaded.append("1:1s")
    if _feedback(people, now):
        loaded.append("feedback")
    if _thanks(people, now):
        loaded.append("thanks")
    if _lessons(people, now):
        loaded.append("lessons")
    if loaded:
        _date_notices(mark)
    return loaded


def _days(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


# --- goals ------------------------------------------------------------------------------------


def _goals(people: dict[str, User], now: datetime) -> dict[str, list[Goal]]:
    """The growth plans of the PMs who have no goal yet; their goals by person."""
    names = sorted({plan.person for plan in GOALS})
    have = set(
        db.session.scalars(
            select(Goal.person_id).where(Goal.person_id.in_([people[n].id for n in names]))
        )
    )
    made: dict[str, list[Goal]] = {}
    for plan in GOALS:
        person = people[plan.person]
        if person.id in have or person.manager_id is None:
            continue
        made.setdefault(plan.person, []).append(_goal(people, person, plan, now))
    return made


def _goal(people: dict[str, User], person: User, plan: GoalPlan, now: datetime) -> Goal:
    proposer = people[plan.proposed_by]
    other = people[MANAGER] if proposer.id == person.id else person
    data = goals.GoalInput(
        competency_key=plan.competency,
        change=plan.change,
        measure=plan.measure,
        target_on=(now + timedelta(days=120)).date()
        if plan.status is not GoalStatus.DONE
        else None,
    )
    goal = goals.create_goal(proposer, person.id, data)
    created = _days(now, plan.days_ago)
    if plan.agreed:
        goals.agree_goal(other, goal, expected_revision=goal.revision)
    for item in _items(person.id, plan.competency, plan.evidence):
        goals.link_evidence(person, goal, item)
    if plan.status is not GoalStatus.NOT_STARTED:
        goals.set_status(person, goal, GoalStatus.IN_PROGRESS, expected_revision=goal.revision)
    if plan.status in (GoalStatus.DONE, GoalStatus.DROPPED):
        goals.set_status(
            other if plan.status is GoalStatus.DROPPED else person,
            goal,
            plan.status,
            note=plan.note,
            expected_revision=goal.revision,
        )
    goal.created_at = created
    goal.agreed_at = created + timedelta(days=2) if plan.agreed else None
    goal.updated_at = _days(now, max(plan.days_ago // 4, 1))
    if goal.closed_at is not None:
        goal.closed_at = _days(now, 20 if plan.status is GoalStatus.DONE else 60)
    db.session.flush()
    return goal


def _items(person_id: int, competency: str, count: int) -> list[int]:
    """Ids of the person's newest shared items, those tagged with the competency first."""
    if not count:
        return []
    tagged = set(
        db.session.scalars(
            select(EvidenceCompetency.evidence_id).where(
                EvidenceCompetency.competency_key == competency
            )
        )
    )
    ids = db.session.scalars(
        select(Evidence.id)
        .where(Evidence.owner_id == person_id)
        .order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
    ).all()
    others = [i for i in ids if i not in tagged]
    tagged = [i for i in ids if i in tagged]
    return (tagged + others)[:count]


# --- delegation boards ------------------------------------------------------------------------


def _boards(people: dict[str, User], now: datetime) -> bool:
    manager = people[MANAGER]
    lena, kwame = people["Lena Fischer"], people["Kwame Mensah"]
    made = False
    if delegation.find_board(lena.id) is None:
        board = delegation.open_board(manager, lena.id)
        board.created_at = _days(now, 115)
        _ensure_rows(manager, lena)
        for number, steps in enumerate(ROUNDS):
            _closed_round(manager, lena, steps, _days(now, 110 - 60 * number))
        made = True
    if delegation.find_board(kwame.id) is None:
        board = delegation.open_board(manager, kwame.id)
        board.created_at = _days(now, 30)
        _ensure_rows(manager, kwame)
        started = delegation.start_round(kwame, kwame.id)
        rows = delegation.active_rows(board.id)
        delegation.save_picks(
            kwame, kwame.id, started.id, {row.id: _clamp(row.expected, 0) for row in rows}
        )
        started.opened_at = _days(now, 4)
        db.session.flush()
        made = True
    return made


def _ensure_rows(manager: User, person: User) -> None:
    """A board opens with the decision rights of the person's level; if that has none, the
    manager writes a few decisions of their own."""
    board = delegation.find_board(person.id)
    if not delegation.active_rows(board.id):
        for decision in EXTRA_ROWS:
            delegation.add_row(manager, person.id, decision, None)


def _clamp(expected: int | None, step: int) -> int:
    return max(1, min(7, (expected or 4) + step))


def _closed_round(manager: User, person: User, steps: list, opened: datetime) -> None:
    started = delegation.start_round(manager, person.id)
    board = delegation.find_board(person.id)
    rows = delegation.active_rows(board.id)
    plan = {row.id: steps[index % len(steps)] for index, row in enumerate(rows)}
    delegation.save_picks(
        person, person.id, started.id, {r.id: _clamp(r.expected, plan[r.id][0]) for r in rows}
    )
    delegation.save_picks(
        manager, person.id, started.id, {r.id: _clamp(r.expected, plan[r.id][1]) for r in rows}
    )
    for row in rows:
        mine, theirs, agreed = plan[row.id]
        level = _clamp(row.expected, agreed)
        far = abs(_clamp(row.expected, mine) - _clamp(row.expected, theirs)) >= 2
        expected = row.expected or 4
        note = NOTES[
            "far" if far else "above" if level > expected else "below" if level < expected else "at"
        ]
        delegation.agree(manager, person.id, started.id, row.id, level, note, expected_revision=0)
    delegation.close_round(manager, person.id, started.id)
    started.opened_at = opened
    started.revealed_at = opened + timedelta(days=3)
    started.closed_at = opened + timedelta(days=3, hours=1)
    for model, column in ((DelegationPick, "picked_at"), (DelegationAgreement, "agreed_at")):
        db.session.execute(
            update(model)
            .where(model.round_id == started.id)
            .values({column: opened + timedelta(days=2 if model is DelegationPick else 3)})
        )
    db.session.flush()


# --- 1:1s -------------------------------------------------------------------------------------


def _one_on_ones(people: dict[str, User], now: datetime, made_goals: dict) -> bool:
    manager = people[MANAGER]
    made = False
    for index, name in enumerate(REPORTS):
        member = people[name]
        script = LENA if name == MENTOR else GENERIC + GENERIC
        first = _weekday_ahead(now, 1 + index) - timedelta(days=14 * PAST_FORTNIGHTLY)
        made |= _pair(manager, member, script, first, 14, PAST_FORTNIGHTLY, "fortnightly")
    mentor, mentee = people[MENTOR], people[MENTEE]
    first = _weekday_ahead(now, 3) - timedelta(days=28 * PAST_MONTHLY)
    made |= _pair(mentor, mentee, KWAME_MENTORING, first, 28, PAST_MONTHLY, "monthly")
    return made


def _weekday_ahead(now: datetime, weekday: int) -> datetime:
    """The first day with this weekday (0 Monday) at least two days after `now`."""
    ahead = now + timedelta(days=2)
    return ahead + timedelta(days=(weekday - ahead.weekday()) % 7)


def _pair(
    lead: User, member: User, script: list, first: datetime, step: int, count: int, cadence: str
) -> bool:
    exists = db.session.scalar(
        select(OneOnOne.id).where(OneOnOne.lead_id == lead.id, OneOnOne.member_id == member.id)
    )
    if exists is not None:
        return False
    pair = spaces.open_space(lead, member.id)
    spaces.set_cadence(lead, pair, cadence)
    pair.created_at = first - timedelta(days=1)
    starts = [
        datetime.combine((first + timedelta(days=step * n)).date(), time(9, 30), tzinfo=UTC)
        for n in range(count + 1)
    ]
    meetings = [spaces.add_meeting(lead, pair, at, 30) for at in starts]
    open_actions: list[tuple[ActionItem, int]] = []
    for number, (meeting, session) in enumerate(zip(meetings, script[:count], strict=False)):
        _session(lead, member, meeting, session, number, meetings, open_actions)
    for topic in UPCOMING if lead.manager_id != member.manager_id else UPCOMING[1:]:
        _topic(lead, member, meetings[-1], topic, discussed=False)
    for meeting in meetings:
        meeting.created_at = meeting.updated_at = min(meeting.starts_at, first)
    db.session.flush()
    return True


def _session(lead, member, meeting, session, number, meetings, open_actions) -> None:
    for topic in session.topics:
        _topic(lead, member, meeting, topic, discussed=True)
    if session.notes:
        content.save_shared_notes(
            lead, meeting.id, session.notes, expected_revision=meeting.revision
        )
    for author, body in ((lead, session.lead_private), (member, session.member_private)):
        if body:
            content.save_private_note(author, meeting.id, body, expected_revision=0)
    for action in session.actions:
        owner = member if action.by_member else lead
        due = meeting.starts_at.date() + timedelta(days=action.due_in) if action.due_in else None
        item = content.add_action_item(
            lead, meeting.id, content.ActionInput(action.text, owner.id, due)
        )
        item.created_at = meeting.starts_at
        if action.done_after is not None and number + action.done_after < len(meetings) - 1:
            done_in = meetings[number + action.done_after]
            content.complete_action_item(owner, item.id, in_meeting_id=done_in.id)
            item.done_at = done_in.starts_at
    meeting.updated_at = meeting.starts_at + timedelta(minutes=40)


def _topic(lead: User, member: User, meeting: Meeting, topic: Topic, *, discussed: bool) -> None:
    author = member if topic.by_member else lead
    item = content.add_agenda_item(author, meeting.id, topic.text, _link(member, topic.link))
    item.created_at = meeting.starts_at - timedelta(days=2)
    if discussed:
        content.mark_discussed(lead, item.id, True)


def _link(member: User, link: str) -> str | None:
    if not link or link.startswith("c:"):
        return link or None
    if link == "goal":
        found = db.session.scalar(
            select(Goal.id)
            .where(Goal.person_id == member.id, Goal.status != GoalStatus.DROPPED)
            .order_by(Goal.id)
            .limit(1)
        )
        return f"g:{found}" if found else None
    if link == "board":
        board = delegation.find_board(member.id)
        return f"b:{board.id}" if board else None
    found = db.session.scalar(
        select(Evidence.id)
        .where(Evidence.owner_id == member.id)
        .order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
        .limit(1)
    )
    return f"e:{found}" if found else None


# --- feedback, thanks, lessons ----------------------------------------------------------------


def _feedback(people: dict[str, User], now: datetime) -> bool:
    lena, sofia, kwame = people["Lena Fischer"], people["Sofia Marquez"], people["Kwame Mensah"]
    asked = db.session.scalar(
        select(func.count(FeedbackRequest.id)).where(
            FeedbackRequest.requester_id.in_([sofia.id, kwame.id])
        )
    )
    if asked:
        return False
    ravi, hannah = people.get("Ravi Patel"), people.get("Hannah Cole")
    givers = [p for p in (lena, ravi) if p is not None]
    request = asks.ask_for_feedback(
        sofia,
        asks.RequestInput(
            [p.id for p in givers],
            ["customer-research", "communication"],
            "I ran my first interview round alone last month. What should I keep, and what "
            "should I change before the next one?",
        ),
    )
    request.created_at = _days(now, 40)
    by_giver = {a.giver_id: a for a in db.session.scalars(_asks_of(request.id))}
    lena_ask = by_giver[lena.id]
    asks.answer(
        lena,
        lena_ask,
        asks.AnswerInput(
            "The interview round on onboarding checklists in May.",
            "You let the silences run and asked 'what happened next?' instead of suggesting "
            "answers; the write-up quoted customers word for word.",
            "The squad trusted the findings and cut the tour step the same week.",
        ),
        expected_revision=lena_ask.revision,
    )
    lena_ask.answered_at = _days(now, 36)
    asks.share_with_manager(sofia, request.id, lena_ask.id)
    lena_ask.shared_with_manager_at = _days(now, 35)
    if ravi is not None:
        ravi_ask = by_giver[ravi.id]
        asks.answer(
            ravi,
            ravi_ask,
            asks.AnswerInput(
                "The readout of the interviews to the squad.",
                "You read out all nine interviews in order before the patterns.",
                "We lost the room halfway; lead with the three patterns next time.",
            ),
            expected_revision=ravi_ask.revision,
        )
        ravi_ask.answered_at = _days(now, 33)
    pending = asks.ask_for_feedback(
        kwame,
        asks.RequestInput(
            [p.id for p in (lena, hannah) if p is not None],
            ["stakeholder-management"],
            "I have started bringing sales into the onboarding review. How does it land from "
            "where you sit?",
            due_on=(now + timedelta(days=9)).date(),
        ),
    )
    pending.created_at = _days(now, 3)
    db.session.flush()
    return True


def _asks_of(request_id: int):
    return select(FeedbackAsk).where(FeedbackAsk.request_id == request_id)


def _thanks(people: dict[str, User], now: datetime) -> bool:
    if db.session.scalar(select(func.count(Thanks.id))):
        return False
    made = False
    for giver, recipient, days_ago, message in THANKS:
        if giver in people and recipient in people:
            given = thanks.give_thanks(people[giver], people[recipient].id, message)
            given.created_at = _days(now, days_ago)
            made = True
    db.session.flush()
    return made


LESSON_SHARERS = ("Lena Fischer", "Kwame Mensah")


def _lessons(people: dict[str, User], now: datetime) -> bool:
    made = False
    for days_ago, name in zip((45, 15), LESSON_SHARERS, strict=True):
        person = people[name]
        items = db.session.execute(
            select(Evidence.id, Evidence.lesson_shared_at)
            .where(Evidence.owner_id == person.id, Evidence.kind == EvidenceKind.LEARNING)
            .order_by(Evidence.occurred_on.desc(), Evidence.id)
        ).all()
        if not items or any(shared for _id, shared in items):
            continue
        item = lessons.share_lesson(person, items[0].id)
        item.lesson_shared_at = _days(now, days_ago)
        made = True
    db.session.flush()
    return made


# --- notifications ----------------------------------------------------------------------------


def _date_notices(mark: int) -> None:
    """The notifications this load made are dated when what they tell of happened, so that
    an inbox's newest (and unread) ones are the recent events, not four-month-old topics."""
    new = Notification.id > mark
    dated = [
        (Notification.goal_id, select(Goal.created_at).where(Goal.id == Notification.goal_id)),
        (
            Notification.round_id,
            select(DelegationRound.opened_at).where(DelegationRound.id == Notification.round_id),
        ),
        (
            Notification.thanks_id,
            select(Thanks.created_at).where(Thanks.id == Notification.thanks_id),
        ),
    ]
    for column, when in dated:
        db.session.execute(
            update(Notification)
            .where(new, column.is_not(None))
            .values(created_at=when.scalar_subquery())
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Notification)
        .where(new, Notification.meeting_id.is_not(None))
        .values(
            created_at=select(Meeting.starts_at)
            .where(Meeting.id == Notification.meeting_id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Notification)
        .where(new, Notification.feedback_ask_id.is_not(None))
        .values(
            created_at=select(func.coalesce(FeedbackAsk.answered_at, FeedbackRequest.created_at))
            .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
            .where(FeedbackAsk.id == Notification.feedback_ask_id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
