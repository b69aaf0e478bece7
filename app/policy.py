"""Authorization in one place: may this person do this (to that object)? Deny by default.

Every view is marked either `@requires(action)` or `@public`; a request to an endpoint with
neither is refused before the view runs, and a test walks the URL map for unmarked endpoints.
Object-level refusals answer 404, so that a refusal does not reveal that the object exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db, login_manager
from app.models import Corroboration, Role, User
from app.services import org
from app.services.errors import ForbiddenError, NotFoundError

Rule = Callable[[User, Any], bool]
RULES: dict[str, Rule] = {}

# Endpoints that anyone may reach, signed in or not.
PUBLIC_ENDPOINTS = frozenset({"static"})


def rule(action: str) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        RULES[action] = check
        return check

    return register


class _System:
    """The operator at the command line: trusted with every action, audited with no person."""

    id = None
    is_authenticated = True
    is_active = True

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def can(actor: Any, action: str, target: Any = None) -> bool:
    """True only when a rule for `action` exists and allows it; anonymous people may do nothing."""
    if actor is SYSTEM:
        return action in RULES
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    check = RULES.get(action)
    return bool(check is not None and check(actor, target))


def authorize(actor: Any, action: str, target: Any = None) -> None:
    """Raise unless allowed: NotFoundError for an object (existence must not leak), else 403."""
    if can(actor, action, target):
        return
    if target is not None:
        raise NotFoundError("Not found.")
    raise ForbiddenError("You do not have access to this page.")


# --- rules -------------------------------------------------------------------------------------


@rule("home.view")
@rule("account.manage")
@rule("frameworks.view")
@rule("evidence.log")
@rule("notifications.view")
def _any_signed_in(actor: User, target: Any) -> bool:
    return True


@rule("people.manage")
@rule("frameworks.manage")
@rule("settings.manage")
def _head_only(actor: User, target: Any) -> bool:
    return actor.role is Role.HEAD


@rule("team.view")
def _manages_people(actor: User, target: Any) -> bool:
    """The team page: managers and the head of product."""
    return actor.is_manager


@rule("person.view")
def _can_view_person(actor: User, person: User | None) -> bool:
    if person is None:  # route level: every signed-in person may open some profile (their own)
        return True
    visible = visible_people(actor)
    return visible is None or person.id in visible


@rule("framework_version.view")
def _can_view_version(actor: User, version) -> bool:
    """Published and archived versions are for everyone; drafts only for the head of product."""
    if version is None:
        return True
    return not version.is_draft or actor.role is Role.HEAD


@rule("evidence.view")
def _can_view_evidence(actor: User, evidence) -> bool:
    """The owner; for shared items their managers up the line and their mentors; and a peer
    asked to corroborate it. Nobody else, the head of product included, and never the Trash
    except for its owner."""
    if evidence is None:
        return True
    if evidence.owner_id == actor.id:
        return True
    if evidence.in_trash:
        return False
    if _is_corroborator(actor.id, evidence.id):
        return True
    if not evidence.is_shared:
        return False
    return actor.id in org.managers_above(evidence.owner_id) or actor.id in org.mentors_of(
        evidence.owner_id
    )


@rule("growth.view")
def _can_view_growth(actor: User, person: User | None) -> bool:
    """Readiness is read from evidence, so it follows who sees the evidence: the person, and
    (computed from shared items only) their managers up the line and their mentors."""
    if person is None:
        return True
    if person.id == actor.id:
        return True
    return actor.id in org.managers_above(person.id) or actor.id in org.mentors_of(person.id)


@rule("evidence.edit")
def _owns_evidence(actor: User, evidence) -> bool:
    return evidence is None or evidence.owner_id == actor.id


@rule("evidence.comment")
def _can_comment(actor: User, evidence) -> bool:
    """Shared items: the owner, their managers up the line and their mentors."""
    if evidence is None:
        return True
    if evidence.in_trash or not evidence.is_shared:
        return False
    return (
        evidence.owner_id == actor.id
        or actor.id in org.managers_above(evidence.owner_id)
        or actor.id in org.mentors_of(evidence.owner_id)
    )


@rule("evidence.kudos")
def _can_give_kudos(actor: User, evidence) -> bool:
    """Shared items: everyone who may see them except the owner."""
    if evidence is None:
        return True
    return (
        evidence.is_shared and evidence.owner_id != actor.id and _can_view_evidence(actor, evidence)
    )


def _is_corroborator(person_id: int, evidence_id: int) -> bool:
    return (
        db.session.execute(
            select(Corroboration.id).where(
                Corroboration.evidence_id == evidence_id, Corroboration.peer_id == person_id
            )
        ).first()
        is not None
    )


def visible_people(actor: User) -> set[int] | None:
    """Whose profile the actor may see: None means everyone (the head of product).

    Otherwise the people they are linked to: themselves, their managers up the line, everyone
    who reports to them at any depth, their mentors and their mentees.
    """
    if actor.role is Role.HEAD:
        return None
    return org.related_people(actor.id)


# --- view marking and enforcement -------------------------------------------------------------


def requires(action: str):
    """Mark a view as needing a signed-in person whom the policy allows `action` (route level)."""
    if action not in RULES:
        raise LookupError(f"no policy rule for {action!r}")

    def mark(view):
        view.policy_action = action
        return view

    return mark


def public(view):
    """Mark a view as reachable without signing in."""
    view.is_public = True
    return view


def enforce() -> Any:
    """before_request hook: sign-in and the route-level rule, before any view runs."""
    if request.endpoint is None:
        return None  # no such route: the 404 follows
    view = current_app.view_functions[request.endpoint]
    if request.endpoint in PUBLIC_ENDPOINTS or getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    action = getattr(view, "policy_action", None)
    if action is None or not can(current_user, action):
        abort(403)
    return None
