"""Reporting lines and mentoring as subqueries: what the rules' filters are built from.

Each costs no query of its own and reads the line with one recursive query whatever its depth.
The recursive queries are unnamed, so that one statement may hold several (two filters joined).
app/services/people/org.py runs them where a list of ids is wanted.
"""

from __future__ import annotations

from sqlalchemy import CTE, Select, literal, select
from sqlalchemy.orm import aliased

from app.models import User, mentorships

# Reporting lines are kept acyclic; the bound only protects against data damaged outside Rungs.
MAX_DEPTH = 64

# Made once: aliasing User costs about 1 ms each time (every column is proxied), more than
# the queries below take to run. An alias holds no data, and each is used by one statement
# builder, whose statements execute separately or as subqueries in their own scope.
_UPPER, _LOWER = aliased(User), aliased(User)


def chain_above(person_id: int) -> CTE:
    """(id, depth) of the person's manager (depth 1), their manager, and so on to the top."""
    chain = (
        select(User.manager_id.label("id"), literal(1).label("depth"))
        .where(User.id == person_id)
        .cte(recursive=True)
    )
    upper = _UPPER
    return chain.union_all(
        select(upper.manager_id, chain.c.depth + 1).where(
            upper.id == chain.c.id, chain.c.depth < MAX_DEPTH
        )
    )


def managers_above_query(person_id: int) -> Select:
    """Ids of the person's managers up the line."""
    chain = chain_above(person_id)
    return select(chain.c.id).where(chain.c.id.is_not(None))


def reports_below_query(manager_id: int) -> Select:
    """Ids of everyone who reports to the manager, directly or through others."""
    tree = (
        select(User.id, literal(1).label("depth"))
        .where(User.manager_id == manager_id)
        .cte(recursive=True)
    )
    lower = _LOWER
    tree = tree.union_all(
        select(lower.id, tree.c.depth + 1).where(
            lower.manager_id == tree.c.id, tree.c.depth < MAX_DEPTH
        )
    )
    return select(tree.c.id)


def mentors_of_query(person_id: int) -> Select:
    return select(mentorships.c.mentor_id).where(mentorships.c.mentee_id == person_id)


def mentees_of_query(person_id: int) -> Select:
    return select(mentorships.c.mentee_id).where(mentorships.c.mentor_id == person_id)


def teammates_query(person_id: int) -> Select:
    """Ids of the people who share the person's manager (not the person): their team."""
    manager = select(User.manager_id).where(User.id == person_id).scalar_subquery()
    return select(User.id).where(User.manager_id == manager, User.id != person_id)


def manager_of_query(person_id: int) -> Select:
    """The person's direct manager's id (no row when they have none)."""
    return select(User.manager_id).where(User.id == person_id, User.manager_id.is_not(None))
