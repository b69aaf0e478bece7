"""Rules about promotion packets: the committee's and the candidate's, and when they name votes."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from app.models import CalibrationSession, PromotionCase, Role, User
from app.policy import lines
from app.policy.promotions import published_cycles
from app.policy.rules import matches, rule


def committee_packets_of(viewer: User) -> ColumnElement[bool]:
    """Which cases' committee packet (votes, rationales, the decision log) the viewer may have
    (packet.committee): the head of product and the candidate's manager chain; never the
    candidate."""
    chain = (
        true()
        if viewer.role is Role.HEAD
        else or_(
            PromotionCase.manager_id == viewer.id,
            PromotionCase.candidate_id.in_(lines.reports_below_query(viewer.id)),
        )
    )
    return (PromotionCase.candidate_id != viewer.id) & chain


@rule("packet.committee", on=PromotionCase, where=committee_packets_of)
def _gets_committee_packet(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return actor.is_manager
    if actor.id == case.candidate_id:
        return False
    if actor.role is Role.HEAD or actor.id == case.manager_id:
        return True
    return matches(case, committee_packets_of(actor))


def candidate_packets_of(viewer: User) -> ColumnElement[bool]:
    """Which cases' candidate packet the viewer may have (packet.candidate): the candidate once
    the cycle is published, and whoever may have the committee's (it shows less)."""
    return or_(
        (PromotionCase.candidate_id == viewer.id) & PromotionCase.cycle_id.in_(published_cycles()),
        committee_packets_of(viewer),
    )


@rule("packet.candidate", on=PromotionCase, where=candidate_packets_of)
def _gets_candidate_packet(actor: User, case: PromotionCase | None) -> bool:
    return case is None or matches(case, candidate_packets_of(actor))


def packet_shows_votes(session: CalibrationSession | None) -> bool:
    """Whether the committee packet of a case in `session` names the votes: once the session
    is locked, when the decision record is made. From then on votes.view lets everyone who may
    have the committee packet see the votes in the app too, so the packet shows nobody what
    the app hides; a reveal before the lock is for the session's people only."""
    return session is not None and session.is_locked
