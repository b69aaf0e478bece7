"""Storing the coaching part of a checked import: what the person owns comes back.

- 1:1s come back into the pair with the other person when that person is here (by email) and
  the importer is already one of a pair with them (whoever leads it), or may open one
  (oneonone.open). Meetings (by their start), the importer's own agenda items (by text), the
  action items the importer wrote (by text and the meeting raised in) and the importer's own
  private notes are added where they are missing; nothing already here is overwritten. What the
  other person wrote stays in the file: it is theirs to bring back.
- Goals are matched to a framework by slug (else the importer's own) and competency key; they
  come back not yet agreed (the two agree them again here), linked to the imported evidence.
- The lesson flag comes back only on an item here that is shared and a learning from failure.
- Feedback requests come back as the requests themselves, without answers: an answer is the
  contribution of the colleague who gave it, and a file cannot make anyone its author here.
- Nothing of the delegation board is created: opening a board is the manager's right, and its
  rounds were played by two people; the agreed rounds stay in the file.

Whatever is left out is listed in the report with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from app import policy
from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    CoachingLink,
    Evidence,
    EvidenceKind,
    FeedbackRequest,
    Framework,
    FrameworkVersion,
    Goal,
    GoalStatus,
    Level,
    Meeting,
    OneOnOne,
    PairKind,
    PrivateNote,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.models.feedback import AskStatus
from app.models.framework import Competency
from app.models.goals import goal_evidence
from app.services import audit
from app.services.oneonones.spaces import space_between
from app.services.personal_data import coaching_plan as plans


@dataclass
class CoachingReport:
    meetings: int = 0
    agenda_items: int = 0
    links: int = 0  # what agenda items are about, added to new or existing items
    private_notes: int = 0
    action_items: int = 0
    goals: int = 0
    lessons: int = 0
    feedback_requests: int = 0
    skipped: list[str] = field(default_factory=list)  # what did not come back, and why
    notes: list[str] = field(default_factory=list)  # what came back differently, and why
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return any(
            (
                self.meetings,
                self.agenda_items,
                self.links,
                self.private_notes,
                self.action_items,
                self.goals,
                self.lessons,
                self.feedback_requests,
            )
        )


def store(actor: User, plan: plans.CoachingPlan, evidence: dict[int, int]) -> CoachingReport:
    """`evidence` maps the export's evidence places to the items here (imported or already
    here)."""
    report = CoachingReport(unknown_fields=plan.unknown)
    people = _people_by_email(plan)
    frameworks = _Frameworks(actor)
    goals = _goals(actor, plan.goals, frameworks, evidence, report)
    _lessons(plan.lessons, evidence, report)
    for pair in plan.pairs:
        _pair(actor, pair, people.get(pair.email.lower()), evidence, goals, frameworks, report)
    for request in plan.requests:
        _request(actor, request, frameworks, report)
    if plan.board is not None:
        _board(actor, plan.board, report)
    db.session.flush()
    if report.anything:
        audit.record(
            actor,
            "personal_data.coaching_imported",
            actor,
            after={
                "meetings": report.meetings,
                "goals": report.goals,
                "feedback_requests": report.feedback_requests,
            },
        )
    return report


def _people_by_email(plan: plans.CoachingPlan) -> dict[str, User]:
    emails = {pair.email.lower() for pair in plan.pairs if pair.email}
    if not emails:
        return {}
    found = db.session.execute(select(User).where(func.lower(User.email).in_(emails))).scalars()
    return {user.email.lower(): user for user in found}


class _Frameworks:
    """Competency keys and level codes of published frameworks, by slug; the importer's own
    framework when a slug is not here."""

    def __init__(self, actor: User):
        rows = db.session.execute(
            select(Framework.id, Framework.slug, FrameworkVersion.id)
            .join(FrameworkVersion, FrameworkVersion.framework_id == Framework.id)
            .where(FrameworkVersion.status == "published")
        ).all()
        self.by_slug = {slug: (framework_id, version_id) for framework_id, slug, version_id in rows}
        own = db.session.execute(
            select(FrameworkVersion.framework_id, FrameworkVersion.id)
            .join(Level, Level.version_id == FrameworkVersion.id)
            .where(Level.id == actor.level_id)
        ).first()
        self.own_framework = own[0] if own else None
        self.own = next((v for v in self.by_slug.values() if own and v[0] == own[0]), None)
        versions = [version_id for _f, version_id in self.by_slug.values()]
        self.keys: dict[int, set[str]] = {}
        for version_id, key in db.session.execute(
            select(Competency.version_id, Competency.key).where(Competency.version_id.in_(versions))
        ).all():
            self.keys.setdefault(version_id, set()).add(key)

    def find(self, slug: str, key: str) -> tuple[int, int] | None:
        """(framework id, published version id) holding the key: the slug's, else the own."""
        for candidate in (self.by_slug.get(slug), self.own):
            if candidate and key in self.keys.get(candidate[1], set()):
                return candidate
        return None

    def level_id(self, version_id: int, code: str) -> int | None:
        if not code:
            return None
        return db.session.execute(
            select(Level.id).where(Level.version_id == version_id, Level.code == code)
        ).scalar_one_or_none()


