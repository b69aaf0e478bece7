"""What an irreversible action will do, and to whom, read before the person confirms it:
publishing a cycle, revealing a session's votes, locking a session, withdrawing a case.

Each page's data says what will happen in a sentence, names the people concerned and lists
what stops the action now (the same checks the action makes, so the page and the refusal
agree). Reading it changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app import policy
from app.core.errors import ForbiddenError, ValidationError
from app.models import CalibrationSession, CyclePhase, Outcome, User
from app.policy import phases
from app.policy.phases import Activity
from app.services.promotions import cycles, loading
from app.services.promotions.calibration import decisions
from app.services.promotions.calibration.checks import visible_session
from app.services.promotions.calibration.votes import participant_votes


@dataclass(frozen=True)
class Group:
    """People an action concerns, under what it does to them."""

    label: str
    names: list[str]


@dataclass(frozen=True)
class Confirmation:
    title: str  # the question the page asks
    summary: str  # what will happen and to whom, in a sentence
    details: list[str]  # further consequences, a sentence each
    groups: list[Group]
    button: str
    back_label: str
    blockers: list[str] = field(default_factory=list)  # why it cannot be done now
    revision: int | None = None  # what the form sends back (a stale page is a conflict)
    cases_to_finish: list[tuple[int, str]] = field(default_factory=list)  # (case id, name)

    @property
    def is_possible(self) -> bool:
        return not self.blockers


def _refusal(check: Callable[[], None]) -> list[str]:
    """The message of a check that refuses, as a blocker; none when it passes."""
    try:
        check()
    except ValidationError as error:
        return [error.message]
    return []


def _people(n: int, one: str = "person", many: str = "people") -> str:
    return f"{n} {one if n == 1 else many}"


# --- publishing a cycle ---------------------------------------------------------------------


def publish_page(actor: User, cycle_id: int) -> Confirmation:
    """Who is promoted, who sees their outcome, what stops publishing now."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    cases = cycles.open_cases(cycle.id)
    blockers = _refusal(lambda: phases.check_move(cycle, CyclePhase.PUBLISHED, ""))
    if cycle.is_published:
        blockers = [f"{cycle.name} is already published; publishing cannot be undone."]
    elif not blockers:
        blocker = cycles.publish_blocker(cycle, cases)
        blockers = [blocker] if blocker else []
    promoted = [c for c in cases if c.decision is Outcome.PROMOTE]
    others = [c for c in cases if c.decision is not Outcome.PROMOTE]
    summary = (
        f"{_people(len(promoted))} will be promoted; "
        f"{_people(len(cases), 'candidate', 'candidates')} will see their outcome."
    )
    groups = [
        Group(
            "Promoted to their new level",
            [
                f"{c.candidate.name} ({c.current_level.code} → {c.proposed_level.code})"
                for c in promoted
            ],
        ),
        Group(
            "Told their outcome, staying at their level",
            [
                f"{c.candidate.name} ({c.decision.label if c.decision else 'no decision yet'})"
                for c in others
            ],
        ),
    ]
    details = [
        "Every candidate sees their decision, its rationale and the agreed ratings on their "
        "case, and is notified; their managers are notified too.",
        "Promoted people move to their new level today; their profile keeps the old one in "
        "its history.",
        f"{cycle.name} cannot change phase afterwards: publishing cannot be undone.",
    ]
    return Confirmation(
        title=f"Publish {cycle.name}?",
        summary=summary,
        details=details,
        groups=[g for g in groups if g.names],
        button=f"Publish {cycle.name}",
        back_label=f"Back to {cycle.name}",
        blockers=blockers,
        revision=cycle.revision,
    )


# --- a calibration session: reveal and lock -------------------------------------------------


def _facilitated(actor: User, session_id: int) -> CalibrationSession:
    session = visible_session(actor, session_id)
    if actor.id != session.facilitator_id:
        raise ForbiddenError(f"In {session.name} only the facilitator does this.")
    return session


def _editable(session: CalibrationSession) -> list[str]:
    return _refusal(lambda: phases.require_unlocked(session)) or _refusal(
        lambda: phases.require(session.cycle, Activity.CALIBRATE)
    )


