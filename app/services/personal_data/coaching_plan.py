"""The coaching sections of an uploaded export, checked into plans (no database yet).

`read(data)` gives a CoachingPlan and the problems found; the import refuses the whole file when
there is any, so nothing is stored from a file with a bad value anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.core.errors import ValidationError
from app.models import Cadence, GoalStatus
from app.models.feedback import AskStatus
from app.models.framework import DaciRole
from app.services.oneonones.spaces import DURATIONS, meeting_time
from app.services.personal_data.checking import Reader

TEXT_SHORT = 500  # agenda and action items, as their columns hold
TEXT_LONG = 20_000  # notes, as long as an evidence item's body
TEXT_GOAL = 20_000  # goals, decisions, feedback: generous, the features set their own limits
MOST = {
    "one_on_ones": 1_000,
    "meetings": 5_000,
    "agenda": 200,
    "links": 50,
    "action_items": 10_000,
    "goals": 2_000,
    "evidence": 1_000,
    "rows": 500,
    "rounds": 500,
    "agreements": 500,
    "picks": 1_000,
    "feedback_requests": 5_000,
    "asked": 200,
    "competencies": 200,
}
# All the coaching objects one import stores (meetings, topics, links, action items, goals,
# feedback requests), so that one import's write transaction stays short for everyone else.
MOST_OBJECTS = 10_000
TOP_LEVEL = {
    "format",
    "exported_at",
    "person",
    "evidence",
    "contributions",
    "help_seen",
    "one_on_ones",
    "goals",
    "delegation_board",
    "feedback_requests",
    "thanks_received",
    "notification_settings",  # exported for the person to read; not imported
    "messages",
}


@dataclass
class AgendaPlan:
    text: str
    by: str | None
    discussed: bool
    created_at: datetime | None
    links: list[tuple[str, Any]]  # ("evidence", place), ("goal", place), ("competency", (f, k))


@dataclass
class MeetingPlan:
    starts_at: datetime
    duration: int
    created_by: str | None
    shared_notes: str
    private_notes: str | None
    agenda: list[AgendaPlan]


@dataclass
class ActionPlan:
    text: str
    owner: str | None
    due_on: date | None
    done_at: datetime | None
    raised_in: int | None  # place of the meeting in the pair's list, from 1
    done_in: int | None
    created_by: str | None
    created_at: datetime | None


@dataclass
class PairPlan:
    number: int
    name: str
    email: str
    cadence: Cadence
    meetings: list[MeetingPlan]
    actions: list[ActionPlan]


@dataclass
class GoalPlan:
    number: int
    framework: str
    competency: str
    target_level: str
    change: str
    measure: str
    target_on: date | None
    status: GoalStatus
    dropped_reason: str
    outcome: str
    created_at: datetime | None
    closed_at: datetime | None
    evidence: list[int]


@dataclass
class RowPlan:
    decision: str
    role: DaciRole | None
    expected: int | None
    added_by: str | None
    created_at: datetime | None


@dataclass
class AgreementPlan:
    row: int
    level: int
    note: str
    agreed_by: str | None
    agreed_at: datetime | None


@dataclass
class RoundPlan:
    number: int
    opened_at: datetime
    revealed_at: datetime | None
    closed_at: datetime | None
    agreements: list[AgreementPlan]


@dataclass
class BoardPlan:
    rows: list[RowPlan]
    rounds: list[RoundPlan]


@dataclass
class AskPlan:
    email: str
    name: str
    status: AskStatus
    situation: str
    behaviour: str
    impact: str
    answered_at: datetime | None


@dataclass
class RequestPlan:
    number: int
    framework: str
    competencies: list[str]
    message: str
    due_on: date | None
    created_at: datetime
    asked: list[AskPlan]


@dataclass
class CoachingPlan:
    pairs: list[PairPlan] = field(default_factory=list)
    goals: list[GoalPlan] = field(default_factory=list)
    board: BoardPlan | None = None
    requests: list[RequestPlan] = field(default_factory=list)
    lessons: dict[int, datetime] = field(default_factory=dict)  # evidence place → when offered
    unknown: list[str] = field(default_factory=list)  # field names ignored


def read(data: dict) -> tuple[CoachingPlan, list[str]]:
    """Every coaching section checked; the problems name where each one is."""
    reader = Reader()
    plan = CoachingPlan()
    problems: list[str] = []
    for key in data:
        if key not in TOP_LEVEL:
            reader.mapping({key: None}, "the export", set(), "top level")
    sections = [
        ("one_on_ones", "1:1", _pair, plan.pairs),
        ("goals", "Goal", _goal, plan.goals),
        ("feedback_requests", "Feedback request", _request, plan.requests),
    ]
    for key, label, reading, into in sections:
        try:
            listed = reader.listed(data, key, "The export", MOST[key])
        except ValidationError as error:
            problems.append(error.message)
            continue
        for number, raw in enumerate(listed, start=1):
            try:
                into.append(reading(reader, raw, number, f"{label} {number}"))
            except ValidationError as error:
                problems.append(error.message)  # it names where: "1:1 2, meeting 3's …"
    try:
        if data.get("delegation_board") is not None:
            plan.board = _board(reader, data["delegation_board"])
        plan.lessons = _lessons(reader, data.get("evidence"))
    except ValidationError as error:
        problems.append(error.message)
    plan.unknown = sorted(reader.unknown)
    total = objects(plan)
    if total > MOST_OBJECTS:
        problems.append(
            f"The export holds {total:,} coaching objects (meetings, topics, their links, action "
            f"items, goals and feedback requests); an import takes at most {MOST_OBJECTS:,}."
        )
    return plan, problems


def objects(plan: CoachingPlan) -> int:
    meetings = [meeting for pair in plan.pairs for meeting in pair.meetings]
    topics = [item for meeting in meetings for item in meeting.agenda]
    return (
        len(meetings)
        + len(topics)
        + sum(len(item.links) for item in topics)
        + sum(len(pair.actions) for pair in plan.pairs)
        + len(plan.goals)
        + len(plan.requests)
    )


# --- 1:1s ---------------------------------------------------------------------------------------

PAIR_KEYS = {
    "with",
    "you_are",
    "kind",
    "cadence",
    "created_at",
    "markdown_file",
    "meetings",
    "action_items",
}
MEETING_KEYS = {
    "starts_at",
    "duration_minutes",
    "created_by",
    "updated_at",
    "agenda",
    "shared_notes",
    "your_private_notes",
}
AGENDA_KEYS = {"text", "by", "discussed", "created_at", "links"}
ACTION_KEYS = {
    "text",
    "owner",
    "due_on",
    "done_at",
    "raised_in",
    "done_in",
    "created_by",
    "created_at",
}


def _pair(reader: Reader, raw: Any, number: int, where: str) -> PairPlan:
    raw = reader.mapping(raw, where, PAIR_KEYS, "one_on_ones")
    other = reader.mapping(raw.get("with") or {}, f"{where}'s with", {"name", "email"}, "with")
    meetings = reader.listed(raw, "meetings", where, MOST["meetings"])
    actions = reader.listed(raw, "action_items", where, MOST["action_items"])
    return PairPlan(
        number=number,
        name=reader.text(other, "name", where, 200),
        email=reader.text(other, "email", where, 254),  # "": their account no longer exists
        cadence=reader.choice(raw, "cadence", where, Cadence, Cadence.FORTNIGHTLY),
        meetings=[
            _meeting(reader, m, f"{where}, meeting {n}") for n, m in enumerate(meetings, start=1)
        ],
        actions=[
            _action(reader, a, f"{where}, action item {n}", len(meetings))
            for n, a in enumerate(actions, start=1)
        ],
    )


def _meeting(reader: Reader, raw: Any, where: str) -> MeetingPlan:
    raw = reader.mapping(raw, where, MEETING_KEYS, "meetings")
    private = raw.get("your_private_notes")
    notes = None
    if private is not None:
        private = reader.mapping(private, f"{where}'s private notes", {"body", "updated_at"}, "")
        notes = reader.text(private, "body", f"{where}'s private notes", TEXT_LONG)
    agenda = reader.listed(raw, "agenda", where, MOST["agenda"])
    starts_at = reader.moment(raw, "starts_at", where, required=True)
    duration = reader.number(raw, "duration_minutes", where, 1, 24 * 60) or 30
    try:  # what adding a meeting here accepts, nothing else
        starts_at = meeting_time(starts_at, duration)
    except ValidationError as error:
        if error.field == "duration_minutes":
            raise ValidationError(
                f"{where}'s duration_minutes {duration} is not one of "
                f"{', '.join(map(str, DURATIONS))}."
            ) from None
        raise ValidationError(
            f"{where}'s starts_at {starts_at.isoformat()} is not within two years of today "
            "(a meeting added here is not either)."
        ) from None
    return MeetingPlan(
        starts_at=starts_at,
        duration=duration,
        created_by=reader.who(raw, "created_by", where),
        shared_notes=reader.text(raw, "shared_notes", where, TEXT_LONG),
        private_notes=notes,
        agenda=[
            _agenda(reader, item, f"{where}, agenda item {n}")
            for n, item in enumerate(agenda, start=1)
        ],
    )


def _agenda(reader: Reader, raw: Any, where: str) -> AgendaPlan:
    raw = reader.mapping(raw, where, AGENDA_KEYS, "agenda")
    links = reader.listed(raw, "links", where, MOST["links"])
    return AgendaPlan(
        text=reader.text(raw, "text", where, TEXT_SHORT, required=True),
        by=reader.who(raw, "by", where),
        discussed=reader.flag(raw, "discussed", where),
        created_at=reader.moment(raw, "created_at", where),
        links=[
            link
            for n, raw_link in enumerate(links, start=1)
            if (link := _link(reader, raw_link, f"{where}, link {n}"))
        ],
    )


def _link(reader: Reader, raw: Any, where: str) -> tuple[str, Any] | None:
    """The links an import can make again: the person's own evidence and goals (by place) and
    competencies; links to other people's things name them only and are left out."""
    allowed = {"evidence", "goal", "competency", "evidence_of", "goal_of", "title"}
    raw = reader.mapping(raw, where, allowed | {"delegation_board_of"}, "links")
    if any(key in raw for key in ("evidence_of", "goal_of", "delegation_board_of")):
        return None
    for kind in ("evidence", "goal"):
        if raw.get(kind) is not None:
            return (kind, reader.number(raw, kind, where, 1, 1_000_000))
    if raw.get("competency") is not None:
        target = reader.mapping(raw["competency"], where, {"framework", "key"}, "competency")
        return (
            "competency",
            (reader.text(target, "framework", where, 80), reader.text(target, "key", where, 80)),
        )
    return None