# --- goals and lessons --------------------------------------------------------------------------


def _goals(actor, goals, frameworks, evidence, report) -> dict[int, int]:
    """The goals here by their place in the export (imported or already here)."""
    existing = {
        (framework_id, key, change): goal_id
        for goal_id, framework_id, key, change in db.session.execute(
            select(Goal.id, Goal.framework_id, Goal.competency_key, Goal.change).where(
                Goal.person_id == actor.id
            )
        ).all()
    }
    here: dict[int, int] = {}
    for goal in goals:
        found = frameworks.find(goal.framework, goal.competency)
        if found is None:
            report.skipped.append(
                f"Goal {goal.number} (“{goal.change[:60]}”): your career path here has no "
                f"competency {goal.competency!r}."
            )
            continue
        fingerprint = (found[0], goal.competency, goal.change)
        if fingerprint in existing:
            here[goal.number] = existing[fingerprint]
            continue
        made = _new_goal(actor, goal, found, frameworks, report)
        _link_goal_evidence(made, goal, evidence, report)
        existing[fingerprint] = here[goal.number] = made.id
        report.goals += 1
    if report.goals:
        report.notes.append(
            f"{report.goals} goal{'s' if report.goals != 1 else ''} came back not yet agreed: "
            f"agree {'them' if report.goals != 1 else 'it'} again with your manager here."
        )
    return here


def _new_goal(actor, goal: plans.GoalPlan, found, frameworks, report) -> Goal:
    level_id = frameworks.level_id(found[1], goal.target_level)
    if goal.target_level and level_id is None:
        report.notes.append(
            f"Goal {goal.number}: there is no level {goal.target_level!r} here; it aims at "
            "your next level."
        )
    closed = goal.status in (GoalStatus.DONE, GoalStatus.DROPPED)
    made = Goal(
        person_id=actor.id,
        framework_id=found[0],
        competency_key=goal.competency,
        target_level_id=level_id,
        change=goal.change,
        measure=goal.measure,
        target_on=goal.target_on,
        status=goal.status,
        dropped_reason=goal.dropped_reason,
        outcome=goal.outcome,
        created_by_id=actor.id,
        created_at=goal.created_at or utcnow(),
        closed_at=(goal.closed_at or utcnow()) if closed else None,
    )
    db.session.add(made)
    db.session.flush()
    return made


def _link_goal_evidence(made: Goal, goal: plans.GoalPlan, evidence, report) -> None:
    linked = {evidence[place] for place in goal.evidence if place in evidence}
    if linked:  # one statement for the goal's links, however many
        db.session.execute(
            goal_evidence.insert(),
            [{"goal_id": made.id, "evidence_id": evidence_id} for evidence_id in sorted(linked)],
        )
    missing = len(set(goal.evidence)) - len(linked)
    if missing:
        report.notes.append(
            f"Goal {goal.number}: {missing} linked item{'s were' if missing != 1 else ' was'} "
            "not imported (in the Trash of the export, or not in it)."
        )


