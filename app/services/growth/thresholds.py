"""Readiness thresholds: when a competency's evidence counts as enough, set by the head of product.

Stored as one JSON row in `settings`; checked, audited, and read back with the defaults filling
anything missing or damaged. `levels` holds the items needed at particular levels (by level code),
for ladders where a higher level should show more evidence than the general number.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app import policy
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.models import FrameworkVersion, Level, Setting, VersionStatus
from app.services import org_settings

SETTING_KEY = "readiness"


@dataclass(frozen=True)
class Thresholds:
    min_items: int = 3
    min_corroborated: int = 1
    recent_days: int = 365
    window_months: int = 24
    levels: dict[str, int] = field(default_factory=dict)  # level code → items needed there

    def items_at(self, code: str | None, rank: int) -> int:
        """Items needed at a level: the number set for it, else one more than the general
        number for each rung above the second of its career path (rank 1 is the lowest level)."""
        return self.levels.get(code or "", default_items(self.min_items, rank))

    def for_level(self, code: str | None, rank: int) -> Thresholds:
        """The thresholds at a level (its rung in its career path, from 1): its own number of
        items."""
        items = self.items_at(code, rank)
        return self if items == self.min_items else replace(self, min_items=items)


def default_items(general: int, rank: int) -> int:
    """Higher levels need more evidence by default: the general number up to the second rung of
    a career path, then one more item per rung, within the limit."""
    return min(general + max(0, rank - 2), LIMITS["min_items"][1])


DEFAULTS = Thresholds()
# field → (lowest, highest, what it is called in messages)
LIMITS = {
    "min_items": (1, 100, "The number of items"),
    "min_corroborated": (0, 100, "The number of corroborated items"),
    "recent_days": (1, 3660, "The number of days"),
    "window_months": (1, 120, "The number of months"),
}


@dataclass(frozen=True)
class StoredThresholds:
    """The thresholds in force and a token of the saved row, to catch two people saving at once."""

    thresholds: Thresholds
    token: str  # "" while the defaults were never changed
    is_default: bool


def level_field(code: str) -> str:
    """The form field (and error target) of the items needed at a level."""
    return "level_" + re.sub(r"\W", "_", code)


@dataclass(frozen=True)
class ThresholdsSettings:
    stored: StoredThresholds
    levels: list[tuple[str, str, int]]  # (code, title, rank) of published career paths' levels


def thresholds_settings() -> ThresholdsSettings:
    """The settings page: thresholds in force and the levels one may set items for."""
    ranked = (
        select(Level.code, Level.title, level_rank().label("rank"))
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.code, func.min(ranked.c.title), func.min(ranked.c.rank))
        .group_by(ranked.c.code)
        .order_by(func.min(ranked.c.rank), ranked.c.code)
    ).all()
    return ThresholdsSettings(stored_thresholds(), [tuple(row) for row in rows])


# Made once: aliasing a mapped class costs about 1 ms each time (every column is proxied).
_LOWER_LEVEL = aliased(Level)


def level_rank():
    """A level's rung in its career path, from 1 (a column for a select over Level): one more
    than the number of distinct ranks below its own in its version, on any track, so a level
    that starts a second track (a Lead PM, ranked with Group PM) needs the evidence its
    seniority does."""
    lower = _LOWER_LEVEL
    return (
        select(func.count(lower.rank.distinct()) + 1)
        .where(lower.version_id == Level.version_id, lower.rank < Level.rank)
        .correlate(Level)
        .scalar_subquery()
    )


def stored_thresholds() -> StoredThresholds:
    row = db.session.get(Setting, SETTING_KEY)
    if row is None:
        return StoredThresholds(DEFAULTS, "", True)
    return StoredThresholds(_from_json(row.value), row.updated_at.isoformat(), False)


def thresholds() -> Thresholds:
    return stored_thresholds().thresholds


def save_thresholds(actor, wanted: Thresholds, *, expected_token: str) -> Thresholds:
    """Check and store new thresholds (audited); a stale `expected_token` is a conflict."""
    policy.authorize(actor, "settings.manage")
    check_thresholds(wanted)
    current = stored_thresholds()
    if current.token != expected_token:
        raise ConflictError(
            "Someone else saved the thresholds while you were editing.",
            current=asdict(current.thresholds),
        )
    org_settings.save(
        actor,
        SETTING_KEY,
        asdict(wanted),
        action="settings.readiness_changed",
        before=asdict(current.thresholds),
        after=asdict(wanted),
    )
    return wanted


def check_thresholds(wanted: Thresholds) -> None:
    """ValidationError naming the field when a number is not whole or out of its range."""
    for name, (low, high, what) in LIMITS.items():
        value = getattr(wanted, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError("Enter a whole number.", field=name)
        if not low <= value <= high:
            raise ValidationError(f"{what} must be between {low} and {high}.", field=name)
    if wanted.min_corroborated > wanted.min_items:
        raise ValidationError(
            f"At most {wanted.min_items}: the corroborated items are among the "
            f"{wanted.min_items} items counted.",
            field="min_corroborated",
        )
    low, high, _what = LIMITS["min_items"]
    for code, items in wanted.levels.items():
        name = level_field(code)
        if not isinstance(items, int) or isinstance(items, bool):
            raise ValidationError("Enter a whole number, or leave it blank.", field=name)
        if not low <= items <= high:
            raise ValidationError(
                f"The number of items at {code} must be between {low} and {high}.", field=name
            )
        if wanted.min_corroborated > items:
            raise ValidationError(
                f"At least {wanted.min_corroborated}: the corroborated items are among the "
                f"items counted at {code}.",
                field=name,
            )
    if wanted.recent_days > wanted.window_months * 31:
        raise ValidationError(
            f"At most {wanted.window_months * 31} days: the newest item must fall inside the "
            f"{wanted.window_months} months that are counted.",
            field="recent_days",
        )


def _from_json(value) -> Thresholds:
    """Stored values, falling back to the default for anything missing or damaged."""
    value = value if isinstance(value, dict) else {}
    merged = {
        f.name: value[f.name]
        if isinstance(value.get(f.name), int) and not isinstance(value.get(f.name), bool)
        else getattr(DEFAULTS, f.name)
        for f in fields(Thresholds)
        if f.name != "levels"
    }
    levels = value.get("levels")
    merged["levels"] = (
        {
            str(code): items
            for code, items in levels.items()
            if isinstance(items, int) and not isinstance(items, bool)
        }
        if isinstance(levels, dict)
        else {}
    )
    try:
        result = Thresholds(**merged)
        check_thresholds(result)
    except ValidationError:
        return DEFAULTS
    return result