def _action(reader: Reader, raw: Any, where: str, meetings: int) -> ActionPlan:
    raw = reader.mapping(raw, where, ACTION_KEYS, "action_items")
    return ActionPlan(
        text=reader.text(raw, "text", where, TEXT_SHORT, required=True),
        owner=reader.who(raw, "owner", where),
        due_on=reader.day(raw, "due_on", where),
        done_at=reader.moment(raw, "done_at", where),
        raised_in=reader.number(raw, "raised_in", where, 1, max(meetings, 1)),
        done_in=reader.number(raw, "done_in", where, 1, max(meetings, 1)),
        created_by=reader.who(raw, "created_by", where),
        created_at=reader.moment(raw, "created_at", where),
    )


# --- goals --------------------------------------------------------------------------------------

GOAL_KEYS = {
    "framework",
    "competency",
    "target_level",
    "change",
    "measure",
    "target_on",
    "status",
    "dropped_reason",
    "outcome",
    "created_by",
    "agreed_by",
    "agreed_at",
    "created_at",
    "updated_at",
    "closed_at",
    "evidence",
}


def _goal(reader: Reader, raw: Any, number: int, where: str) -> GoalPlan:
    raw = reader.mapping(raw, where, GOAL_KEYS, "goals")
    places = reader.listed(raw, "evidence", where, MOST["evidence"])
    evidence = []
    for n, place in enumerate(places, start=1):
        evidence.append(
            reader.number({"place": place}, "place", f"{where}, evidence {n}", 1, 10**6)
        )
    return GoalPlan(
        number=number,
        framework=reader.text(raw, "framework", where, 80),
        competency=reader.text(raw, "competency", where, 80, required=True),
        target_level=reader.text(raw, "target_level", where, 40),
        change=reader.text(raw, "change", where, TEXT_GOAL),
        measure=reader.text(raw, "measure", where, TEXT_GOAL),
        target_on=reader.day(raw, "target_on", where),
        status=reader.choice(raw, "status", where, GoalStatus, GoalStatus.NOT_STARTED),
        dropped_reason=reader.text(raw, "dropped_reason", where, TEXT_GOAL),
        outcome=reader.text(raw, "outcome", where, TEXT_GOAL),
        created_at=reader.moment(raw, "created_at", where),
        closed_at=reader.moment(raw, "closed_at", where),
        evidence=evidence,
    )


