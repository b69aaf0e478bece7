"""Rules about evidence: who sees an item, edits it, comments on it and gives it kudos."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from app.models import Corroboration, Evidence, User, Visibility
from app.policy import lines
from app.policy.rules import matches, rule


def evidence_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which Evidence rows the viewer may open (evidence.view), as a condition for any query:
    the item page, lists, search, notifications and counts agree.

    The owner, always (their Trash included). Anyone else only while the item is shared and out
    of the Trash, and then only the owner's managers up the line, their mentors, the peers
    the owner asked to corroborate it (asking needs a shared item) and, for an item the owner
    offered as a lesson, their team: the people who share their manager and their direct
    reports. Nobody else: the head of product sees an item only from that line (or, in a
    promotion case, in its packet).
    """
    asked = select(Corroboration.evidence_id).where(Corroboration.peer_id == viewer.id)
    return or_(
        Evidence.owner_id == viewer.id,
        Evidence.is_visible_to_others
        & or_(
            Evidence.owner_id.in_(lines.reports_below_query(viewer.id)),
            Evidence.owner_id.in_(lines.mentees_of_query(viewer.id)),
            Evidence.id.in_(asked),
            Evidence.lesson_shared_at.is_not(None)
            & or_(
                Evidence.owner_id.in_(lines.teammates_query(viewer.id)),
                Evidence.owner_id.in_(lines.manager_of_query(viewer.id)),
            ),
        ),
    )


@rule("evidence.view", on=Evidence, where=evidence_readable_by)
def _can_view_evidence(actor: User, evidence: Evidence | None) -> bool:
    if evidence is None or evidence.owner_id == actor.id:
        return True
    return evidence.is_visible_to_others and matches(evidence, evidence_readable_by(actor))


def evidence_editable_by(actor: User) -> ColumnElement[bool]:
    """The owner's items, and nobody else's (evidence.edit)."""
    return Evidence.owner_id == actor.id


@rule("evidence.edit", on=Evidence, where=evidence_editable_by)
def _owns_evidence(actor: User, evidence: Evidence | None) -> bool:
    """The filter's comparison of columns on one object (tests/services/test_policy_rules.py
    proves them equal)."""
    return evidence is None or evidence.owner_id == actor.id


def evidence_commentable_by(viewer: User) -> ColumnElement[bool]:
    """Which items the viewer may comment on (evidence.comment): shared ones, by the owner,
    their managers up the line and their mentors. A peer asked to corroborate is not one."""
    return Evidence.is_visible_to_others & or_(
        Evidence.owner_id == viewer.id,
        Evidence.owner_id.in_(lines.reports_below_query(viewer.id)),
        Evidence.owner_id.in_(lines.mentees_of_query(viewer.id)),
    )


@rule("evidence.comment", on=Evidence, where=evidence_commentable_by)
def _can_comment(actor: User, evidence: Evidence | None) -> bool:
    if evidence is None:
        return True
    if not evidence.is_visible_to_others:
        return False
    return evidence.owner_id == actor.id or matches(evidence, evidence_commentable_by(actor))


def kudos_givable_by(viewer: User) -> ColumnElement[bool]:
    """Which items the viewer may give kudos to (evidence.kudos): shared items they may see,
    never their own."""
    return (
        (Evidence.visibility == Visibility.SHARED)
        & (Evidence.owner_id != viewer.id)
        & evidence_readable_by(viewer)
    )


@rule("evidence.kudos", on=Evidence, where=kudos_givable_by)
def _can_give_kudos(actor: User, evidence: Evidence | None) -> bool:
    if evidence is None:
        return True
    if not evidence.is_shared or evidence.owner_id == actor.id:
        return False
    return matches(evidence, kudos_givable_by(actor))


@rule("evidence.share_lesson", on=Evidence, where=evidence_editable_by)
def _owns_lesson(actor: User, evidence: Evidence | None) -> bool:
    """Only the owner offers their item to their team as a lesson (the service checks that it
    is a shared learning-from-failure item)."""
    return evidence is None or evidence.owner_id == actor.id
