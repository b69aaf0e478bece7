"""What a session decides: the agreed rating of each competency (one by one, or the manager's
for all the rest of a case), the outcome of each case, and locking the session, which needs
both for every case (reopened only by the head of product, saying why)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import policy
from app.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    NotificationKind,
    Outcome,
    PromotionCase,
    Rating,
    RatingSource,
    Role,
    User,
)
from app.models.base import utcnow
from app.policy import phases
from app.policy.phases import Activity
from app.services import notifications
from app.services.growth import readiness
from app.services.promotions import loading
from app.services.promotions.calibration.checks import (
    TEXT_MAX,
    case_in,
    choice,
    expected_at,
    names_of,
    require_editable,
    required_text,
    visible_session,
)
from app.services.promotions.log import LogAction, record

# --- agreed ratings -----------------------------------------------------------------------------


def agree(
    actor: User,
    session_id: int,
    case_id: int,
    key: str,
    rating: Rating | str,
    rationale: str,
    reason: str,
    *,
    expected_revision: int,
) -> CaseRating:
    """Set the agreed rating of one competency; a change away from the manager's rating needs a
    reason. A save over someone else's newer save is a ConflictError with their values."""
    session = visible_session(actor, session_id)
    require_editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    case = case_in(session, case_id)
    if key not in {e.key for e in expected_at(case.proposed_level_id)}:
        raise NotFoundError("This competency does not apply at the proposed level.")
    rating = choice(Rating, rating, "rating", "Choose a rating.")
    rationale = required_text(
        rationale,
        "rationale",
        "Write the rationale: the candidate reads it once the cycle is published.",
    )
    reason = (reason or "").strip()
    if len(reason) > TEXT_MAX:
        raise ValidationError(f"Use at most {TEXT_MAX:,} characters.", field="reason")
    stored = {
        r.source: r
        for r in db.session.scalars(
            select(CaseRating).where(
                CaseRating.case_id == case.id,
                CaseRating.competency_key == key,
                CaseRating.source.in_([RatingSource.MANAGER, RatingSource.AGREED]),
            )
        )
    }
    manager = stored.get(RatingSource.MANAGER)
    manager_rating = manager.rating if manager and case.manager_submitted_at else None
    if rating is not manager_rating and not reason:
        raise ValidationError(
            "This differs from the manager's rating "
            f"({manager_rating.label if manager_rating else 'none'}): give the reason.",
            field="reason",
        )
    agreed = stored.get(RatingSource.AGREED)
    current_revision = agreed.revision if agreed else 0
    if current_revision != expected_revision:
        raise _agree_conflict(agreed)
    if agreed and (agreed.rating, agreed.rationale, agreed.reason) == (rating, rationale, reason):
        return agreed
    before = agreed.rating if agreed else manager_rating

    def save() -> CaseRating:
        row = agreed or CaseRating(case_id=case.id, competency_key=key, source=RatingSource.AGREED)
        db.session.add(row)
        row.rating, row.rationale, row.reason = rating, rationale, reason
        row.updated_at, row.updated_by_id = utcnow(), actor.id
        return row

    agreed = _save_or_conflict(save, case.id, key)
    record(
        actor,
        LogAction.AGREED_RATING,
        cycle_id=session.cycle_id,
        session_id=session.id,
        case_id=case.id,
        competency_key=key,
        from_value=before,
        to_value=rating,
        reason=reason or rationale,
    )
    db.session.flush()
    return agreed


def _save_or_conflict(save, case_id: int, key: str) -> CaseRating:
    """Two saves racing past the revision check: the database refuses the second (a stale
    revision or a duplicate row), inside a savepoint so that the refusal can be reported."""
    try:
        with db.session.begin_nested():
            row = save()
            db.session.flush()
            return row
    except (StaleDataError, IntegrityError):
        db.session.expire_all()
        stored = db.session.scalars(
            select(CaseRating).where(
                CaseRating.case_id == case_id,
                CaseRating.competency_key == key,
                CaseRating.source == RatingSource.AGREED,
            )
        ).one_or_none()
        raise _agree_conflict(stored) from None


def _agree_conflict(stored: CaseRating | None) -> ConflictError:
    names = names_of({stored.updated_by_id} - {None}) if stored else {}
    return ConflictError(
        "Someone saved this agreed rating while you were editing it.",
        current={
            "rating": stored.rating if stored else None,
            "rationale": stored.rationale if stored else "",
            "reason": stored.reason if stored else "",
            "by": names.get(stored.updated_by_id) if stored else None,
            "at": stored.updated_at if stored else None,
            "revision": stored.revision if stored else 0,
        },
    )


