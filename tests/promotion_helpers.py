"""Promotion test data written as rows, so that each part of a cycle can be tested on its own.

`cycle_with_cases` publishes the sample framework (levels L1…L3, competencies skill-0-0 …
skill-1-1), places the organisation's PMs on L1 and opens a cycle in the given phase with one
case per candidate proposing L2. Everything returned is plain ids, usable after the context closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    CyclePhase,
    DecisionLogEntry,
    FrameworkVersion,
    Level,
    PromotionCase,
    PromotionCycle,
    Rating,
    RatingSource,
    User,
    VersionStatus,
    Vote,
)
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services.frameworks import files
from tests.factories import Organisation, Person
from tests.framework_samples import framework_yaml

KEYS = ["skill-0-0", "skill-0-1", "skill-1-0", "skill-1-1"]
B, D, M, E = Rating.BELOW, Rating.DEVELOPING, Rating.MEETS, Rating.EXCEEDS
LOCKED = (
    "is locked; nothing in it can be changed"  # the refusal of every change to a locked session
)


def user(person) -> User:
    """The person's row in the current session."""
    return db.session.get(User, person.id)


def log_entries(action: str) -> list[DecisionLogEntry]:
    """The decision log's entries of one kind, oldest first."""
    return list(
        db.session.scalars(
            select(DecisionLogEntry)
            .where(DecisionLogEntry.action == action)
            .order_by(DecisionLogEntry.id)
        )
    )


def ratings(*values: Rating) -> dict[str, Rating]:
    """One rating per sample competency, in KEYS order."""
    return dict(zip(KEYS, values, strict=True))


@dataclass(frozen=True)
class CycleData:
    cycle_id: int
    level_ids: dict[str, int]  # code → id
    case_ids: dict[int, int] = field(default_factory=dict)  # candidate id → case id
    session_id: int | None = None


def publish_sample(app, *, levels: int = 3, areas: int = 2, per_area: int = 2) -> dict[str, int]:
    """Publish the sample framework once; code → level id."""
    with app.app_context():
        if db.session.execute(select(Level.id).where(Level.code == "L1")).first() is None:
            files.import_text(
                SYSTEM,
                framework_yaml(levels=levels, areas=areas, per_area=per_area),
                "yaml",
                publish=True,
            )
            db.session.commit()
        return dict(db.session.execute(select(Level.code, Level.id)).all())


def place(app, people, level_id: int) -> None:
    with app.app_context():
        for person in people:
            db.session.get(User, person.id).level_id = level_id
        db.session.commit()


def make_cycle(app, *, name: str = "H1 2027", phase: CyclePhase = CyclePhase.NOMINATIONS) -> int:
    with app.app_context():
        cycle = PromotionCycle(name=name, phase=phase)
        cycle.versions = list(
            db.session.scalars(
                select(FrameworkVersion).where(FrameworkVersion.status == VersionStatus.PUBLISHED)
            )
        )
        if phase is CyclePhase.PUBLISHED:
            cycle.published_at = utcnow()
        db.session.add(cycle)
        db.session.commit()
        return cycle.id


def make_case(
    app,
    cycle_id: int,
    candidate: Person,
    *,
    current_level_id: int,
    proposed_level_id: int,
    statement: str = "Ready: leads discovery for the whole group.",
) -> int:
    with app.app_context():
        user = db.session.get(User, candidate.id)
        case = PromotionCase(
            cycle_id=cycle_id,
            candidate_id=user.id,
            current_level_id=current_level_id,
            proposed_level_id=proposed_level_id,
            manager_id=user.manager_id,
            nominated_by_id=user.manager_id,
            statement=statement,
        )
        db.session.add(case)
        db.session.commit()
        return case.id


def rate(
    app,
    case_id: int,
    source: RatingSource,
    ratings: dict[str, Rating],
    *,
    rationale: str = "Seen in the launch reviews.",
    submit: bool = True,
    by: Person | None = None,
) -> None:
    """Store a whole assessment (self or manager) or agreed ratings for a case."""
    with app.app_context():
        for key, value in ratings.items():
            db.session.add(
                CaseRating(
                    case_id=case_id,
                    competency_key=key,
                    source=source,
                    rating=value,
                    rationale=rationale,
                    updated_by_id=by.id if by else None,
                )
            )
        if submit:
            case = db.session.get(PromotionCase, case_id)
            if source is RatingSource.SELF:
                case.self_submitted_at = utcnow()
            elif source is RatingSource.MANAGER:
                case.manager_submitted_at = utcnow()
        db.session.commit()


def make_session(
    app,
    cycle_id: int,
    *,
    facilitator: Person,
    participants: list[Person],
    case_ids: list[int],
    name: str = "Senior PM calibration",
) -> int:
    with app.app_context():
        session = CalibrationSession(cycle_id=cycle_id, name=name, facilitator_id=facilitator.id)
        session.participants = [db.session.get(User, p.id) for p in participants]
        db.session.add(session)
        db.session.flush()
        for case_id in case_ids:
            db.session.get(PromotionCase, case_id).session_id = session.id
        db.session.commit()
        return session.id


def vote(app, session_id: int, case_id: int, voter: Person, ratings: dict[str, Rating]) -> None:
    with app.app_context():
        for key, value in ratings.items():
            db.session.add(
                Vote(
                    session_id=session_id,
                    case_id=case_id,
                    voter_id=voter.id,
                    competency_key=key,
                    rating=value,
                )
            )
        db.session.commit()


def set_phase(app, cycle_id: int, phase: CyclePhase) -> None:
    with app.app_context():
        cycle = db.session.get(PromotionCycle, cycle_id)
        cycle.phase = phase
        if phase is CyclePhase.PUBLISHED:
            cycle.published_at = utcnow()
        db.session.commit()


def all_meets() -> dict[str, Rating]:
    return dict.fromkeys(KEYS, Rating.MEETS)


def cycle_with_cases(
    app,
    org: Organisation,
    *,
    phase: CyclePhase = CyclePhase.NOMINATIONS,
    candidates: tuple[str, ...] = ("pm_a1", "pm_b1"),
    with_session: bool = False,
) -> CycleData:
    """A cycle in `phase` with a case per candidate (L1 → L2). With a session: facilitated by
    the head, manager_a and manager_b participating, every case in scope."""
    levels = publish_sample(app)
    people = [getattr(org, name) for name in candidates]
    place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1], levels["L1"])
    cycle_id = make_cycle(app, phase=phase)
    case_ids = {
        person.id: make_case(
            app,
            cycle_id,
            person,
            current_level_id=levels["L1"],
            proposed_level_id=levels["L2"],
        )
        for person in people
    }
    session_id = None
    if with_session:
        session_id = make_session(
            app,
            cycle_id,
            facilitator=org.head,
            participants=[org.manager_a, org.manager_b],
            case_ids=list(case_ids.values()),
        )
    return CycleData(cycle_id, levels, case_ids, session_id)