def _lessons(lessons: dict[int, datetime], evidence: dict[int, int], report) -> None:
    ids = {evidence[place]: at for place, at in lessons.items() if place in evidence}
    if not ids:
        return
    items = db.session.execute(select(Evidence).where(Evidence.id.in_(ids))).scalars()
    for item in items:
        if item.lesson_shared_at is not None:
            continue
        if item.visibility == Visibility.SHARED and item.kind == EvidenceKind.LEARNING:
            item.lesson_shared_at = ids[item.id]
            report.lessons += 1
        else:
            report.skipped.append(
                f"“{item.title[:60]}” was offered to your team as a lesson; here it is a private "
                "draft: share it, then offer it as a lesson again."
            )


# --- 1:1s ---------------------------------------------------------------------------------------


def _pair(actor, pair: plans.PairPlan, other: User | None, evidence, goals, frameworks, report):
    label = f"1:1 with {pair.name or pair.email or 'someone'}"
    if not pair.email:
        report.skipped.append(f"{label}: their account no longer existed when you exported.")
        return
    if other is None or other.id == actor.id:
        report.skipped.append(f"{label}: nobody else here has the email {pair.email}.")
        return
    space = space_between(actor.id, other.id)
    if space is None:
        if not policy.can(actor, "oneonone.open", other):
            report.skipped.append(
                f"{label}: you are not {other.name}'s manager or mentor here, so you may not "
                f"open your 1:1s with them; ask {other.name} to open them, then import again."
            )
            return
        kind = PairKind.MANAGER if other.manager_id == actor.id else PairKind.MENTOR
        space = OneOnOne(lead_id=actor.id, member_id=other.id, kind=kind, cadence=pair.cadence)
        db.session.add(space)
        db.session.flush()
    context = _PairContext(space, other, evidence, goals, frameworks, actor, report)
    meetings = context.meetings(pair.meetings)
    context.actions(pair.actions, meetings)
    context.tell(other.name)