AGREED_WITH_MANAGER = "Agreed with the manager's rating."
AGREED_RATIONALE = "The session agreed with the manager's rating."


@dataclass(frozen=True)
class AgreedRest:
    """What "agree with the manager's rating for the rest" did to one case."""

    candidate: str
    filled: list[str]  # the competencies now agreed at the manager's rating
    no_manager: list[str]  # still without an agreed rating: the manager gave none


def agree_rest(actor: User, session_id: int, case_id: int) -> AgreedRest:
    """Agree the manager's rating on every competency of a case that has no agreed rating yet,
    each written to the decision log like an agreed rating. A competency the manager did not
    rate stays open: it is agreed on its own cell."""
    session = visible_session(actor, session_id)
    require_editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    case = case_in(session, case_id)
    stored = {
        (r.competency_key, r.source): r.rating
        for r in db.session.scalars(
            select(CaseRating).where(
                CaseRating.case_id == case.id,
                CaseRating.source.in_([RatingSource.MANAGER, RatingSource.AGREED]),
            )
        )
    }
    open_ = [
        e for e in expected_at(case.proposed_level_id) if (e.key, RatingSource.AGREED) not in stored
    ]
    name = case.candidate.name
    if not open_:
        raise ValidationError(f"Every competency of {name}'s case already has an agreed rating.")
    ratable = [
        (e, stored.get((e.key, RatingSource.MANAGER)) if case.manager_submitted_at else None)
        for e in open_
    ]
    fill = [(e, rating) for e, rating in ratable if rating is not None]
    no_manager = [e.name for e, rating in ratable if rating is None]
    if not fill:
        raise ValidationError(
            f"The manager gave no rating for {', '.join(no_manager)} on {name}'s case: agree "
            "each on its own cell."
        )
    now = utcnow()
    try:
        with db.session.begin_nested():
            for expected, rating in fill:
                db.session.add(
                    CaseRating(
                        case_id=case.id,
                        competency_key=expected.key,
                        source=RatingSource.AGREED,
                        rating=rating,
                        rationale=AGREED_RATIONALE,
                        updated_at=now,
                        updated_by_id=actor.id,
                    )
                )
            db.session.flush()
    except IntegrityError:  # someone agreed one of them at the same moment
        db.session.expire_all()
        raise ConflictError(
            f"Someone agreed a rating on {name}'s case at the same moment; look at it again.",
            current={},
        ) from None
    for expected, rating in fill:
        record(
            actor,
            LogAction.AGREED_RATING,
            cycle_id=session.cycle_id,
            session_id=session.id,
            case_id=case.id,
            competency_key=expected.key,
            from_value=rating,
            to_value=rating,
            reason=AGREED_WITH_MANAGER,
        )
    db.session.flush()
    return AgreedRest(name, [e.name for e, _ in fill], no_manager)


@dataclass(frozen=True)
class Unagreed:
    """A case of a session with competencies still without an agreed rating."""

    case_id: int
    candidate: str
    missing: list[str]  # the competencies' names
    total: int

    @property
    def sentence(self) -> str:
        many = "competencies have" if self.total != 1 else "competency has"
        return f"{self.candidate}: {len(self.missing)} of {self.total} {many} no agreed rating"


def unagreed(session: CalibrationSession) -> list[Unagreed]:
    """The session's open cases with competencies still to agree, by candidate (two queries and
    the competencies of the levels, whatever the number of cases)."""
    cases = db.session.execute(
        select(PromotionCase.id, PromotionCase.proposed_level_id, User.name)
        .join(User, PromotionCase.candidate_id == User.id)
        .where(PromotionCase.session_id == session.id, PromotionCase.withdrawn_at.is_(None))
        .order_by(User.name, PromotionCase.id)
    ).all()
    if not cases:
        return []
    agreed = set(
        db.session.execute(
            select(CaseRating.case_id, CaseRating.competency_key).where(
                CaseRating.case_id.in_([c.id for c in cases]),
                CaseRating.source == RatingSource.AGREED,
                CaseRating.rating.is_not(None),
            )
        ).all()
    )
    expected = readiness.competencies_at({c.proposed_level_id for c in cases})
    found = []
    for case_id, level_id, name in cases:
        wanted = expected[level_id]
        missing = [e.name for e in wanted if (case_id, e.key) not in agreed]
        if missing:
            found.append(Unagreed(case_id, name, missing, len(wanted)))
    return found