# --- delegation ---------------------------------------------------------------------------------

ROW_KEYS = {
    "decision",
    "daci_role",
    "expected",
    "from_framework",
    "added_by",
    "created_at",
    "removed_at",
}
ROUND_KEYS = {"number", "opened_by", "opened_at", "revealed_at", "closed_at", "picks", "agreements"}
AGREEMENT_KEYS = {"row", "level", "note", "agreed_by", "agreed_at"}


def _board(reader: Reader, raw: Any) -> BoardPlan:
    where = "The delegation board"
    raw = reader.mapping(raw, where, {"opened_by", "created_at", "rows", "rounds"}, "board")
    rows = reader.listed(raw, "rows", where, MOST["rows"])
    rounds = reader.listed(raw, "rounds", where, MOST["rounds"])
    return BoardPlan(
        rows=[_row(reader, row, f"{where}, row {n}") for n, row in enumerate(rows, start=1)],
        rounds=[
            _round(reader, played, f"{where}, round {n}", len(rows))
            for n, played in enumerate(rounds, start=1)
        ],
    )


def _row(reader: Reader, raw: Any, where: str) -> RowPlan:
    raw = reader.mapping(raw, where, ROW_KEYS, "rows")
    role = None
    if raw.get("daci_role") is not None:
        role = reader.choice(raw, "daci_role", where, DaciRole)
    return RowPlan(
        decision=reader.text(raw, "decision", where, TEXT_GOAL),
        role=role,
        expected=reader.number(raw, "expected", where, 1, 7),
        added_by=reader.who(raw, "added_by", where),
        created_at=reader.moment(raw, "created_at", where),
    )


