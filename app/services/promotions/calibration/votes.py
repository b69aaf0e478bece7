"""Blind pre-votes: a participant's vote on every competency of a case, the vote page, and the
facilitator's reveal after which everyone in the session sees every vote."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import Row, select

from app import policy
from app.core.errors import ForbiddenError, ValidationError
from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    PromotionCase,
    Rating,
    RatingSource,
    User,
    Vote,
)
from app.models.base import utcnow
from app.policy.phases import Activity
from app.services.growth import readiness
from app.services.promotions.calibration.checks import (
    case_in,
    choice,
    expected_at,
    may_vote,
    require_editable,
    visible_session,
)
from app.services.promotions.log import LogAction, record


def participant_votes(session: CalibrationSession, *criteria, options=()) -> list[Vote]:
    """The session's votes that count: those of its current participants (someone taken out of
    the session keeps their rows in the log, but their votes no longer show or count)."""
    participant_ids = {p.id for p in session.participants}
    rows = db.session.scalars(
        select(Vote).where(Vote.session_id == session.id, *criteria).options(*options)
    )
    return [v for v in rows if v.voter_id in participant_ids]


def participant_vote_rows(session: CalibrationSession) -> list[Row]:
    """participant_votes as (case_id, voter_id, competency_key, rating) rows, for a page that
    reads a whole session's: loading each as an object was a third of the grid's time."""
    participant_ids = {p.id for p in session.participants}
    rows = db.session.execute(
        select(Vote.case_id, Vote.voter_id, Vote.competency_key, Vote.rating).where(
            Vote.session_id == session.id
        )
    )
    return [v for v in rows if v.voter_id in participant_ids]


def vote(actor: User, session_id: int, case_id: int, ratings: dict[str, Rating | str]) -> int:
    """Record or change the actor's blind vote on every competency of a case; returns how many
    votes changed (each is logged)."""
    session = visible_session(actor, session_id)
    require_editable(actor, session, Activity.VOTE, "session.vote")
    case = case_in(session, case_id)
    if case.candidate_id == actor.id:
        raise ForbiddenError("Nobody votes on their own case.")
    expected = expected_at(case.proposed_level_id)
    unrated = [e.name for e in expected if not ratings.get(e.key)]
    if unrated:
        raise ValidationError(f"Vote on every competency; still open: {', '.join(unrated)}.")
    wanted = {e.key: choice(Rating, ratings[e.key], e.key, "Choose a rating.") for e in expected}
    mine = {
        v.competency_key: v
        for v in db.session.scalars(
            select(Vote).where(
                Vote.session_id == session.id, Vote.case_id == case.id, Vote.voter_id == actor.id
            )
        )
    }
    changed = 0
    for key, rating in wanted.items():
        current = mine.get(key)
        before = current.rating if current is not None else None
        if before is rating:
            continue
        if current is None:
            db.session.add(
                Vote(
                    session_id=session.id,
                    case_id=case.id,
                    voter_id=actor.id,
                    competency_key=key,
                    rating=rating,
                )
            )
        else:
            current.rating, current.updated_at = rating, utcnow()
        record(
            actor,
            LogAction.VOTE,
            cycle_id=session.cycle_id,
            session_id=session.id,
            case_id=case.id,
            competency_key=key,
            from_value=before,
            to_value=rating,
        )
        changed += 1
    db.session.flush()
    return changed


def reveal(actor: User, session_id: int) -> CalibrationSession:
    """Everyone in the session sees every vote from now on."""
    session = visible_session(actor, session_id)
    require_editable(actor, session, Activity.CALIBRATE, "session.facilitate")
    if session.votes_revealed:
        raise ValidationError("The votes of this session are already revealed.")
    session.votes_revealed_at = utcnow()
    record(actor, LogAction.VOTES_REVEALED, cycle_id=session.cycle_id, session_id=session.id)
    db.session.flush()
    return session


@dataclass(frozen=True)
class Ballot:
    """A case as one person in its session sees it: what they vote on, their votes so far, the
    outcome (set here by the facilitator)."""

    session: CalibrationSession
    case: PromotionCase
    competencies: list[readiness.Expected]
    my_votes: dict[str, Rating]
    agreed: dict[str, Rating | None]
    manager: dict[str, Rating | None]  # the submitted manager assessment's ratings
    can_vote: bool
    can_facilitate: bool
    outcome_rationale_html: Markup

    @property
    def unagreed(self) -> list[readiness.Expected]:
        """The competencies still without an agreed rating."""
        return [c for c in self.competencies if self.agreed.get(c.key) is None]

    @property
    def may_agree_rest(self) -> bool:
        """Whether "agree with the manager's rating for the rest" would fill anything."""
        return self.can_facilitate and any(self.manager.get(c.key) for c in self.unagreed)


def ballot_page(viewer: User, session_id: int, case_id: int) -> Ballot:
    """The vote and outcome page of a case in a session (five queries or so, any size)."""
    session = visible_session(viewer, session_id)
    case = case_in(session, case_id)
    policy.authorize(viewer, "case.view_assessment", case)
    mine = db.session.execute(
        select(Vote.competency_key, Vote.rating).where(
            Vote.session_id == session.id, Vote.case_id == case.id, Vote.voter_id == viewer.id
        )
    ).all()
    rated = db.session.execute(
        select(CaseRating.competency_key, CaseRating.source, CaseRating.rating).where(
            CaseRating.case_id == case.id,
            CaseRating.source.in_([RatingSource.AGREED, RatingSource.MANAGER]),
        )
    ).all()
    agreed = {key: rating for key, source, rating in rated if source is RatingSource.AGREED}
    manager = {}
    if case.manager_submitted_at is not None:
        manager = {key: rating for key, source, rating in rated if source is RatingSource.MANAGER}
    return Ballot(
        session=session,
        case=case,
        competencies=expected_at(case.proposed_level_id),
        my_votes=dict(mine),
        agreed=agreed,
        manager=manager,
        can_vote=may_vote(viewer, session, case),
        can_facilitate=policy.can(viewer, "session.facilitate", session),
        outcome_rationale_html=case.html("outcome_rationale"),
    )
