"""A person's level over time: every change of level closes one placement and opens the next.

Sources: "placed" (people admin), "framework" (publishing a version moved people along) and
"promotion" (a published promotion cycle). People placed before the history existed have no
open placement; their first move keeps their old level too, dated from when their account was
made (the earliest date Rungs knows for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Level, LevelPlacement, PromotionCase, PromotionCycle, Track, User
from app.models.base import utcnow

SOURCES = ("placed", "framework", "promotion")
SOURCE_LABELS = {
    "placed": "Placed by the head of product",
    "framework": "New framework version",
    "promotion": "Promotion",
}


def _open_placement(user_id: int) -> LevelPlacement | None:
    return db.session.execute(
        select(LevelPlacement)
        .where(LevelPlacement.user_id == user_id, LevelPlacement.ended_at.is_(None))
        .order_by(LevelPlacement.started_at.desc(), LevelPlacement.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def move(
    user: User,
    level_id: int | None,
    *,
    source: str,
    case_id: int | None = None,
    at: datetime | None = None,
) -> LevelPlacement | None:
    """Put `user` on `level_id` (None: on no level) and keep the level they leave, with dates.

    Nothing happens when the level does not change. Returns the new open placement.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown placement source {source!r}")
    current = _open_placement(user.id)
    if level_id == user.level_id and (current is None or current.level_id == level_id):
        return current
    at = at or utcnow()
    if current is None and user.level_id is not None:
        # Placed before level history was kept: keep that level, from the earliest known date.
        current = LevelPlacement(
            user_id=user.id, level_id=user.level_id, started_at=user.created_at, source="placed"
        )
        db.session.add(current)
    if current is not None:
        current.ended_at = at
    user.level_id = level_id
    placement = None
    if level_id is not None:
        placement = LevelPlacement(
            user_id=user.id, level_id=level_id, started_at=at, source=source, case_id=case_id
        )
        db.session.add(placement)
    db.session.flush()
    return placement


@dataclass(frozen=True)
class Entry:
    """One level a person held, for their profile."""

    level_code: str
    level_title: str
    track_name: str
    framework_name: str
    started_at: datetime
    ended_at: datetime | None
    source: str
    cycle_name: str | None  # the promotion cycle, for promotions

    @property
    def source_label(self) -> str:
        label = SOURCE_LABELS.get(self.source, self.source)
        return f"{label} ({self.cycle_name})" if self.cycle_name else label

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


def history(person_id: int) -> list[Entry]:
    """Every level the person held, newest first, in one query."""
    rows = db.session.execute(
        select(LevelPlacement, PromotionCycle.name)
        .outerjoin(PromotionCase, LevelPlacement.case_id == PromotionCase.id)
        .outerjoin(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(LevelPlacement.user_id == person_id)
        .options(joinedload(LevelPlacement.level).joinedload(Level.track).joinedload(Track.version))
        .order_by(LevelPlacement.started_at.desc(), LevelPlacement.id.desc())
    ).all()
    return [
        Entry(
            level_code=p.level.code,
            level_title=p.level.title,
            track_name=p.level.track.name,
            framework_name=p.level.track.version.name,
            started_at=p.started_at,
            ended_at=p.ended_at,
            source=p.source,
            cycle_name=cycle_name,
        )
        for p, cycle_name in rows
    ]
