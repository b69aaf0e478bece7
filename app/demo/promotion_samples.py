"""Promotion cycles for the demo organisation, run through the same services as the pages:
"H2 2026", finished and published, "H1 2027", in calibration with some votes in, and
"Q1 2027 off-cycle", in self-assessment with one candidate's draft half done.

Due dates are set relative to the day the demo is loaded, at 17:00 in the head of product's time
zone, so that some work is always due soon: the Q1 self-assessments in two days, the H1 session
(Tomás has not voted yet) tomorrow, calibration itself in five days.

Every step is taken by the person who would take it (the head of product, the managers, the
candidates), so the decision log, the notifications and the level history read as they would
after a real cycle.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.infra import timezones
from app.models import (
    CyclePhase,
    Level,
    Outcome,
    PromotionCycle,
    Rating,
    RatingSource,
    User,
)
from app.models.base import utcnow
from app.services.growth import readiness
from app.services.growth.since import case_level_reached
from app.services.promotions import assessments, cycles, deadlines, loading
from app.services.promotions.assessments import EntryInput
from app.services.promotions.calibration import decisions, grid, planning, votes

# (candidate, proposed level code, outcome agreed in calibration)
FINISHED = [
    ("Kwame Mensah", "SPM", Outcome.PROMOTE),
    ("Aisha Bello", "SPM", Outcome.NOT_YET),
    ("Noah Williams", "PM", Outcome.PROMOTE),
]
IN_CALIBRATION = [
    ("Ravi Patel", "SPM"),
    ("Chloé Martin", "SPM"),
    ("Hannah Cole", "SPM"),
]
# (candidate, proposed level code): self-assessment open; Sofia's draft is half done.
IN_SELF_ASSESSMENT = [
    ("Sofia Marquez", "PM"),
    ("Samuel Adeyemi", "GPM"),
]
MANAGERS = ("Daniel Brandt", "Priya Raman", "Tomás Vidal")

# Days from the day the demo is loaded to each phase's due date (negative: already past).
H1_DUE = {
    CyclePhase.NOMINATIONS: -24,
    CyclePhase.SELF_ASSESSMENT: -17,
    CyclePhase.MANAGER_ASSESSMENT: -8,
    CyclePhase.CALIBRATION: 5,
    CyclePhase.DECISIONS: 12,
}
H1_SESSION_IN_DAYS = 1  # the Senior PM calibration meets tomorrow, 15:00 the head's time
Q1_DUE = {
    CyclePhase.NOMINATIONS: -6,
    CyclePhase.SELF_ASSESSMENT: 2,
    CyclePhase.MANAGER_ASSESSMENT: 9,
    CyclePhase.CALIBRATION: 16,
    CyclePhase.DECISIONS: 23,
}

# Ratings follow the evidence: how well it covers a competency, and a nudge per person.
BY_STATUS = {
    readiness.Status.ENOUGH: Rating.EXCEEDS,
    readiness.Status.THIN: Rating.MEETS,
    readiness.Status.NONE: Rating.DEVELOPING,
}
SCALE = list(Rating)

RATIONALES = {
    Rating.EXCEEDS: "Consistently beyond the level: several shared items, confirmed by peers.",
    Rating.MEETS: "Meets the expectation; the linked items show it in the last two quarters.",
    Rating.DEVELOPING: "Some signs of it, not yet consistent; one item and no peer confirmation.",
    Rating.BELOW: "Not yet seen at this level.",
}


def load() -> list[str]:
    """Run the demo cycles whose names are not in Rungs yet; their names."""
    people = {u.name: u for u in db.session.scalars(select(User))}
    if not all(name in people for name in ("Maya Okafor", *MANAGERS)):
        return []
    existing = set(db.session.scalars(select(PromotionCycle.name)))
    loaded = []
    if "H2 2026" not in existing:
        _finished_cycle(people)
        loaded.append("H2 2026")
    if "H1 2027" not in existing:
        _cycle_in_calibration(people)
        loaded.append("H1 2027")
    if "Q1 2027 off-cycle" not in existing:
        _cycle_in_self_assessment(people)
        loaded.append("Q1 2027 off-cycle")
    return loaded


def _to_calibration(people: dict[str, User], name: str, candidates, session_name: str):
    """Open a cycle, nominate and assess the candidates ((name, level code) pairs), plan one
    session with every manager, and move it to calibration: (cycle, cases, session)."""
    head = people["Maya Okafor"]
    cycle = cycles.create_cycle(head, name)
    cases = [_nominate(people, cycle.id, person, code) for person, code in candidates]
    _assess(people, cycle.id, cases)
    session = planning.create_session(
        head,
        cycle.id,
        session_name,
        head.id,
        [people[m].id for m in MANAGERS],
        [case.id for case in cases],
    )
    _move(head, cycle.id, CyclePhase.CALIBRATION)
    return cycle, cases, session


def _finished_cycle(people: dict[str, User]) -> None:
    head = people["Maya Okafor"]
    cycle, cases, session = _to_calibration(
        people,
        "H2 2026",
        [(name, code) for name, code, _ in FINISHED],
        "Second-half calibration",
    )
    for offset, manager in enumerate(MANAGERS):
        for case in cases:
            _vote(people[manager], session.id, case.id, nudge=offset - 1)
    votes.reveal(head, session.id)
    for case, (_name, _code, outcome) in zip(cases, FINISHED, strict=True):
        _agree(head, session.id, case.id, lower=outcome is Outcome.NOT_YET)
        fresh = loading.case(case.id)
        decisions.set_outcome(
            head,
            case.id,
            outcome,
            _outcome_rationale(fresh.candidate.name, outcome),
            expected_revision=fresh.revision,
        )
    decisions.lock(head, session.id)
    _move(head, cycle.id, CyclePhase.DECISIONS)
    for case, (_name, _code, outcome) in zip(cases, FINISHED, strict=True):
        fresh = loading.case(case.id)
        cycles.decide(head, case.id, outcome, "", expected_revision=fresh.revision)
    _move(head, cycle.id, CyclePhase.PUBLISHED)


def _cycle_in_calibration(people: dict[str, User]) -> None:
    head = people["Maya Okafor"]
    cycle, cases, session = _to_calibration(
        people, "H1 2027", IN_CALIBRATION, "Senior PM calibration"
    )
    _set_dates(head, cycle.id, H1_DUE)
    meeting = planning.change_session_page(head, session.id)
    planning.change_session(
        head,
        session.id,
        planning.Scope(
            meeting.current.name,
            meeting.current.facilitator_id,
            meeting.current.participant_ids,
            meeting.current.case_ids,
            scheduled_at=_day_at(head, H1_SESSION_IN_DAYS, 15),
        ),
        expected_revision=meeting.revision,
    )
    # Daniel and Priya have voted on every case; Tomás has not yet, so the votes stay blind.
    for offset, manager in enumerate(MANAGERS[:2]):
        for case in cases:
            _vote(people[manager], session.id, case.id, nudge=offset)


def _cycle_in_self_assessment(people: dict[str, User]) -> None:
    head = people["Maya Okafor"]
    cycle = cycles.create_cycle(head, "Q1 2027 off-cycle")
    cases = [_nominate(people, cycle.id, name, code) for name, code in IN_SELF_ASSESSMENT]
    _move(head, cycle.id, CyclePhase.SELF_ASSESSMENT)
    _set_dates(head, cycle.id, Q1_DUE)
    sofia = db.session.get(User, cases[0].candidate_id)
    _fill(sofia, cases[0].id, RatingSource.SELF, nudge=1, share=0.5)


def _nominate(people, cycle_id: int, name: str, code: str):
    candidate = people[name]
    manager = db.session.get(User, candidate.manager_id)
    level_id = db.session.execute(
        select(Level.id).where(Level.code == code).order_by(Level.id.desc())
    ).scalar()
    first = name.split()[0]
    statement = (
        f"{first} has been working at the next level for two quarters. The evidence below shows "
        "it most clearly in discovery and in how the team's outcomes moved.\n\n"
        "- Leads the quarterly planning for the group without being asked\n"
        "- Other PMs come to them for review of their briefs"
    )
    return cycles.nominate(manager, cycle_id, candidate.id, level_id, statement)


def _assess(people, cycle_id: int, cases) -> None:
    head = people["Maya Okafor"]
    _move(head, cycle_id, CyclePhase.SELF_ASSESSMENT)
    for case in cases:
        candidate = db.session.get(User, case.candidate_id)
        _fill(candidate, case.id, RatingSource.SELF, nudge=1)
    _move(head, cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    for case in cases:
        manager = db.session.get(User, case.manager_id)
        _fill(manager, case.id, RatingSource.MANAGER, nudge=0)


def _fill(
    actor: User, case_id: int, source: RatingSource, *, nudge: int, share: float = 1.0
) -> None:
    """Rate and explain every competency and submit; with `share` below 1, rate only that
    share of them and keep it as a draft."""
    form = assessments.assessment(actor, case_id, source)
    case = loading.case(case_id)
    statuses = readiness.sufficiency(
        [(case.candidate_id, case.proposed_level_id)], since=case_level_reached([case])
    )
    entries = {}
    rated = round(len(form.entries) * share)
    for number, entry in enumerate(form.entries[:rated]):
        base = BY_STATUS[statuses[(case.candidate_id, entry.key)]]
        rating = _shift(base, nudge + _variation(case.candidate_id, number))
        entries[entry.key] = EntryInput(
            rating=rating.value,
            rationale=RATIONALES[rating],
            evidence_ids=tuple(item.id for item in entry.choices[:2]),
        )
    statement = form.statement
    if source is RatingSource.SELF:
        statement = (
            "I have led discovery for our group this half and coached two newer PMs. "
            "I am proudest of the launch where we changed course after the first interviews."
        )
    assessments.save(
        actor,
        case_id,
        source,
        entries,
        statement,
        submit=rated == len(form.entries),
        expected_revision=form.revision,
    )


def _vote(voter: User, session_id: int, case_id: int, *, nudge: int) -> None:
    ballot = votes.ballot_page(voter, session_id, case_id)
    case = loading.case(case_id)
    statuses = readiness.sufficiency(
        [(case.candidate_id, case.proposed_level_id)], since=case_level_reached([case])
    )
    ratings = {}
    for number, item in enumerate(ballot.competencies):
        base = BY_STATUS[statuses[(case.candidate_id, item.key)]]
        step = nudge if number % 3 == 0 else 0
        ratings[item.key] = _shift(base, step + _variation(case.candidate_id + voter.id, number))
    votes.vote(voter, session_id, case_id, ratings)


def _agree(head: User, session_id: int, case_id: int, *, lower: bool) -> None:
    meeting = grid.session_page(head, session_id)
    row = next(r for r in meeting.rows if r.case.id == case_id)
    for number, cell in enumerate(row.cells):
        if not cell.applies:
            continue
        rating = cell.manager or Rating.MEETS
        reason = ""
        if lower and number % 2 == 0:
            rating = _shift(rating, -1)
            reason = "The votes and the evidence put this a step below the manager's rating."
        decisions.agree(
            head,
            session_id,
            case_id,
            cell.key,
            rating,
            RATIONALES[rating],
            reason,
            expected_revision=0,
        )


def _outcome_rationale(name: str, outcome: Outcome) -> str:
    first = name.split()[0]
    if outcome is Outcome.PROMOTE:
        return (
            f"{first} meets or exceeds the expectation of the level in every competency, "
            "with recent evidence confirmed by peers."
        )
    return (
        f"{first} is close. Strategy and prioritisation are not yet at the level; the group "
        "agreed on two concrete goals for next half."
    )


def _move(head: User, cycle_id: int, to: CyclePhase) -> None:
    cycle = loading.cycle(cycle_id)
    cycles.move_phase(head, cycle_id, to, expected_revision=cycle.revision)


def _day_at(head: User, days: int, hour: int = 17) -> datetime:
    """`hour`:00 in the head of product's zone, `days` from today there, as a UTC instant."""
    today = timezones.local(utcnow(), head.time_zone).date()
    return timezones.to_utc(
        datetime.combine(today + timedelta(days=days), time(hour)), head.time_zone
    )


def _set_dates(head: User, cycle_id: int, days: dict[CyclePhase, int]) -> None:
    """Each phase's due date as if set when the cycle was planned (past ones included)."""
    for phase, offset in days.items():
        due = _day_at(head, offset)
        deadlines.set_due(head, cycle_id, phase, due, now=min(utcnow(), due - timedelta(days=60)))


def _variation(seed: int, number: int) -> int:
    """-1, 0 or +1 for some competencies, so that people and raters differ as they would."""
    if (seed + number) % 4 == 0:
        return 1
    if (seed * 3 + number) % 5 == 0:
        return -1
    return 0


def _shift(rating: Rating, steps: int) -> Rating:
    return SCALE[max(0, min(len(SCALE) - 1, SCALE.index(rating) + steps))]
