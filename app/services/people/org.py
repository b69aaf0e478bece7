"""Reporting lines, read with one recursive query each whatever the depth (app/policy/lines.py)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.policy.lines import chain_above, mentors_of_query, reports_below_query


def managers_above(person_id: int) -> list[int]:
    """Ids of the person's manager, their manager, and so on up to the top, nearest first."""
    chain = chain_above(person_id)
    rows = db.session.execute(
        select(chain.c.id).where(chain.c.id.is_not(None)).order_by(chain.c.depth)
    )
    return list(rows.scalars())


def reports_below(manager_id: int) -> list[int]:
    """Ids of everyone who reports to the manager, directly or through others."""
    return list(db.session.execute(reports_below_query(manager_id)).scalars())


def mentors_of(person_id: int) -> list[int]:
    return list(db.session.execute(mentors_of_query(person_id)).scalars())