class _PairContext:
    """What is already in the pair, so that an import adds only what is missing; and only what
    the importer wrote: the other person's topics and action items stay in the file. Rows are
    added in batches (a flush for the meetings, one for the agenda, the rest at the end)."""

    def __init__(self, space, other, evidence, goals, frameworks, actor, report):
        self.space, self.other, self.actor, self.report = space, other, actor, report
        self.evidence, self.goals, self.frameworks = evidence, goals, frameworks
        self.dropped_links = 0
        self.theirs = 0  # topics and action items the other person (or a gone account) wrote

    def meetings(self, planned: list[plans.MeetingPlan]) -> list[Meeting]:
        existing = {
            meeting.starts_at: meeting
            for meeting in db.session.execute(
                select(Meeting).where(Meeting.one_on_one_id == self.space.id)
            ).scalars()
        }
        new = []
        made = []
        for plan in planned:
            meeting = existing.get(plan.starts_at)
            if meeting is None:
                # The meeting is added here by the importer, whoever scheduled it there.
                meeting = existing[plan.starts_at] = Meeting(
                    one_on_one_id=self.space.id,
                    starts_at=plan.starts_at,
                    duration_minutes=plan.duration,
                    shared_notes=plan.shared_notes,
                    created_by_id=self.actor.id,
                )
                new.append(meeting)
            elif not meeting.shared_notes and plan.shared_notes:
                meeting.shared_notes = plan.shared_notes
            made.append(meeting)
        db.session.add_all(new)
        db.session.flush()
        self.report.meetings += len(new)
        self._agendas(planned, made)
        self._private_notes(planned, made)
        if self.dropped_links:
            self.report.notes.append(
                f"{self.dropped_links} link{'s' if self.dropped_links != 1 else ''} of agenda "
                "items pointed at what is not here (another's item, or one not imported) and "
                "were left out."
            )
        return made

    def _private_notes(self, planned, meetings) -> None:
        notes = set(
            db.session.execute(
                select(PrivateNote.meeting_id)
                .join(Meeting, Meeting.id == PrivateNote.meeting_id)
                .where(
                    Meeting.one_on_one_id == self.space.id, PrivateNote.author_id == self.actor.id
                )
            ).scalars()
        )
        for plan, meeting in zip(planned, meetings, strict=True):
            if plan.private_notes is not None and meeting.id not in notes:
                db.session.add(
                    PrivateNote(
                        meeting_id=meeting.id, author_id=self.actor.id, body=plan.private_notes
                    )
                )
                notes.add(meeting.id)
                self.report.private_notes += 1

    def _agendas(self, planned, meetings) -> None:
        """The importer's own topics where missing (after the meeting's last one), then the
        links of the importer's topics."""
        here = _agenda_here(self.space.id)
        self.links_here = _links_here(self.space.id)
        last = _last_positions(self.space.id)
        rows: list[dict] = []
        keys: list[tuple[int, str]] = []
        for plan, meeting in zip(planned, meetings, strict=True):
            for item in plan.agenda:
                if item.by != "you":
                    self.theirs += 1
                    continue
                key = (meeting.id, item.text)
                if key in here or key in keys:
                    continue
                last[meeting.id] = last.get(meeting.id, -1) + 1
                keys.append(key)
                rows.append(
                    {
                        "meeting_id": meeting.id,
                        "author_id": self.actor.id,
                        "position": last[meeting.id],
                        "text": item.text,
                        "is_discussed": item.discussed,
                        "created_at": item.created_at or utcnow(),
                        "revision": 1,
                    }
                )
        if rows:  # one executemany for all the rows, then their ids in one read
            db.session.execute(insert(AgendaItem), rows)
            here.update(_agenda_here(self.space.id))
        self.report.agenda_items += len(rows)
        for plan, meeting in zip(planned, meetings, strict=True):
            for item in plan.agenda:
                item_id = here.get((meeting.id, item.text)) if item.by == "you" else None
                if item_id is None:
                    continue
                for kind, target in item.links:
                    self._add_link(item_id, kind, target)

    def _add_link(self, item_id: int, kind: str, target: Any) -> None:
        """A link the item lacks (the other of the two may have imported it without the
        links to this person's own items)."""
        link = self._link(item_id, kind, target)
        if link is None:
            self.dropped_links += 1
            return
        key = (item_id, link.evidence_id, link.goal_id, link.competency_key)
        if key not in self.links_here:
            self.links_here.add(key)
            db.session.add(link)
            self.report.links += 1

    def _link(self, agenda_item_id: int, kind: str, target: Any) -> CoachingLink | None:
        if kind == "evidence" and target in self.evidence:
            return CoachingLink(agenda_item_id=agenda_item_id, evidence_id=self.evidence[target])
        if kind == "goal" and target in self.goals:
            return CoachingLink(agenda_item_id=agenda_item_id, goal_id=self.goals[target])
        if kind == "competency":
            found = self.frameworks.find(*target)
            if found is not None:
                return CoachingLink(
                    agenda_item_id=agenda_item_id, framework_id=found[0], competency_key=target[1]
                )
        return None

    def actions(self, planned: list[plans.ActionPlan], meetings: list[Meeting]) -> None:
        """The action items the importer wrote (for either of the two to do)."""
        here = set(
            db.session.execute(
                select(ActionItem.text, ActionItem.raised_in_id).where(
                    ActionItem.one_on_one_id == self.space.id
                )
            ).all()
        )
        owners = {"you": self.actor.id, "them": self.other.id, None: None}

        def meeting_id(place: int | None) -> int | None:
            return meetings[place - 1].id if place and place <= len(meetings) else None

        new = []
        for plan in planned:
            if plan.created_by != "you":
                self.theirs += 1
                continue
            raised_in = meeting_id(plan.raised_in)
            if (plan.text, raised_in) in here:
                continue
            here.add((plan.text, raised_in))
            new.append(
                ActionItem(
                    one_on_one_id=self.space.id,
                    raised_in_id=raised_in,
                    owner_id=owners[plan.owner],
                    text=plan.text,
                    due_on=plan.due_on,
                    done_at=plan.done_at,
                    done_in_id=meeting_id(plan.done_in),
                    created_by_id=self.actor.id,
                    created_at=plan.created_at or utcnow(),
                )
            )
        db.session.add_all(new)
        self.report.action_items += len(new)

    def tell(self, name: str) -> None:
        if self.theirs:
            self.report.skipped.append(
                f"1:1 with {name}: {self.theirs} topic{'s' if self.theirs != 1 else ''} and "
                f"action items written by {name} (or by an account no longer here) stay in the "
                f"file: they are {name}'s to bring back."
            )


