"""Reading the coaching sections of an uploaded export into plain values, or problems.

Nothing here touches the database: every value is checked for its type, range and length first
(the import then stores all or nothing). A value of the wrong type is a problem naming where it
is; a field this Rungs does not know is noted and ignored (a newer export may have more).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from app.core.errors import ValidationError
from app.infra.text import unwanted_character
from app.services.personal_data.upload import text_at

UNKNOWN_SHOWN = 20


class Reader:
    """Checks values at one place of the file, remembering unknown field names."""

    def __init__(self) -> None:
        self.unknown: set[str] = set()

    def mapping(self, value: Any, where: str, allowed: set[str], section: str) -> dict:
        if not isinstance(value, dict):
            raise ValidationError(f"{where} is not an object.")
        for key in value:
            if key not in allowed and len(self.unknown) < UNKNOWN_SHOWN:
                self.unknown.add(f"{section}.{_printable(key)}")
        return value

    @staticmethod
    def listed(values: dict, key: str, where: str, most: int) -> list:
        found = values.get(key)
        if found is None:
            return []
        if not isinstance(found, list):
            raise ValidationError(f"{where}'s {key} must be a list.")
        if len(found) > most:
            raise ValidationError(
                f"{where} has {len(found):,} {key}; an export holds at most {most:,}."
            )
        return found

    @staticmethod
    def text(values: dict, key: str, where: str, most: int, required: bool = False) -> str:
        found = text_at(values, key, where).strip()
        if required and not found:
            raise ValidationError(f"{where} has no {key}.")
        if len(found) > most:
            raise ValidationError(f"{where}'s {key} is longer than {most:,} characters.")
        return found

    @staticmethod
    def moment(values: dict, key: str, where: str, required: bool = False) -> datetime | None:
        found = text_at(values, key, where)
        if not found:
            if required:
                raise ValidationError(f"{where} has no {key}.")
            return None
        try:
            moment = datetime.fromisoformat(found.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{where}'s {key} {shown(found)} is not a time like 2026-03-02T09:00:00Z."
            ) from None
        if moment.tzinfo is None:
            raise ValidationError(f"{where}'s {key} {shown(found)} has no time zone (Z).")
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:30:00+01:00 is before the first moment in UTC
            raise ValidationError(
                f"{where}'s {key} {shown(found)} is out of the range of dates."
            ) from None

    @staticmethod
    def day(values: dict, key: str, where: str) -> date | None:
        found = text_at(values, key, where)
        if not found:
            return None
        try:
            return date.fromisoformat(found)
        except ValueError:
            raise ValidationError(f"{where}'s {key} {shown(found)} is not YYYY-MM-DD.") from None

    @staticmethod
    def choice(values: dict, key: str, where: str, kind: type[enum.Enum], default=None):
        found = values.get(key)
        if found is None and default is not None:
            return default
        try:
            return kind(found)
        except (ValueError, TypeError):
            known = ", ".join(str(member.value) for member in kind)
            raise ValidationError(
                f"{where}'s {key} {shown(found)} is not one of {known}."
            ) from None

    @staticmethod
    def number(values: dict, key: str, where: str, low: int, high: int, required: bool = False):
        found = values.get(key)
        if found is None and not required:
            return None
        if isinstance(found, bool) or not isinstance(found, int) or not low <= found <= high:
            raise ValidationError(
                f"{where}'s {key} {shown(found)} is not a whole number from {low} to {high}."
            )
        return found

    @staticmethod
    def who(values: dict, key: str, where: str) -> str | None:
        found = values.get(key)
        if found is None or found in ("you", "them"):
            return found
        raise ValidationError(f'{where}\'s {key} {shown(found)} is not "you" or "them".')

    @staticmethod
    def flag(values: dict, key: str, where: str) -> bool:
        found = values.get(key, False)
        if not isinstance(found, bool):
            raise ValidationError(f"{where}'s {key} must be true or false.")
        return found


def shown(value: Any) -> str:
    """A value from the file, short and printable (repr escapes control characters)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _printable(key: Any) -> str:
    if isinstance(key, str) and not unwanted_character(key) and len(key) <= 40:
        return key
    return shown(key)
