"""Since when a person's evidence counts toward the level above theirs.

Evidence shown for a level they already hold says nothing about the next one, so readiness counts
only items dated on or after the day the person reached their current level. A new framework
version that moved them along keeps that day; a first placement (no level before it) or no level
history at all counts everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import LevelPlacement


def level_reached(person_ids: Iterable[int]) -> dict[int, date]:
    """person id → the day they reached their current level; people whose evidence all counts
    are left out. One query."""
    person_ids = list(person_ids)
    if not person_ids:
        return {}
    rows = db.session.execute(
        select(LevelPlacement.user_id, LevelPlacement.started_at)
        .add_columns(LevelPlacement.ended_at, LevelPlacement.source)
        .where(LevelPlacement.user_id.in_(person_ids))
        .order_by(LevelPlacement.user_id, LevelPlacement.id)  # in the order of the moves
    ).all()
    placements = defaultdict(list)
    for row in rows:
        placements[row.user_id].append(row)
    reached = {}
    for person, held in placements.items():
        if held[-1].ended_at is not None:
            continue  # on no level now
        index = len(held) - 1
        while index > 0 and held[index].source == "framework":
            index -= 1
        if index > 0:
            reached[person] = held[index].started_at.date()
    return reached