def without_outcome(session: CalibrationSession) -> list[str]:
    """The candidates of the session's open cases that have no outcome yet, by name."""
    return list(
        db.session.scalars(
            select(User.name)
            .join(PromotionCase, PromotionCase.candidate_id == User.id)
            .where(
                PromotionCase.session_id == session.id,
                PromotionCase.withdrawn_at.is_(None),
                PromotionCase.outcome.is_(None),
            )
            .order_by(User.name)
        )
    )


def lock_blockers(session: CalibrationSession) -> list[str]:
    """What stops the session from being locked, a sentence per case; empty when nothing does."""
    problems = [f"{u.sentence}." for u in unagreed(session)]
    undecided = without_outcome(session)
    if undecided:
        problems.append(f"Still without an outcome: {', '.join(undecided)}.")
    return problems


# --- outcomes -----------------------------------------------------------------------------------


def set_outcome(
    actor: User, case_id: int, outcome: Outcome | str, rationale: str, *, expected_revision: int
) -> PromotionCase:
    """The session's outcome for a case (promote, not yet, defer), with its rationale."""
    case = loading.case(case_id)
    if case.session_id is None:
        raise ValidationError("This case is not in a calibration session.")
    session = visible_session(actor, case.session_id)
    require_editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    if not case.is_open:
        raise ValidationError("This case was withdrawn.")
    outcome = choice(Outcome, outcome, "outcome", "Choose an outcome.")
    rationale = required_text(
        rationale,
        "outcome_rationale",
        "Write the rationale for the outcome: the candidate reads it once published.",
    )
    if case.revision != expected_revision:
        raise ConflictError(
            "This case changed since you opened the page.",
            current={"outcome": case.outcome, "rationale": case.outcome_rationale},
        )
    if (case.outcome, case.outcome_rationale) == (outcome, rationale):
        return case
    before = case.outcome
    case.outcome, case.outcome_rationale, case.updated_at = outcome, rationale, utcnow()
    record(
        actor,
        LogAction.OUTCOME,
        cycle_id=case.cycle_id,
        session_id=session.id,
        case_id=case.id,
        from_value=before,
        to_value=outcome,
        reason=rationale,
    )
    db.session.flush()
    return case


# --- lock and reopen ----------------------------------------------------------------------------


def lock(actor: User, session_id: int) -> CalibrationSession:
    """Nothing in the session can change after this, unless the head of product reopens it."""
    session = visible_session(actor, session_id)
    require_editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    problems = lock_blockers(session)
    if problems:
        raise ValidationError(
            "Every case needs an agreed rating for each competency and an outcome before "
            f"{session.name} is locked. {' '.join(problems)}"
        )
    session.locked_at, session.locked_by_id = utcnow(), actor.id
    record(actor, LogAction.SESSION_LOCKED, cycle_id=session.cycle_id, session_id=session.id)
    heads = db.session.scalars(
        select(User.id).where(User.role == Role.HEAD, User.deactivated_at.is_(None))
    ).all()
    notifications.notify(
        {*(p.id for p in session.participants), *heads},
        NotificationKind.SESSION_LOCKED,
        actor_id=actor.id,
        session_id=session.id,
    )
    db.session.flush()
    return session


def reopen(actor: User, session_id: int, reason: str) -> CalibrationSession:
    """The head of product reopens a locked session, saying why."""
    session = visible_session(actor, session_id)
    # What about the session refuses it first (as require_editable does), then the rule: who
    # may reopen is the session.reopen rule's alone, not restated here.
    if not session.is_locked:
        raise ValidationError(f"{session.name} is not locked.")
    phases.require(session.cycle, Activity.CALIBRATE)
    if not policy.can(actor, "session.reopen", session):
        raise ForbiddenError("Only the head of product reopens a session.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Say why the session is reopened; it is kept in the decision log.", field="reason"
        )
    session.locked_at, session.locked_by_id = None, None
    record(
        actor,
        LogAction.SESSION_REOPENED,
        cycle_id=session.cycle_id,
        session_id=session.id,
        reason=reason[:TEXT_MAX],
    )
    db.session.flush()
    return session