def _round(reader: Reader, raw: Any, where: str, rows: int) -> RoundPlan:
    raw = reader.mapping(raw, where, ROUND_KEYS, "rounds")
    reader.listed(raw, "picks", where, MOST["picks"])  # kept in the file, not re-created
    agreements = reader.listed(raw, "agreements", where, MOST["agreements"])
    return RoundPlan(
        number=reader.number(raw, "number", where, 1, 10_000, required=True),
        opened_at=reader.moment(raw, "opened_at", where, required=True),
        revealed_at=reader.moment(raw, "revealed_at", where),
        closed_at=reader.moment(raw, "closed_at", where),
        agreements=[
            _agreement(reader, agreed, f"{where}, agreement {n}", rows)
            for n, agreed in enumerate(agreements, start=1)
        ],
    )


def _agreement(reader: Reader, raw: Any, where: str, rows: int) -> AgreementPlan:
    raw = reader.mapping(raw, where, AGREEMENT_KEYS, "agreements")
    if rows == 0:
        raise ValidationError(f"{where} is for a row, but the board has no rows.")
    return AgreementPlan(
        row=reader.number(raw, "row", where, 1, rows, required=True),
        level=reader.number(raw, "level", where, 1, 7, required=True),
        note=reader.text(raw, "note", where, TEXT_GOAL),
        agreed_by=reader.who(raw, "agreed_by", where),
        agreed_at=reader.moment(raw, "agreed_at", where),
    )


# --- feedback -----------------------------------------------------------------------------------

REQUEST_KEYS = {"framework", "competencies", "message", "due_on", "created_at", "asked"}
ASK_KEYS = {
    "from",
    "status",
    "situation",
    "behaviour",
    "impact",
    "answered_at",
    "shared_with_manager_at",
}


def _request(reader: Reader, raw: Any, number: int, where: str) -> RequestPlan:
    raw = reader.mapping(raw, where, REQUEST_KEYS, "feedback_requests")
    keys = reader.listed(raw, "competencies", where, MOST["competencies"])
    asked = reader.listed(raw, "asked", where, MOST["asked"])
    return RequestPlan(
        number=number,
        framework=reader.text(raw, "framework", where, 80),
        competencies=[
            reader.text({"key": key}, "key", f"{where}, competency {n}", 80, required=True)
            for n, key in enumerate(keys, start=1)
        ],
        message=reader.text(raw, "message", where, TEXT_GOAL),
        due_on=reader.day(raw, "due_on", where),
        created_at=reader.moment(raw, "created_at", where, required=True),
        asked=[_ask(reader, ask, f"{where}, answer {n}") for n, ask in enumerate(asked, start=1)],
    )


def _ask(reader: Reader, raw: Any, where: str) -> AskPlan:
    raw = reader.mapping(raw, where, ASK_KEYS, "asked")
    giver = reader.mapping(raw.get("from") or {}, f"{where}'s from", {"name", "email"}, "from")
    return AskPlan(
        email=reader.text(giver, "email", where, 254, required=True),
        name=reader.text(giver, "name", where, 200),
        status=reader.choice(raw, "status", where, AskStatus),
        situation=reader.text(raw, "situation", where, TEXT_GOAL),
        behaviour=reader.text(raw, "behaviour", where, TEXT_GOAL),
        impact=reader.text(raw, "impact", where, TEXT_GOAL),
        answered_at=reader.moment(raw, "answered_at", where),
    )


# --- lessons ------------------------------------------------------------------------------------


def _lessons(reader: Reader, items: Any) -> dict[int, datetime]:
    """Evidence places whose item was offered to the team as a lesson (the evidence import
    checks the items themselves)."""
    lessons = {}
    for number, item in enumerate(items if isinstance(items, list) else [], start=1):
        if isinstance(item, dict) and item.get("lesson_shared_at") is not None:
            when = reader.moment(item, "lesson_shared_at", f"Item {number}")
            if when is not None:
                lessons[number] = when
    return lessons