def reveal_page(actor: User, session_id: int) -> Confirmation:
    """Who will see every vote, and who has not voted yet."""
    session = _facilitated(actor, session_id)
    blockers = _editable(session)
    if session.votes_revealed:
        blockers = [f"The votes of {session.name} are already revealed."]
    cases = loading.session_cases(session.id)
    votes = participant_votes(session)
    people = sorted(session.participants, key=lambda p: p.name)
    voted_on = {(v.voter_id, v.case_id) for v in votes}
    pending = [
        p.name
        for p in people
        if any((p.id, c.id) not in voted_on for c in cases if c.candidate_id != p.id)
    ]
    summary = (
        f"Everyone in {session.name} ({_people(len(people))}) will see every vote on its "
        f"{_people(len(cases), 'case', 'cases')}, with who voted what."
    )
    details = [
        "Until now each participant saw the others' votes only after voting on a case; from "
        "now on nobody votes blind in this session.",
        "The reveal is kept in the decision log and cannot be taken back.",
    ]
    groups = [Group("Will see every vote", [p.name for p in people])]
    if pending:
        groups.append(Group("Have not voted on every case yet", pending))
    return Confirmation(
        title=f"Reveal the votes of {session.name}?",
        summary=summary,
        details=details,
        groups=groups,
        button="Reveal the votes to everyone",
        back_label=f"Back to {session.name}",
        blockers=blockers,
    )


def lock_page(actor: User, session_id: int) -> Confirmation:
    """What becomes final, who is told, and what is still missing."""
    session = _facilitated(actor, session_id)
    editable = _editable(session)
    blockers = editable or decisions.lock_blockers(session)
    to_finish = [] if editable else _to_finish(session)
    cases = loading.session_cases(session.id)
    participants = sorted(p.name for p in session.participants)
    summary = (
        f"The agreed ratings and outcomes of {_people(len(cases), 'case', 'cases')} become "
        f"final; {_people(len(participants))} in the session and the head of product are told."
    )
    details = [
        f"Nothing in {session.name} can change afterwards unless the head of product reopens "
        "it, saying why.",
        "Its people and the candidates' managers then see every vote, in the app and in the "
        "committee packet.",
    ]
    groups = [
        Group(
            "Cases and their outcome",
            [
                f"{c.candidate.name}: {c.outcome.label if c.outcome else 'no outcome yet'}"
                for c in cases
            ],
        ),
        Group("Told that it is locked", participants),
    ]
    return Confirmation(
        title=f"Lock {session.name}?",
        summary=summary,
        details=details,
        groups=[g for g in groups if g.names],
        button="Lock the session",
        back_label=f"Back to {session.name}",
        blockers=blockers,
        cases_to_finish=to_finish,
    )


def _to_finish(session: CalibrationSession) -> list[tuple[int, str]]:
    """The cases still without every agreed rating or an outcome, by name."""
    names = {u.case_id: u.candidate for u in decisions.unagreed(session)}
    names |= {
        c.id: c.candidate.name for c in loading.session_cases(session.id) if c.outcome is None
    }
    return sorted(names.items(), key=lambda item: (item[1], item[0]))


# --- withdrawing a case ---------------------------------------------------------------------


def withdraw_page(actor: User, case_id: int) -> Confirmation:
    """What withdrawing does to the case and who sees it."""
    case = loading.case(case_id)
    policy.authorize(actor, "case.view", case)
    if not policy.can(actor, "case.withdraw", case) and case.is_open:
        raise ForbiddenError(
            "Only the candidate's manager, whoever nominated them or the head of product can "
            "withdraw a case."
        )
    name, cycle = case.candidate.name, case.cycle
    blockers = [] if case.is_open else [f"{name}'s case was already withdrawn."]
    blockers = blockers or _refusal(lambda: phases.require(cycle, Activity.WITHDRAW))
    summary = (
        f"{name}'s case ({case.current_level.code} → {case.proposed_level.code}) leaves "
        f"{cycle.name} for good; {name} sees on the case that it was withdrawn."
    )
    details = [
        "It cannot be reopened: nominating them again is possible only while a cycle takes "
        "nominations.",
        "Its assessments, votes and decision log are kept; the reason is shown to the "
        "committee, never to the candidate.",
    ]
    if case.session is not None:
        details.insert(1, f"It leaves the calibration session {case.session.name}.")
    return Confirmation(
        title=f"Withdraw {name}'s case?",
        summary=summary,
        details=details,
        groups=[Group("Concerned", [f"{name} (candidate)", f"{case.manager.name} (manager)"])],
        button="Withdraw the case",
        back_label=f"Back to {name}'s case",
        blockers=blockers,
    )