def _last_positions(pair_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(AgendaItem.meeting_id, func.max(AgendaItem.position))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.one_on_one_id == pair_id)
        .group_by(AgendaItem.meeting_id)
    ).all()
    return {meeting_id: position for meeting_id, position in rows}


def _agenda_here(pair_id: int) -> dict[tuple[int, str], int]:
    rows = db.session.execute(
        select(AgendaItem.meeting_id, AgendaItem.text, AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.one_on_one_id == pair_id)
        .order_by(AgendaItem.id)
    ).all()
    return {(meeting_id, text): item_id for meeting_id, text, item_id in rows}


def _links_here(pair_id: int) -> set[tuple]:
    return set(
        db.session.execute(
            select(
                CoachingLink.agenda_item_id,
                CoachingLink.evidence_id,
                CoachingLink.goal_id,
                CoachingLink.competency_key,
            )
            .join(AgendaItem, AgendaItem.id == CoachingLink.agenda_item_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(Meeting.one_on_one_id == pair_id)
        ).all()
    )


# --- feedback -----------------------------------------------------------------------------------


def _request(actor, request: plans.RequestPlan, frameworks, report) -> None:
    """The request itself (what the person asked, about which competencies), with no answers:
    an answer is its giver's contribution, and a file cannot say who wrote what here."""
    label = f"Feedback request {request.number} ({request.created_at.date().isoformat()})"
    already = db.session.execute(
        select(FeedbackRequest.id).where(
            FeedbackRequest.requester_id == actor.id,
            FeedbackRequest.created_at == request.created_at,
            FeedbackRequest.message == request.message,
        )
    ).first()
    if already is not None:
        return
    framework = next(
        (
            found[0]
            for key in request.competencies
            if (found := frameworks.find(request.framework, key))
        ),
        frameworks.own_framework,
    )
    db.session.add(
        FeedbackRequest(
            requester_id=actor.id,
            framework_id=framework,
            competency_keys=list(request.competencies),
            message=request.message,
            due_on=request.due_on,
            created_at=request.created_at,
        )
    )
    answered = sum(1 for ask in request.asked if ask.status != AskStatus.PENDING)
    if answered:
        report.skipped.append(
            f"{label}: {answered} answer{'s stay' if answered != 1 else ' stays'} in the file: "
            "an answer belongs to the colleague who gave it; ask them again here."
        )
    report.feedback_requests += 1


# --- delegation ---------------------------------------------------------------------------------


def _board(actor: User, plan: plans.BoardPlan, report) -> None:
    """Nothing of the board is created: opening a board is the manager's (delegation.open), and
    its rounds and agreements were played by two people; they stay in the file."""
    agreed = sum(1 for played in plan.rounds if played.closed_at and played.agreements)
    if agreed:
        report.skipped.append(
            f"Your delegation board: {agreed} agreed round{'s stay' if agreed != 1 else ' stays'} "
            "in the file: a board is opened and played with your manager here."
        )
