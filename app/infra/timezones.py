"""Time zones: instants are stored in UTC and shown in the viewer's zone (an IANA name such as
"Europe/Berlin", kept on `User.time_zone`). A time a person types ("17:00 on 12 March") is read in
their zone; a time that the clocks skip when they go forward does not exist and is refused, and
one that happens twice when they go back means the first of the two."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT = "UTC"
NAME_MAX = 64


class NonexistentTimeError(ValueError):
    """A local time inside the hour that the clocks skip."""


@cache
def known_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted; the old aliases ("US/Eastern") are left out of the list a
    person chooses from, though they are still understood."""
    names = (n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "US/")))
    return (*sorted(names), "UTC")


def is_known(name: str | None) -> bool:
    if not name or len(name) > NAME_MAX:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None) -> ZoneInfo:
    """The zone of that name, or UTC for an empty or unknown one (never an error on a page)."""
    return ZoneInfo(name) if is_known(name) else ZoneInfo(DEFAULT)


def local(instant: datetime, name: str | None) -> datetime:
    """A UTC instant as the wall-clock time in the zone."""
    return instant.astimezone(zone(name))


def to_utc(wall: datetime, name: str | None) -> datetime:
    """A naive wall-clock time in the zone as a UTC instant. In the hour the clocks go back it
    means the first occurrence; in the hour they skip it raises NonexistentTimeError."""
    tz = zone(name)
    placed = wall.replace(tzinfo=tz, fold=0)
    instant = placed.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise NonexistentTimeError(
            f"{wall:%H:%M} on {wall.day} {wall:%B %Y} does not exist in {tz.key}: the clocks go "
            "forward then. Choose another time."
        )
    return instant


def abbreviation(instant: datetime, name: str | None) -> str:
    """The zone's short name at that instant ("CET", "CEST", "EDT"), or its offset when it has
    none ("+0530" for zones whose abbreviation is a number)."""
    shown = local(instant, name)
    short = shown.tzname() or ""
    if short and short[0] not in "+-":
        return short
    return shown.strftime("UTC%z")


def format_instant(instant: datetime | None, name: str | None, *, with_time: bool = True) -> str:
    """ "Fri 12 Mar 2027, 17:00 CET" in the zone; "" for no instant."""
    if instant is None:
        return ""
    shown = local(instant, name)
    day = f"{shown:%a} {shown.day} {shown:%b %Y}"
    if not with_time:
        return day
    return f"{day}, {shown:%H:%M} {abbreviation(instant, name)}"


def input_value(instant: datetime | None, name: str | None) -> str:
    """The value of an `<input type="datetime-local">` showing the instant in the zone."""
    if instant is None:
        return ""
    return local(instant, name).strftime("%Y-%m-%dT%H:%M")


def parse_input(text: str | None) -> datetime | None:
    """A `datetime-local` input's value ("2027-03-12T17:00") as a naive datetime, None when
    empty; ValueError when it is not a date and time."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError("Give a date and a time, for example 2027-03-12 17:00.")
