"""A meeting as an .ics file the two import into their own calendars: Rungs writes to none."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from icalendar import Calendar, Event

from app.models import User
from app.models.base import utcnow
from app.services.oneonones.pages import pair_view
from app.services.oneonones.spaces import get_meeting


def meeting_ics(viewer: User, meeting_id: int, *, url: str, host: str) -> tuple[bytes, str]:
    """(the calendar file, its file name). The event names the two and links the meeting's
    page; the agenda and notes stay in Rungs, where only the two can read them."""
    meeting, pair_row = get_meeting(viewer, meeting_id)
    pair = pair_view(viewer, pair_row)
    calendar = Calendar()
    calendar.add("prodid", "-//Rungs//1:1s//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{host}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    with suppress(OverflowError):  # a meeting stored at the end of time: its start only
        event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", f"1:1: {pair.lead_name} / {pair.member_name}")
    event.add("description", f"Agenda and notes in Rungs: {url}")
    event.add("url", url)
    event.add("sequence", meeting.revision)
    calendar.add_component(event)
    name = f"1-1-{meeting.starts_at:%Y-%m-%d}.ics"
    return calendar.to_ical(), name
