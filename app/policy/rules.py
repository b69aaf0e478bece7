"""The rule registry: each action's check for one object and its SQL filter for many, together.

A rule about objects names the model its objects are and a filter: a condition on that model's
rows for a given actor. Its check for one object reads the same filter (`matches`), unless it is
a plain comparison of columns, so the item page and the lists, counts and notifications that use
the filter (`where`) cannot disagree. No Flask here: services, the CLI and jobs ask it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, select

from app.core.errors import ForbiddenError, NotFoundError
from app.extensions import db
from app.models import User

Check = Callable[[User, Any], bool]
Filter = Callable[[User], ColumnElement[bool]]


@dataclass(frozen=True)
class Rule:
    """May `actor` do `action` (to `target`): `check` answers for one object or, with no
    object, at route level; `filter` answers for every row of `model` at once."""

    action: str
    check: Check
    model: type | None = None
    filter: Filter | None = None


RULES: dict[str, Rule] = {}


def rule(*actions: str, on: type | None = None, where: Filter | None = None):
    """Register the decorated check for `actions`, with the model of its objects and its filter."""

    def register(check: Check) -> Check:
        for action in actions:
            RULES[action] = Rule(action, check, on, where)
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
    found = RULES.get(action)
    return bool(found is not None and found.check(actor, target))


def authorize(actor: Any, action: str, target: Any = None) -> None:
    """Raise unless allowed: NotFoundError for an object (existence must not leak), else 403."""
    if can(actor, action, target):
        return
    if target is not None:
        raise NotFoundError("Not found.")
    raise ForbiddenError("You do not have access to this page.")


def where(action: str, actor: User) -> ColumnElement[bool]:
    """The rule's filter: which rows of its model `actor` may `action`, for any query."""
    found = RULES.get(action)
    if found is None or found.filter is None:
        raise LookupError(f"no policy filter for {action!r}")
    return found.filter(actor)


def matches(target: Any, condition: ColumnElement[bool]) -> bool:
    """One object against a rule's filter, in one EXISTS: the check and the lists agree."""
    model = type(target)
    return bool(db.session.scalar(select(exists().where(model.id == target.id, condition))))
