"""What the editor's forms send, and the checks every part's text goes through."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.errors import ValidationError
from app.models import CellStatus, DaciRole
from app.services.frameworks.document import (
    CODE_PATTERN,
    KEY_PATTERN,
    NAME_MAX,
    SHORT_NAME_MAX,
    TEXT_MAX,
    IndicatorDoc,
)
from app.services.frameworks.keys import slugify

KEY_MAX = 60
COMPETENCY_KEY_MAX = 80
SLUG_MAX = 80
CODE_MAX = 30


@dataclass
class NewFramework:
    slug: str
    name: str
    description: str
    track_key: str
    track_name: str
    level_code: str
    level_title: str
    area_name: str
    competency_name: str


@dataclass
class LevelInput:
    code: str
    title: str
    rank: int | None
    summary: str = ""
    scope: str = ""
    typical_experience: str = ""


@dataclass
class TrackInput:
    """A track; a new one comes with its `first` level, so no track is ever empty."""

    key: str
    name: str
    first: LevelInput | None = None


@dataclass
class DecisionInput:
    decision: str
    role: DaciRole
    delegation: int


@dataclass
class CompetencyInput:
    key: str
    name: str
    description: str
    area_id: int
    track_ids: list[int]
    drop_written_cells: bool = False
    short_name: str = ""  # the grid's column header; "" derives one from the name


@dataclass
class AreaInput:
    """An area; a new one comes with its `first` competency, so no area is ever empty."""

    key: str
    name: str
    description: str = ""
    first: CompetencyInput | None = None


@dataclass
class CellInput:
    status: CellStatus
    text: str = ""
    indicators: list[IndicatorDoc] = field(default_factory=list)


# --- checks -------------------------------------------------------------------------------------


def line(value: str | None, field_name: str, what: str, *, required=True, limit=NAME_MAX) -> str:
    """One line of text, blank space collapsed; `what` names it in "Enter …"."""
    value = " ".join((value or "").split())
    if required and not value:
        raise ValidationError(f"Enter {what}.", field=field_name)
    if len(value) > limit:
        raise ValidationError(f"Use at most {limit} characters.", field=field_name)
    return value


def short_name(value: str | None, field_name: str) -> str:
    """A competency's short name: one line of at most SHORT_NAME_MAX characters, or ""."""
    value = " ".join((value or "").split())
    if len(value) > SHORT_NAME_MAX:
        raise ValidationError(
            f"Use at most {SHORT_NAME_MAX} characters (this has {len(value)}), or leave it "
            "empty to have Rungs shorten the name.",
            field=field_name,
        )
    return value


def prose(value: str | None, field_name: str, limit: int = TEXT_MAX) -> str:
    """Multi-line text: line endings made plain, blank space trimmed at both ends."""
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise ValidationError(
            f"Use at most {limit:,} characters (this has {len(value):,}).", field=field_name
        )
    return value


def key(value: str | None, name: str, field_name: str, limit: int) -> str:
    """A key as typed, or made from the name when left empty."""
    found = (value or "").strip() or slugify(name, "")
    if not found:
        raise ValidationError("Enter a key.", field=field_name)
    if len(found) > limit:
        raise ValidationError(f"Use at most {limit} characters.", field=field_name)
    if not KEY_PATTERN.match(found):
        raise ValidationError(
            f'"{found}" is not a key: use lower-case letters, digits and single dashes, '
            'such as "product-strategy".',
            field=field_name,
        )
    return found


def code(value: str | None, field_name: str) -> str:
    """A level code such as PM3."""
    found = (value or "").strip()
    if not found:
        raise ValidationError("Enter a code, such as PM3.", field=field_name)
    if not CODE_PATTERN.match(found):
        raise ValidationError(
            f'"{found}" is not a level code: use 1 to {CODE_MAX} letters, digits, ".", "_" or '
            '"-", starting with a letter or digit.',
            field=field_name,
        )
    return found


def unused(value: str, taken: dict[str, str], field_name: str, what: str) -> None:
    """Refuse a key or code that another part (named in `taken`) uses already."""
    if value in taken:
        raise ValidationError(
            f'{taken[value]} uses the {what} "{value}" already; each needs its own.',
            field=field_name,
        )


def count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
