"""Rules about people: the signed-in basics, the head of product's tasks, profiles and growth."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from app.extensions import db
from app.models import Role, User
from app.policy import lines
from app.policy.rules import matches, rule, where


@rule("home.view", "account.manage", "frameworks.view", "evidence.log", "notifications.view")
def _any_signed_in(actor: User, target: Any) -> bool:
    return True


@rule("people.manage", "frameworks.manage", "settings.manage")
def _head_only(actor: User, target: Any) -> bool:
    return actor.role is Role.HEAD


@rule("team.view")
def _manages_people(actor: User, target: Any) -> bool:
    """The team page: managers and the head of product."""
    return actor.is_manager


def people_visible_to(viewer: User) -> ColumnElement[bool]:
    """Which User rows' profiles the viewer may open (person.view): the head of product
    everyone's; the others the people they are linked to: themselves, their managers up the
    line, everyone who reports to them at any depth, their mentors and their mentees."""
    if viewer.role is Role.HEAD:
        return true()
    return or_(
        User.id == viewer.id,
        User.id.in_(lines.managers_above_query(viewer.id)),
        User.id.in_(lines.reports_below_query(viewer.id)),
        User.id.in_(lines.mentors_of_query(viewer.id)),
        User.id.in_(lines.mentees_of_query(viewer.id)),
    )


@rule("person.view", on=User, where=people_visible_to)
def _can_view_person(actor: User, person: User | None) -> bool:
    if person is None:  # route level: every signed-in person may open some profile (their own)
        return True
    if actor.role is Role.HEAD or person.id == actor.id:
        return True
    return matches(person, people_visible_to(actor))


def visible_people(actor: User) -> set[int] | None:
    """The ids of the person.view filter, for pages that ask about many people; None means
    everyone (the head of product)."""
    if actor.role is Role.HEAD:
        return None
    return set(db.session.scalars(select(User.id).where(where("person.view", actor))))


def growth_visible_to(viewer: User) -> ColumnElement[bool]:
    """Whose readiness the viewer may follow (growth.view): readiness is read from evidence, so
    it follows who sees the evidence: the person, and (computed from shared items only) their
    managers up the line and their mentors."""
    return or_(
        User.id == viewer.id,
        User.id.in_(lines.reports_below_query(viewer.id)),
        User.id.in_(lines.mentees_of_query(viewer.id)),
    )


@rule("growth.view", on=User, where=growth_visible_to)
def _can_view_growth(actor: User, person: User | None) -> bool:
    if person is None or person.id == actor.id:
        return True
    return matches(person, growth_visible_to(actor))
