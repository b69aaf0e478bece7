"""Since when a person's evidence counts toward the level above theirs.

Evidence shown for a level they already hold says nothing about the next one, so readiness counts
only items dated on or after the day the person reached their current level. A new framework
version that moved them along keeps that day; a first placement (no level before it) or no level
history at all counts everything.

A promotion case counts the same way from the level the case starts at: its level history is read
as it stood when the case closed (the cycle's publication, or the withdrawal), so that the
promotion the case itself brought, or a later one, does not empty its grid cells and its packet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import LevelPlacement, PromotionCase


def level_reached(
    person_ids: Iterable[int], *, as_of: Mapping[int, datetime] | None = None
) -> dict[int, date]:
    """person id → the day they reached their current level; people whose evidence all counts
    are left out. `as_of` reads a person's history as it stood just before that moment (one
    moment per person). One query."""
    person_ids = list(person_ids)
    if not person_ids:
        return {}
    as_of = as_of or {}
    rows = db.session.execute(
        select(LevelPlacement.user_id, LevelPlacement.started_at)
        .add_columns(LevelPlacement.ended_at, LevelPlacement.source)
        .where(LevelPlacement.user_id.in_(person_ids))
        .order_by(LevelPlacement.user_id, LevelPlacement.id)  # in the order of the moves
    ).all()
    placements = defaultdict(list)
    for row in rows:
        moment = as_of.get(row.user_id)
        if moment is None or row.started_at < moment:
            placements[row.user_id].append(row)
    reached = {}
    for person, held in placements.items():
        moment = as_of.get(person)
        if held[-1].ended_at is not None and (moment is None or held[-1].ended_at < moment):
            continue  # on no level now (or then)
        index = len(held) - 1
        while index > 0 and held[index].source == "framework":
            index -= 1
        if index > 0:
            reached[person] = held[index].started_at.date()
    return reached


def case_closed_at(case: PromotionCase) -> datetime | None:
    """The moment a case's level history is read at: its withdrawal or its cycle's publication
    (when the promoted moved on); None while it is open (now). The case's cycle must be loaded."""
    return case.withdrawn_at or case.cycle.published_at


def case_level_reached(cases: Iterable[PromotionCase]) -> dict[int, date]:
    """candidate id → the day they reached the level their case starts at, for cases with one
    candidate each (a session's, a cycle's); candidates whose evidence all counts are left out.
    One query for every case."""
    cases = list(cases)
    as_of = {c.candidate_id: moment for c in cases if (moment := case_closed_at(c)) is not None}
    return level_reached({c.candidate_id for c in cases}, as_of=as_of)
