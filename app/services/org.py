"""Reporting lines, read with one recursive query each whatever the depth."""

from __future__ import annotations

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import User, mentorships

# Reporting lines are kept acyclic; the bound only protects against data damaged outside Rungs.
MAX_DEPTH = 64


def managers_above(person_id: int) -> list[int]:
    """Ids of the person's manager, their manager, and so on up to the top, nearest first."""
    chain = _chain_above(person_id)
    rows = db.session.execute(
        select(chain.c.id).where(chain.c.id.is_not(None)).order_by(chain.c.depth)
    )
    return list(rows.scalars())


def managers_above_query(person_id: int) -> Select:
    """`managers_above` as a subquery, for conditions that must cost no query of their own."""
    chain = _chain_above(person_id)
    return select(chain.c.id).where(chain.c.id.is_not(None))


def _chain_above(person_id: int):
    chain = (
        select(User.manager_id.label("id"), literal(1).label("depth"))
        .where(User.id == person_id)
        .cte(recursive=True)  # unnamed: a query may hold several
    )
    upper = aliased(User)
    return chain.union_all(
        select(upper.manager_id, chain.c.depth + 1).where(
            upper.id == chain.c.id, chain.c.depth < MAX_DEPTH
        )
    )


def reports_below(manager_id: int) -> list[int]:
    """Ids of everyone who reports to the manager, directly or through others."""
    return list(db.session.execute(reports_below_query(manager_id)).scalars())


def reports_below_query(manager_id: int) -> Select:
    """`reports_below` as a subquery, for conditions that must cost no query of their own."""
    tree = (
        select(User.id, literal(1).label("depth"))
        .where(User.manager_id == manager_id)
        .cte(recursive=True)  # unnamed: a query may hold several
    )
    lower = aliased(User)
    tree = tree.union_all(
        select(lower.id, tree.c.depth + 1).where(
            lower.manager_id == tree.c.id, tree.c.depth < MAX_DEPTH
        )
    )
    return select(tree.c.id)


def mentors_of(person_id: int) -> list[int]:
    return list(db.session.execute(mentors_of_query(person_id)).scalars())


def mentors_of_query(person_id: int) -> Select:
    return select(mentorships.c.mentor_id).where(mentorships.c.mentee_id == person_id)


def mentees_of_query(person_id: int) -> Select:
    return select(mentorships.c.mentee_id).where(mentorships.c.mentor_id == person_id)
